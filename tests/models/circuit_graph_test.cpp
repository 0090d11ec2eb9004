// The one description of the circuit: what the netlist writer and the ct engine both read.
#include "models/circuit_graph.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "core/errors.hpp"
#include "models/demo_network.hpp"
#include "models/ideal_power.hpp"
#include "models/reference_engine.hpp"
#include "test_support.hpp"

namespace bmru::models {
namespace {

using Kind = CircuitGraph::LineKind;

TEST(CircuitGraph, EveryNonzeroWeightIsOneOrTwoCopiesAndEveryZeroIsPruned) {
  core::Network net = demo_network();
  net.layers[0].candidate.kernel(1, 2) = 0;
  net.fc.bias(0) = 0;
  const CircuitGraph g = build_graph(net);
  std::set<std::string> pruned;
  for (const auto& p : g.pruned) pruned.insert(p.param);
  EXPECT_TRUE(pruned.count("layer1.cand_kernel[1,2]"));
  EXPECT_TRUE(pruned.count("fc.bias[0]"));
  for (const auto& w : g.weights) {
    EXPECT_FALSE(pruned.count(w.param)) << w.param;
    for (const int c : w.copies) {
      const auto& copy = g.copies[static_cast<size_t>(c)];
      EXPECT_EQ(copy.kind, CircuitGraph::CopyKind::weight);
      EXPECT_DOUBLE_EQ(std::abs(copy.gain), std::abs(w.gain)) << w.param;
      // A sourcing copy mirrors a p-line, a sinking one an n-line.
      const auto& from = g.lines[static_cast<size_t>(copy.from)];
      EXPECT_EQ(from.type(), copy.device()) << copy.name;
    }
  }
}

TEST(CircuitGraph, EveryLineIsFedBeforeItIsReadAndTheOrderListsEachElementOnce) {
  const core::Network net = demo_network();
  const CircuitGraph g = build_graph(net);
  std::set<std::pair<int, int>> seen;
  std::set<int> made;
  for (const auto& s : g.order) {
    EXPECT_TRUE(seen.insert({static_cast<int>(s.element), s.index}).second);
    if (s.element == CircuitGraph::Element::line) made.insert(s.index);
    if (s.element == CircuitGraph::Element::copy) {
      const auto& c = g.copies[static_cast<size_t>(s.index)];
      // The line a copy reads from is in the netlist before the copy.
      EXPECT_TRUE(made.count(c.from) ||
                  g.lines[static_cast<size_t>(c.from)].kind == Kind::cell_output)
          << c.name;
    }
  }
  // Every line but the cells' own output diodes is written exactly once.
  for (size_t l = 0; l < g.lines.size(); ++l)
    EXPECT_EQ(made.count(static_cast<int>(l)), g.lines[l].kind == Kind::cell_output ? 0u : 1u)
        << g.lines[l].node;
  ASSERT_EQ(g.cells.size(), static_cast<size_t>(net.d() * net.n_layers()));
  ASSERT_EQ(g.layers.size(), static_cast<size_t>(net.n_layers()));
  ASSERT_EQ(g.logits.size(), static_cast<size_t>(net.n_out()));
  for (const auto& c : g.cells) {
    EXPECT_EQ(g.lines[static_cast<size_t>(c.candidate)].type(), pdk::Polarity::p);
    EXPECT_EQ(g.lines[static_cast<size_t>(c.output)].kind, Kind::cell_output);
    EXPECT_GT(c.beta_hi_a, c.beta_lo_a);
  }
}

TEST(CircuitGraph, BiasesCarryTheirSignAndUnit) {
  core::Network net = demo_network();
  net.unit_current_a = 2e-9;
  net.layers[1].post.bias(3) = -0.25;
  const CircuitGraph g = build_graph(net);
  bool found = false;
  for (const auto& b : g.biases)
    if (b.param == "layer2.post_bias[3]") {
      found = true;
      EXPECT_DOUBLE_EQ(g.added(b), -0.5e-9);  // subtracted from its line, however closed
      const bool p = g.lines[static_cast<size_t>(b.to)].type() == pdk::Polarity::p;
      EXPECT_DOUBLE_EQ(b.amps, p ? 0.5e-9 : -0.5e-9);  // sourced into a PMOS-closed node
      EXPECT_EQ(g.lines[static_cast<size_t>(b.to)].node, "p_l2_c3");
    }
  EXPECT_TRUE(found);
}

// Issue 14: the polarity plan. Summing nodes closed by a PMOS diode take sunk currents as their
// terms, so signals formed on NMOS lines feed them without a conversion: the lean plan needs
// fewer conversions (lines made only to change a signal's polarity) than closing every node with
// an NMOS diode, and its estimate of their current is the least over every plan.
TEST(CircuitGraph, TheLeanPlanNeedsTheFewestConversions) {
  const core::Network net = demo_network();
  const auto conversions = [](const CircuitGraph& g) {
    int n = 0;
    for (const auto& l : g.lines) n += l.kind == Kind::pline || l.kind == Kind::nline;
    return n;
  };
  const PolarityPlan lean = lean_plan(net), nmos = all_nmos_plan(net);
  const CircuitGraph a = build_graph(net, lean), b = build_graph(net, nmos);
  EXPECT_LT(conversions(a), conversions(b) / 2) << conversions(a) << " " << conversions(b);
  EXPECT_EQ(conversions(b), 57);  // every input part, stream line and candidate, and more
  // Exhaustively, with every candidate closing too: no plan's estimate is below the lean plan's.
  const double least = conversion_estimate(net, lean);
  const size_t layers = net.layers.size(), bits = 2 + 3 * layers;
  for (unsigned m = 0; m < (1u << bits); ++m) {
    PolarityPlan p = nmos;
    p.u_pos_p = m & 1u;
    p.u_neg_p = m & 2u;
    for (size_t l = 0; l < layers; ++l) {
      p.a_p[l] = (m >> (2 + 3 * l)) & 1u;
      p.c_p[l] = (m >> (3 + 3 * l)) & 1u;
      p.p_p[l] = (m >> (4 + 3 * l)) & 1u;
    }
    EXPECT_GE(conversion_estimate(net, p) + 1e-12, least) << m;
  }
  // The candidate of a PMOS-closed node is read by the cell's M1 directly.
  for (const auto& c : a.cells) {
    if (a.lines[static_cast<size_t>(c.candidate_sum)].kind == Kind::summing_p) {
      EXPECT_EQ(c.candidate, c.candidate_sum);
    }
  }
}

// Whatever the plan, every line carries the same signal: what each copy and bias adds, summed at
// the currents the model defines, gives the line's own value (here the candidates, for one input
// with every node of each group closed either way).
TEST(CircuitGraph, EveryPlanComputesTheSameCandidates) {
  core::Network net = test::single_cell(0.5, 1.0);
  net.pre_proj.kernel(0, 0) = 2.0;
  for (unsigned m = 0; m < 32; ++m) {
    PolarityPlan p = all_nmos_plan(net);
    p.u_pos_p = m & 1u;
    p.u_neg_p = m & 2u;
    p.a_p = {bool(m & 4u)};
    p.c_p = {bool(m & 8u)};
    p.p_p = {bool(m & 16u)};
    const CircuitGraph g = build_graph(net, p);
    // x = 0.7 through the graph, the cell off.
    const std::vector<double> I =
        ideal_line_currents(g, core::Vector::Constant(1, 0.7 / net.unit_current_a), {false});
    EXPECT_NEAR(I[static_cast<size_t>(g.cells[0].candidate_sum)], 1.4, 1e-12) << m;
    EXPECT_NEAR(I[static_cast<size_t>(g.cells[0].candidate)], 1.4, 1e-12) << m;
  }
}

// The ideal circuit computes the model: on the demo network, frame by frame, every candidate line
// carries c, every layer's output pair u, every logit pair y (times the unit).
TEST(CircuitGraph, IdealLineCurrentsAreTheModelsQuantities) {
  const core::Network net = demo_network();
  const CircuitGraph g = build_graph(net);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 0.5);
  core::Matrix x(12, net.n_in());
  for (core::Index k = 0; k < x.rows(); ++k)
    for (core::Index i = 0; i < x.cols(); ++i) x(k, i) = z(rng);
  const std::vector<core::Frame> frames = run_sequence(net, x);
  const double u = net.unit_current_a;
  int switched = 0;
  for (core::Index k = 0; k < x.rows(); ++k) {
    const core::Frame& f = frames[static_cast<size_t>(k)];
    std::vector<bool> on;
    for (core::Index l = 0; l < net.n_layers(); ++l)
      for (core::Index i = 0; i < net.d(); ++i) on.push_back(f.layers[size_t(l)].state(0, i) > 0);
    switched += static_cast<int>(std::count(on.begin(), on.end(), true));
    const std::vector<double> I = ideal_line_currents(g, x.row(k).transpose(), on);
    const auto at = [&](int line) { return I[static_cast<size_t>(line)] / u; };
    for (core::Index l = 0; l < net.n_layers(); ++l) {
      const auto& probes = g.layers[static_cast<size_t>(l)];
      const auto& lf = f.layers[static_cast<size_t>(l)];
      for (core::Index i = 0; i < net.d(); ++i) {
        const auto j = static_cast<size_t>(i);
        EXPECT_NEAR(at(probes.candidate[j]), lf.candidate(0, i), 1e-9) << k << " " << l << i;
        double sum = 0;
        for (const int line : probes.output[j].pos) sum += at(line);
        for (const int line : probes.output[j].neg) sum -= at(line);
        EXPECT_NEAR(sum, lf.output(0, i), 1e-9) << k << " " << l << i;
        // u_l is the bundle of the pre-projection's pair and the post-projection of layers 1..l.
        EXPECT_EQ(probes.output[j].pos.size(), static_cast<size_t>(l) + 2);
        EXPECT_EQ(probes.output[j].neg.size(), 1u);
      }
    }
    for (size_t o = 0; o < g.logits.size(); ++o)
      EXPECT_NEAR(at(g.logits[o].first) - at(g.logits[o].second),
                  f.logits(0, static_cast<core::Index>(o)), 1e-9)
          << k << " " << o;
  }
  EXPECT_GT(switched, 0);  // the cells' outputs took part
  EXPECT_THROW(ideal_line_currents(g, core::Vector::Zero(2), {}), Error);
}

}  // namespace
}  // namespace bmru::models

namespace bmru::models {
namespace {

// One input, one cell, one output, worked by hand: x = 1; u0 = 2x (pos line 2); a = 2; c = 2 turns
// the cell (beta 0.5 .. 1, alpha 1) on; p = s = 1; u1 = 3 on its pos line; y = 3.
TEST(IdealPower, CountsEachCurrentTheModelDefinesOnce) {
  core::Network net = test::single_cell(0.5, 1.0);
  net.pre_proj.kernel(0, 0) = 2.0;
  net.unit_current_a = 1e-9;
  const auto w = ideal_power(net, {core::Matrix::Constant(3, 1, 1.0)}, 1.8);
  // cells: I_thresh 1 + (I_width 0.5 + I_gain 1) + alpha s 1 = 3.5 units
  EXPECT_NEAR(w[core::PowerBlock::cells], 3.5e-9 * 1.8, 1e-18);
  // feed-forward: u0 2 + a 2 + c 2 + p 1 + skip 2 + y 3 = 12 units
  EXPECT_NEAR(w[core::PowerBlock::feedforward], 12e-9 * 1.8, 1e-18);
  EXPECT_EQ(w[core::PowerBlock::bias], 0.0);
  EXPECT_NEAR(w[core::PowerBlock::total], 15.5e-9 * 1.8, 1e-18);
  // A negative logit weight moves the current to the other line, not away.
  net.fc.kernel(0, 0) = -1;
  EXPECT_NEAR(ideal_power(net, {core::Matrix::Constant(3, 1, 1.0)}, 1.8)[core::PowerBlock::total],
              15.5e-9 * 1.8, 1e-18);
}

}  // namespace
}  // namespace bmru::models
