// The circuit generator without ngspice: calibrations are synthetic (the ideal circuit: every
// response equals its bias, every mirror gain its width ratio), so the tests see the generator
// alone.
#include "models/circuit_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "models/circuit_graph.hpp"
#include "models/demo_network.hpp"
#include "pdk/registry.hpp"

namespace bmru::models {
namespace {

// Mirrors whose gain is their width ratio, into either destination; unity bias mirrors.
void ideal_mirrors(MirrorCalibration& m, const std::vector<double>& ratio) {
  m.ratio = ratio;
  m.gain_n = m.gain_p = m.gain_n_high = m.gain_p_high = ratio;
  m.bias_ref_a = {1e-13, 1e-8};
  m.bias_gain_n = m.bias_gain_p = m.bias_gain_n_high = m.bias_gain_p_high = {8.0, 8.0};
}

CircuitOptions ideal() {
  CircuitOptions o;
  for (int i = 0; i < 12; ++i) {
    const double x = 50e-12 * std::pow(10e-9 / 50e-12, i / 11.0);
    o.cell.ithresh_a.push_back(x);
    o.cell.igain_a.push_back(x);
    o.cell.up_a.push_back(x);
    o.cell.on_a.push_back(x);
  }
  o.cell.fraction = {0.01, 0.1, 0.5, 1.0};
  for (double x : o.cell.ithresh_a) {
    std::vector<double> row;
    for (double f : o.cell.fraction) row.push_back(f * x);
    o.cell.width_a.push_back(row);
  }
  ideal_mirrors(o.mirror, {0.005, 0.05, 0.1, 0.3, 1.0, 3.0, 4.0, 5.0});
  return o;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Every parameter name of the network, as the map writes them.
std::set<std::string> parameters(const core::Network& net) {
  std::set<std::string> p;
  core::for_each_parameter(net, [&](const std::string& group, const char* field, const auto& array,
                                    core::ParameterKind kind) {
    const std::string f = group + "." + field;
    for (core::Index i = 0; i < array.rows(); ++i)
      if (kind == core::ParameterKind::weights)
        for (core::Index j = 0; j < array.cols(); ++j)
          p.insert(f + "[" + std::to_string(i) + "," + std::to_string(j) + "]");
      else
        p.insert(f + "[" + std::to_string(i) + "]");
  });
  return p;
}

TEST(CircuitModel, EveryParameterHasExactlyOneElementAndEveryElementOneParameter) {
  const core::Network net = demo_network();
  const CircuitModel c = build_circuit(net, *pdk::generic180(), ideal());
  const std::set<std::string> want = parameters(net);
  std::map<std::string, int> seen;
  for (const MapEntry& e : c.map) {
    if (e.parameter == "structural") {
      EXPECT_EQ(e.kind, "structural");
      EXPECT_FALSE(e.instance.empty());
      continue;
    }
    ++seen[e.parameter];
    EXPECT_TRUE(want.count(e.parameter)) << "unknown parameter " << e.parameter;
    if (e.kind == "pruned") {
      EXPECT_TRUE(e.instance.empty()) << e.parameter;
      continue;
    }
    // The element is in the netlist (instances are the first word of their line; a pair has two).
    std::istringstream parts(e.instance);
    for (std::string inst; std::getline(parts, inst, ',');) {
      if (inst.rfind(".ic", 0) == 0) continue;  // initial conditions are lines of their own
      EXPECT_NE(c.body.find("\n" + inst + " "), std::string::npos)
          << inst << " for " << e.parameter;
    }
  }
  for (const auto& p : want) EXPECT_EQ(seen[p], 1) << p;
  // Zero weights are pruned and only they.
  for (const MapEntry& e : c.map) {
    if (e.parameter.rfind("pre_proj.kernel", 0) == 0) {
      const auto i = std::stoi(e.parameter.substr(16)),
                 j = std::stoi(e.parameter.substr(e.parameter.find(',') + 1));
      EXPECT_EQ(e.kind == "pruned", net.pre_proj.kernel(i, j) == 0) << e.parameter;
    }
    // A logit weight reads u_2's bundle: the pre-projection's pair and two post-projection lines,
    // one output device each, every one listed.
    if (e.parameter.rfind("fc.kernel", 0) == 0 && e.kind != "pruned") {
      EXPECT_EQ(e.kind, "weight_mirror_set") << e.parameter;
      EXPECT_EQ(std::count(e.instance.begin(), e.instance.end(), ','), 3) << e.instance;
    }
  }
}

TEST(CircuitModel, WidthsAndBiasCurrentsRealiseTheParameters) {
  const core::Network net = demo_network();
  const CircuitModel c = build_circuit(net, *pdk::generic180(), ideal());
  const MirrorSizes sizes;
  for (const MapEntry& e : c.map) {
    if (e.parameter == "layer1.cand_kernel[0,1]" && net.layers[0].candidate.kernel(0, 1) != 0) {
      EXPECT_NEAR(e.value, std::abs(net.layers[0].candidate.kernel(0, 1)) * sizes.w_ref_m, 1e-12);
    }
    if (e.parameter == "layer2.alphas[3]") {  // the reference: 1 / bias_ratio of I_gain
      EXPECT_NEAR(e.value * CellSizes{}.bias_ratio, std::abs(net.layers[1].alphas(3)) * 1e-9,
                  1e-13);
    }
    if (e.parameter == "layer1.beta1[2]") {
      const auto k = cell_constants(net.layers[0]);
      EXPECT_NEAR(e.value * CellSizes{}.bias_ratio, k.beta_hi(2) * 1e-9,
                  1e-3 * k.beta_hi(2) * 1e-9);  // I_thresh = beta_hi
    }
  }
}

TEST(CircuitModel, GenerationIsDeterministicAndOneParameterChangesOneLine) {
  const core::Network net = demo_network();
  const auto tech = pdk::generic180();
  const CircuitModel a = build_circuit(net, *tech, ideal());
  EXPECT_EQ(a.body, build_circuit(net, *tech, ideal()).body);
  for (const auto& change : std::vector<std::function<void(core::Network&)>>{
           [](core::Network& n) {
             n.layers[0].candidate.kernel(1, 2) = n.layers[0].candidate.kernel(1, 2) ? 0.77 : 0;
           },
           [](core::Network& n) { n.layers[1].candidate.bias(0) = 0.45; },
           [](core::Network& n) { n.layers[1].alphas(2) = 1.11; }}) {
    core::Network other = net;
    change(other);
    if (other == net) continue;
    const auto x = lines(a.body), y = lines(build_circuit(other, *tech, ideal()).body);
    ASSERT_EQ(x.size(), y.size());
    int differ = 0;
    for (size_t i = 0; i < x.size(); ++i) differ += x[i] != y[i];
    EXPECT_EQ(differ, 1);
  }
}

TEST(CircuitModel, MismatchSeedGivesByteIdenticalNetlists) {
  const core::Network net = demo_network();
  const auto tech = pdk::generic180();
  CircuitOptions o = ideal();
  o.mismatch_seed = 5;
  const std::string a = build_circuit(net, *tech, o).body;
  EXPECT_EQ(a, build_circuit(net, *tech, o).body);
  EXPECT_NE(a.find("delvto="), std::string::npos);
  o.mismatch_seed = 6;
  EXPECT_NE(a, build_circuit(net, *tech, o).body);
}

// Issue 22: the ct engine's die is the netlist's. Every draw recorded is one the netlist carries
// (its current factor as mulu0), the die has one factor per element of the graph, and without a
// seed there is no die.
TEST(CircuitModel, MismatchDrawsAreTheNetlistsAndMakeTheCtDie) {
  const core::Network net = demo_network();
  const auto tech = pdk::generic180();
  CircuitOptions o = ideal();
  EXPECT_TRUE(build_circuit(net, *tech, o).draws.empty());
  EXPECT_TRUE(die_factors(build_circuit(net, *tech, o).draws, 0.036).nominal());
  o.mismatch_seed = 5;
  const CircuitModel m = build_circuit(net, *tech, o);
  std::multiset<std::string> in_netlist;
  for (const auto& line : lines(m.body))
    if (const auto at = line.find("mulu0="); at != std::string::npos)
      in_netlist.insert(line.substr(at + 6, line.find(' ', at) - at - 6));
  const auto& d = m.draws;
  // (A copy of a cell's output copies its M4, which is drawn nominal: a zero draw.)
  int checked = 0;
  for (const auto* v : {&d.copy, &d.copy_source, &d.bias_ref, &d.bias_out, &d.cell_in, &d.cell_ith,
                        &d.cell_iw, &d.cell_ig})
    for (const auto& draw : *v) {
      if (draw == pdk::MismatchDraw{}) continue;
      EXPECT_EQ(in_netlist.count(core::format_number(1 + draw.dbeta)), 1u) << draw.dbeta;
      ++checked;
    }
  const CircuitGraph g = build_graph(m.network);
  EXPECT_EQ(d.copy.size(), g.copies.size());
  EXPECT_EQ(d.bias_ref.size(), g.biases.size());
  EXPECT_EQ(d.cell_ith.size(), g.cells.size());
  EXPECT_GT(checked, 100);
  const CtDie die = die_factors(d, 0.036);
  EXPECT_EQ(die.copy.size(), g.copies.size());
  EXPECT_EQ(die.cell_in.size(), g.cells.size());
  double spread = 0;
  for (const double f : die.copy) {
    EXPECT_GT(f, 0.5);
    EXPECT_LT(f, 2.0);
    spread = std::max(spread, std::abs(f - 1));
  }
  EXPECT_GT(spread, 0.01);  // a die, not the nominal circuit
  // A copy whose device and line diode draw alike copies exactly.
  DeviceDraws same = d;
  same.copy_source = same.copy;
  for (const double f : die_factors(same, 0.036).copy) EXPECT_DOUBLE_EQ(f, 1.0);
}

TEST(CircuitModel, OutOfRangeNetworksAreRejectedNamingTheParameterOrClampedWithAReport) {
  core::Network net = demo_network();
  net.layers[0].candidate.kernel(0, 0) = 7.5;
  net.fc.bias(1) = 0.003;  // 3 pA
  try {
    build_circuit(net, *pdk::generic180(), ideal());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer1.cand_kernel[0,0]"), std::string::npos) << e.what();
    // 3 pA is below the smallest bias: dropped (a realisation), not refused.
    EXPECT_EQ(std::string(e.what()).find("fc.bias[1]"), std::string::npos) << e.what();
  }
  CircuitOptions o = ideal();
  o.clamp = true;
  const CircuitModel c = build_circuit(net, *pdk::generic180(), o);
  ASSERT_EQ(c.clamped.size(), 1u);
  EXPECT_EQ(c.clamped[0].parameter, "layer1.cand_kernel[0,0]");
  EXPECT_EQ(c.clamped[0].requested, 7.5);
  EXPECT_EQ(c.clamped[0].realised, 4.0);
  // A bias below the smallest realisable is dropped without any option (a realisation).
  ASSERT_EQ(c.realised.size(), 1u);
  EXPECT_EQ(c.realised[0].parameter, "fc.bias[1]");
  EXPECT_EQ(c.realised[0].realised, 0.0);
}

TEST(CircuitModel, PortMapNamesEveryProbeTheEngineExposes) {
  const core::Network net = demo_network();
  const CircuitModel c = build_circuit(net, *pdk::generic180(), ideal());
  ASSERT_EQ(c.ports.inputs.size(), 13u);
  ASSERT_EQ(c.ports.layers.size(), 2u);
  EXPECT_EQ(c.ports.layers[1].candidate[3], "vcand_l2_c3#branch");
  EXPECT_EQ(c.ports.layers[0].state[0], "v.xcell_l1_c0.vs#branch");
  // u_1 = u_0 + layer 1's post-projection: three probes, their currents added.
  EXPECT_EQ(c.ports.layers[0].output[2].pos,
            (std::vector<std::string>{"vout_l0_c2p#branch", "vout_l1_c2#branch"}));
  EXPECT_EQ(
      c.ports.layers[1].output[2].pos,
      (std::vector<std::string>{"vout_l0_c2p#branch", "vout_l1_c2#branch", "vout_l2_c2#branch"}));
  EXPECT_EQ(c.ports.layers[1].output[2].neg, std::vector<std::string>{"vout_l0_c2n#branch"});
  EXPECT_EQ(c.ports.logits[1].pos, "vlogit_y1p#branch");
  EXPECT_EQ(c.inputs.size(), 26u);
  EXPECT_EQ(c.initial_conditions.size(), 8u);
}

}  // namespace
}  // namespace bmru::models

namespace bmru::models {
namespace {

// Trained networks: tiny weights and biases are dropped, too narrow bands widened, without any
// option; each change is listed; what remains is exactly the network.
TEST(Realisation, TinyParametersAreDroppedAndNarrowBandsWidenedWithoutAnyOption) {
  core::Network net = demo_network();
  net.pre_proj.kernel(1, 2) = -0.004;
  net.layers[1].post.bias(0) = 0.003;  // 3 pA at 1 nA per unit
  net.layers[0].beta1(1) = 0.999;
  net.layers[0].delta(1) = 0.001;  // a 1 pA band at beta_hi = 1 nA: narrower than 3 % + 5 pA
  const CircuitModel c = build_circuit(net, *pdk::generic180(), ideal());
  ASSERT_EQ(c.realised.size(), 4u);
  EXPECT_EQ(c.realised[0].parameter, "pre_proj.kernel[1,2]");
  EXPECT_EQ(c.realised[0].requested, -0.004);
  EXPECT_EQ(c.realised[0].realised, 0.0);
  EXPECT_EQ(c.realised[1].parameter, "layer1.delta[1]");
  EXPECT_NEAR(c.realised[1].realised, 0.03 + 0.005, 1e-12);  // 3 % of beta_hi + 5 pA
  EXPECT_EQ(c.realised[2].parameter, "layer1.beta1[1]");
  EXPECT_NEAR(c.realised[2].realised, 1.0 - 0.035, 1e-12);  // beta_hi kept
  EXPECT_EQ(c.realised[3].parameter, "layer2.post_bias[0]");
  EXPECT_EQ(c.network.pre_proj.kernel(1, 2), 0.0);
  EXPECT_EQ(c.network.layers[1].post.bias(0), 0.0);
  EXPECT_EQ(c.network.pre_proj.kernel(0, 0), net.pre_proj.kernel(0, 0));
  for (const auto& row : c.map)
    EXPECT_FALSE(row.parameter == "pre_proj.kernel[1,2]" && row.kind != "pruned") << row.kind;
}

// A band wider than the cell realises at its beta_hi is refused naming the parameter, or with
// --clamp made the widest it realises.
TEST(Realisation, BandsTooWideForTheCellAreNamedOrClamped) {
  CircuitOptions o = ideal();
  o.cell.fraction = {0.01, 0.1, 0.5, 0.9};  // the ideal cell then tops out at 90 % of beta_hi
  for (size_t i = 0; i < o.cell.ithresh_a.size(); ++i)
    for (size_t j = 0; j < o.cell.fraction.size(); ++j)
      o.cell.width_a[i][j] = o.cell.fraction[j] * o.cell.ithresh_a[i];
  core::Network net = demo_network();
  net.layers[1].beta1(2) = 0.05;
  net.layers[1].delta(2) = 0.95;  // 95 % of beta_hi
  try {
    build_circuit(net, *pdk::generic180(), o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer2.delta[2]"), std::string::npos) << e.what();
  }
  o.clamp = true;
  const CircuitModel c = build_circuit(net, *pdk::generic180(), o);
  ASSERT_EQ(c.clamped.size(), 2u);
  EXPECT_EQ(c.clamped[0].parameter, "layer2.delta[2]");
  EXPECT_NEAR(c.clamped[0].realised, 0.9, 1e-9);
  EXPECT_NEAR(c.network.layers[1].beta1(2) + c.network.layers[1].delta(2), 1.0, 1e-12);
}

}  // namespace
}  // namespace bmru::models

namespace bmru::models {
namespace {

// A technology whose calibrated mirrors stop above 0.01 (gf180mcu's longest copy): a weight below
// its smallest is dropped like any weight below the range, not refused.
TEST(Realisation, TheSmallestWeightIsTheCalibratedMirrorsOwn) {
  CircuitOptions o = ideal();
  ideal_mirrors(o.mirror, {0.02, 0.05, 0.1, 0.3, 1.0, 3.0, 4.0, 5.0});
  core::Network net = demo_network();
  net.layers[0].candidate.kernel(0, 0) = 0.015;
  const CircuitModel c = build_circuit(net, *pdk::generic180(), o);
  ASSERT_EQ(c.realised.size(), 1u);
  EXPECT_EQ(c.realised[0].parameter, "layer1.cand_kernel[0,0]");
  EXPECT_EQ(c.network.layers[0].candidate.kernel(0, 0), 0.0);
}

}  // namespace
}  // namespace bmru::models

namespace bmru::models {
namespace {

// A parameter beyond anything a clamp should round (a weight of 1e6) is refused naming it, with
// --clamp as without.
TEST(Realisation, ClampDoesNotRoundABrokenParameter) {
  core::Network net = demo_network();
  net.fc.kernel(2, 1) = 1e6;
  CircuitOptions o = ideal();
  o.clamp = true;
  try {
    build_circuit(net, *pdk::generic180(), o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("fc.kernel[2,1] = 1e+06"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bmru::models

namespace bmru::models {
namespace {

// Power by position: every feed-forward and bias device draws from its position's rail, and only
// the position's sense source feeds that rail from the block's supply.
TEST(CircuitModel, EachPositionDrawsFromItsOwnRailsBehindASenseSource) {
  const core::Network net = demo_network();
  const CircuitModel c = build_circuit(net, *pdk::generic180(), ideal());
  const std::vector<std::string> positions{"pre", "layer1", "layer2", "output"};
  EXPECT_EQ(c.ports.positions, positions);
  ASSERT_EQ(c.ports.position_supplies.size(), 8u);
  EXPECT_EQ(c.ports.position_supplies[0], "vpos_ff_pre");
  EXPECT_EQ(c.ports.position_supplies[3], "vpos_bias_layer1");
  std::map<std::string, int> rail_users;
  for (const auto& l : lines(c.body)) {
    std::istringstream in(l);
    std::vector<std::string> tok;
    for (std::string t; in >> t;) tok.push_back(t);
    if (tok.size() < 3) continue;
    const bool sense = tok[0].rfind("Vpos_", 0) == 0;
    for (size_t i = 1; i < tok.size(); ++i) {
      // The block supplies feed only their sources and the position senses.
      if (tok[i] == "vdd_ff" || tok[i] == "vdd_bias") {
        EXPECT_TRUE(sense || tok[0] == "Vff_src" || tok[0] == "Vbias_src") << l;
      }
      if (tok[i].rfind("vdd_ff_", 0) == 0 || tok[i].rfind("vdd_bias_", 0) == 0) {
        if (!sense) ++rail_users[tok[i]];
        // A layer-1 candidate weight sits on layer 1's rail; a logit weight on the output's.
        if (tok[0].find("w_c_l1_") != std::string::npos) {
          EXPECT_EQ(tok[i], "vdd_ff_layer1") << l;
        }
        if (tok[0].find("w_fc_") != std::string::npos) {
          EXPECT_EQ(tok[i], "vdd_ff_output") << l;
        }
        if (tok[0].find("w_in_") != std::string::npos) {
          EXPECT_EQ(tok[i], "vdd_ff_pre") << l;
        }
      }
    }
  }
  // Every position's feed-forward rail is used; the cells' bias currents use their layer's rail.
  for (const auto& p : positions) EXPECT_GT(rail_users["vdd_ff_" + p], 0) << p;
  EXPECT_GE(rail_users["vdd_bias_layer1"], 3 * 4);
  EXPECT_GE(rail_users["vdd_bias_layer2"], 3 * 4);
}

// --noise: one source per cell's candidate, or (--noise-at all) one per line, each named, on a
// node of the body, and oriented so that a positive value adds to its line's current.
TEST(CircuitModel, NoiseSourcesSitOnTheCandidatesOrOnEveryLineAddingToIt) {
  const core::Network net = demo_network();
  const CircuitModel c = build_circuit(net, *pdk::generic180(), ideal());
  const CircuitGraph g = build_graph(c.network);
  ASSERT_EQ(c.noise_sources.size(), g.cells.size());
  ASSERT_EQ(c.noise_source_lines.size(), g.cells.size());
  EXPECT_EQ(c.noise_sources[0], "inoise_l1_c0");
  size_t held = 0;
  for (const auto& l : g.lines) held += l.kind == CircuitGraph::LineKind::held;
  ASSERT_EQ(c.line_noise_sources.size(), g.lines.size() - held);
  ASSERT_EQ(c.line_noise_source_lines.size(), c.line_noise_sources.size());
  ASSERT_EQ(c.line_noise_lines.size(), c.line_noise_sources.size());
  std::set<std::string> names(c.line_noise_sources.begin(), c.line_noise_sources.end());
  EXPECT_EQ(names.size(), c.line_noise_sources.size());
  std::set<int> kinds;
  for (size_t k = 0; k < c.line_noise_sources.size(); ++k) {
    const auto& line = g.lines[static_cast<size_t>(c.line_noise_lines[k])];
    EXPECT_NE(line.kind, CircuitGraph::LineKind::held);
    kinds.insert(static_cast<int>(line.kind));
    // NMOS lines take the current sourced into them (I 0 node), PMOS lines what is sunk.
    const std::string expected =
        c.line_noise_sources[k] +
        (line.type() == pdk::Polarity::p ? " " + line.node + " 0" : " 0 " + line.node) +
        " external";
    EXPECT_EQ(c.line_noise_source_lines[k], expected);
    EXPECT_NE(c.body.find(" " + line.node + " "), std::string::npos) << line.node;
  }
  // Every kind of line is there: summing nodes of both closings, conversions, cell outputs.
  EXPECT_TRUE(kinds.count(static_cast<int>(CircuitGraph::LineKind::summing)));
  EXPECT_TRUE(kinds.count(static_cast<int>(CircuitGraph::LineKind::cell_output)));
  // The candidates' sources drive the same nodes as the all-lines sources of those lines.
  for (size_t i = 0; i < g.cells.size(); ++i) {
    const auto& node = g.lines[static_cast<size_t>(g.cells[i].candidate_sum)].node;
    EXPECT_NE(c.noise_source_lines[i].find(" " + node), std::string::npos) << node;
  }
}

}  // namespace
}  // namespace bmru::models
