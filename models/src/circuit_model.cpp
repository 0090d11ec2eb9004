#include "models/circuit_model.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <type_traits>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "models/circuit_graph.hpp"
#include "pdk/mismatch.hpp"

namespace bmru::models {
namespace {

using core::format_number;
using core::Index;
using pdk::Polarity;

std::string idx(const std::string& field, Index i) {
  return field + "[" + std::to_string(i) + "]";
}

// The voltage source of a supply rail: vdd_ff -> Vff_src.
std::string supply_source(const CircuitGraph::Supply& s) {
  return "V" + s.node.substr(4) + "_src";
}
std::string lower(std::string s) {  // ngspice lower-cases names
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

// Writes the netlist of a CircuitGraph: one replay of its elements in order, sizing every device
// from the calibrations and drawing each one's mismatch in that order.
class Writer {
 public:
  Writer(const CircuitGraph& g, const pdk::Technology& tech, const CircuitOptions& o)
      : g_(g), t_(tech), o_(o), instance_(g.copies.size()) {
    if (o.mismatch_seed && tech.program_mismatch()) {
      sampler_.emplace(*o.mismatch_seed);
      line_draw_.resize(g.lines.size());
      draws.copy.resize(g.copies.size());
      draws.bias_ref.resize(g.biases.size());
      draws.bias_out.resize(g.biases.size());
      for (auto* v : {&draws.cell_ith, &draws.cell_iw, &draws.cell_ig}) v->resize(g.cells.size());
    }
  }

  std::string text;
  std::vector<MapEntry> map;
  std::vector<std::string> initial_conditions;
  DeviceDraws draws;

  void write(double vdd) {
    text += cell_subckt(t_, o_.cell_sizes);
    for (const auto& s : g_.supplies) {
      const std::string src = supply_source(s);
      text += src + " " + s.node + " 0 " + format_number(vdd) + "\n";
      structural(src);
    }
    // Each position's rails behind their sense sources (power by position).
    for (const auto& p : g_.positions)
      for (const char* rail : {"ff", "bias"}) {
        const std::string sense = position_sense(rail, p);
        text += sense + " vdd_" + rail + " vdd_" + rail + "_" + p + " 0\n";
        structural(sense);
      }
    for (const auto& e : g_.order) {
      const auto i = static_cast<size_t>(e.index);
      switch (e.element) {
        case CircuitGraph::Element::line:
          line(g_.lines[i]);
          break;
        case CircuitGraph::Element::copy:
          copy(g_.copies[i], i);
          break;
        case CircuitGraph::Element::weight:
          weight(g_.weights[i]);
          break;
        case CircuitGraph::Element::bias:
          bias(g_.biases[i]);
          break;
        case CircuitGraph::Element::cell_supply:
          cell_supply(g_.cells[i]);
          break;
        case CircuitGraph::Element::cell:
          cell(g_.cells[i], vdd);
          break;
        case CircuitGraph::Element::pruned:
          map.push_back({"", "pruned", g_.pruned[i].param, 0, ""});
          break;
        case CircuitGraph::Element::input:
          for (const int l : {g_.inputs[i].pos, g_.inputs[i].neg})
            structural("I" + input_source(l).substr(1));
          break;
      }
    }
    if (!sampler_) return;
    for (const auto& c : g_.copies) draws.copy_source.push_back(line_draw_[at(c.from)]);
    for (const auto& c : g_.cells) draws.cell_in.push_back(line_draw_[at(c.candidate)]);
  }

  // The zero-volt source feeding rail vdd_<rail>_<position> from vdd_<rail>.
  static std::string position_sense(const std::string& rail, const std::string& position) {
    return "Vpos_" + rail + "_" + position;
  }

  // The caller-driven source of an input line: iin<k>p / iin<k>n.
  std::string input_source(int l) const {
    const auto& line = g_.lines[static_cast<size_t>(l)];
    return "iin" + std::to_string(line.input / 2) + (line.input % 2 == 0 ? "p" : "n");
  }

 private:
  // A transistor; returns its instance name as the netlist writes it.
  std::string device(const std::string& name, Polarity type, double w, double l,
                     const std::string& d, const std::string& g, const std::string& s) {
    pdk::Device dev{type, w, l, 1, {}};
    if (sampler_) dev.mismatch = sampler_->draw(pdk::generic180_pelgrom(type), w, l);
    last_draw_ = dev.mismatch;
    const std::string b = type == Polarity::n ? "0" : s;
    const std::string line = t_.device_line(name, d, g, s, b, dev);
    text += line + "\n";
    return line.substr(0, line.find(' '));
  }
  void structural(const std::string& instance) {
    map.push_back({instance, "structural", "structural", 0, ""});
  }
  // Where a copy or bias into line l goes: near ground (an NMOS-closed node, or a held logit node)
  // or near the supply (a PMOS diode).
  Destination destination(int l) const {
    return g_.lines[static_cast<size_t>(l)].type() == Polarity::p ? Destination::pmos_diode
                                                                  : Destination::nmos_diode;
  }
  double width(double w, Polarity type, Destination dest) const {
    return o_.mirror.width_for(w, type, o_.mirror_sizes, dest);
  }
  // The feed-forward and bias rails of a position.
  std::string ff(int position) const {
    return "vdd_ff_" + g_.positions[static_cast<size_t>(position)];
  }
  std::string bias_rail(int position) const {
    return "vdd_bias_" + g_.positions[static_cast<size_t>(position)];
  }
  const std::string& gate(int l) const { return g_.lines[static_cast<size_t>(l)].gate; }
  const std::string& node(int l) const { return g_.lines[static_cast<size_t>(l)].node; }

  void line(const CircuitGraph::Line& l) {
    write_line(l);
    if (sampler_ && !l.device.empty()) line_draw_[at(&l - g_.lines.data())] = last_draw_;
  }
  void write_line(const CircuitGraph::Line& l) {
    const double w = o_.mirror_sizes.w_ref_m, len = o_.mirror_sizes.l_m;
    switch (l.kind) {
      case CircuitGraph::LineKind::summing:
      case CircuitGraph::LineKind::summing_p: {
        // The sense source points from the node into an NMOS diode, from a PMOS diode into the
        // node: positive = the line's current.
        const bool p = l.kind == CircuitGraph::LineKind::summing_p;
        if (!l.sense.empty()) {
          text += l.sense + " " + (p ? l.gate + " " + l.node : l.node + " " + l.gate) + " 0\n";
          structural(l.sense);
        }
        structural(device(l.device, p ? Polarity::p : Polarity::n, w, len, l.gate, l.gate,
                          p ? ff(l.position) : "0"));
        break;
      }
      case CircuitGraph::LineKind::pline:
        structural(device(l.device, Polarity::p, w, len, l.gate, l.gate, ff(l.position)));
        break;
      case CircuitGraph::LineKind::nline:
        structural(device(l.device, Polarity::n, w, len, l.gate, l.gate, "0"));
        break;
      case CircuitGraph::LineKind::held:
        text += l.sense + " " + l.node + " 0 " + format_number(o_.logit_voltage) + "\n";
        structural(l.sense);
        break;
      case CircuitGraph::LineKind::cell_output:
        break;  // inside the cell
    }
  }

  void copy(const CircuitGraph::Copy& c, size_t index) {
    const double len = o_.mirror_sizes.l_m;
    const std::string& dest = node(c.to);
    std::string inst;
    switch (c.kind) {
      case CircuitGraph::CopyKind::pline_feed:
        inst = device(c.name, Polarity::n, width(1.0, Polarity::n, Destination::pmos_diode), len,
                      dest, gate(c.from), "0");
        break;
      case CircuitGraph::CopyKind::nline_feed:
        inst = device(c.name, Polarity::p, width(1.0, Polarity::p, Destination::nmos_diode), len,
                      dest, gate(c.from), ff(c.position));
        break;
      default: {
        const Polarity type = c.gain > 0 ? Polarity::p : Polarity::n;
        const Geometry g = copy_geometry(width(std::abs(c.gain), type, destination(c.to)),
                                         o_.mirror_sizes, t_.limits(type).w_min_m);
        inst = device(c.name, type, g.w_m, g.l_m, dest, gate(c.from),
                      type == Polarity::p ? ff(c.position) : "0");
      }
    }
    instance_[index] = inst;
    if (sampler_) draws.copy[index] = last_draw_;
    if (c.kind != CircuitGraph::CopyKind::weight) structural(inst);
  }

  // The map's value: the first copy's width (the others have their own calibration). A weight on
  // a signed signal is a mirror pair; on the residual stream, one output device per line of its
  // bundle (every instance listed).
  void weight(const CircuitGraph::Weight& w) {
    const auto& c = g_.copies[static_cast<size_t>(w.copies[0])];
    const double value =
        width(std::abs(w.gain), c.gain > 0 ? Polarity::p : Polarity::n, destination(c.to));
    std::string instances;
    for (const int k : w.copies)
      instances += (instances.empty() ? "" : ",") + instance_[static_cast<size_t>(k)];
    const char* kind = w.copies.size() == 1   ? "weight_mirror"
                       : w.copies.size() == 2 ? "weight_mirror_pair"
                                              : "weight_mirror_set";
    map.push_back({instances, kind, w.param, value, "m"});
  }

  // A constant current from a bias mirror: a reference diode bias_ratio times narrower than the
  // output device, so the reference branch draws a fraction of the bias; the element is the
  // reference current, calibrated for the mirror's polarity and destination.
  void bias(const CircuitGraph::Bias& b) {
    const Polarity type = b.amps > 0 ? Polarity::p : Polarity::n;
    const double amps = o_.mirror.bias_reference_for(std::abs(b.amps), type, destination(b.to));
    const std::string ref = "b_" + b.name;
    const std::string supply = bias_rail(b.position);
    text += "I" + ref + (b.amps > 0 ? " " + ref + " 0 " : " " + supply + " " + ref + " ") +
            format_number(amps) + "\n";
    map.push_back({"I" + ref, "bias_source", b.param, amps, "A"});
    const std::string rail = b.amps > 0 ? supply : "0";
    const double len = o_.mirror_sizes.l_m;
    structural(device("r" + ref, type, o_.mirror_sizes.bias_ref_w_m(), len, ref, ref, rail));
    const auto i = at(&b - g_.biases.data());
    if (sampler_) draws.bias_ref[i] = last_draw_;
    structural(device("o" + ref, type, o_.mirror_sizes.w_ref_m, len, node(b.to), ref, rail));
    if (sampler_) draws.bias_out[i] = last_draw_;
  }

  // A cell bias line: reference current (the bias / bias_ratio) from the bias supply into its
  // reference diode; the element is that reference current.
  pdk::MismatchDraw cell_bias(const std::string& name, double amps, const std::string& kind,
                              const std::string& param, int position) {
    const double ref = amps / o_.cell_sizes.bias_ratio;
    text += "I" + name + " " + bias_rail(position) + " " + name + " " + format_number(ref) + "\n";
    map.push_back({"I" + name, kind, param, ref, "A"});
    const auto& n = o_.cell_sizes.bias_ref_n;
    structural(device("r" + name, Polarity::n, n.w_m, n.l_m, name, name, "0"));
    return last_draw_;
  }
  void cell_supply(const CircuitGraph::Cell& c) {
    const CellBias cb = o_.cell.bias_for(c.beta_lo_a, c.beta_hi_a, c.alpha_a);
    const std::string& ci = c.name;
    const auto th = cell_bias("gth_" + ci, cb.ithresh_a, "cell_ithresh",
                              idx(c.layer_param + ".beta1", c.index), c.position);
    const auto wd = cell_bias("gw_" + ci, cb.iwidth_a, "cell_iwidth",
                              idx(c.layer_param + ".delta", c.index), c.position);
    const auto gn = cell_bias("gg_" + ci, cb.igain_a, "cell_igain",
                              idx(c.layer_param + ".alphas", c.index), c.position);
    if (sampler_) {
      const auto i = at(&c - g_.cells.data());
      draws.cell_ith[i] = th;
      draws.cell_iw[i] = wd;
      draws.cell_ig[i] = gn;
    }
    // The cell's own supply lead, through a zero-volt source: its current is the cell's power.
    text += "Vpwr_" + ci + " vdd_cells vddc_" + ci + " 0\n";
    structural("Vpwr_" + ci);
  }
  void cell(const CircuitGraph::Cell& c, double vdd) {
    const std::string& ci = c.name;
    const std::string inst = "xcell_" + ci;
    text += inst + " vddc_" + ci + " 0 " + gate(c.candidate) + " gth_" + ci + " gw_" + ci + " gg_" +
            ci + " " + gate(c.output) + " " + kCellSubckt + "\n";
    structural(inst);
    const double v0 = c.init_on ? vdd : 0.0;
    initial_conditions.push_back(".ic v(" + inst + ".v0)=" + format_number(v0));
    map.push_back({".ic v(" + inst + ".v0)", "initial_condition",
                   idx(c.layer_param + ".initial_state", c.index), v0, "V"});
  }

  const CircuitGraph& g_;
  const pdk::Technology& t_;
  const CircuitOptions& o_;
  std::vector<std::string> instance_;  // per copy, once written
  std::optional<pdk::MismatchSampler> sampler_;
  pdk::MismatchDraw last_draw_;               // of the last device written
  std::vector<pdk::MismatchDraw> line_draw_;  // per line: its diode's
  static size_t at(std::ptrdiff_t i) { return static_cast<size_t>(i); }
  static size_t at(int i) { return static_cast<size_t>(i); }
};

// The port map of DESIGN.md section 6, from the graph's probes.
PortMap port_map(const CircuitGraph& g, const Writer& w) {
  PortMap p;
  for (const auto& s : g.supplies) {
    const std::string source = lower(supply_source(s));
    if (s.block == core::PowerBlock::cells) p.supply_cells = source;
    if (s.block == core::PowerBlock::feedforward) p.supply_feedforward = source;
    if (s.block == core::PowerBlock::bias) p.supply_bias = source;
  }
  const auto branch = [&](int l) {
    return lower(g.lines[static_cast<size_t>(l)].sense) + "#branch";
  };
  for (const auto& in : g.inputs)
    p.inputs.push_back({w.input_source(in.pos), w.input_source(in.neg)});
  for (const auto& layer : g.layers) {
    LayerPorts ports;
    for (const int l : layer.candidate) ports.candidate.push_back(branch(l));
    for (const int c : layer.state)
      ports.state.push_back("v.xcell_" + g.cells[static_cast<size_t>(c)].name + ".vs#branch");
    for (const auto& u : layer.output) {
      PortSum sum;
      for (const int l : u.pos) sum.pos.push_back(branch(l));
      for (const int l : u.neg) sum.neg.push_back(branch(l));
      ports.output.push_back(sum);
    }
    p.layers.push_back(ports);
  }
  for (const auto& c : g.cells) p.cell_supplies.push_back("vpwr_" + c.name);
  p.positions = g.positions;
  for (const auto& pos : g.positions)
    for (const char* rail : {"ff", "bias"})
      p.position_supplies.push_back(lower(Writer::position_sense(rail, pos)));
  for (const auto& [pos, neg] : g.logits) p.logits.push_back({branch(pos), branch(neg)});
  return p;
}

// The cells clamped into what their calibration realises: alpha and beta_hi into their ranges
// (the band's share of beta_hi kept), then a band wider than the cell realises at its beta_hi to
// the widest it does (beta_hi kept).
core::Network clamp_bands_to_cells(const core::Network& net, const CellCalibration& cal,
                                   std::vector<ParameterChange>& changes) {
  core::Network out = net;
  if (cal.ithresh_a.size() < 2) return out;
  const double u = net.unit_current_a;
  const auto [hi_min, hi_max] = cal.beta_hi_range();
  const auto [a_min, a_max] = cal.alpha_range();
  for (size_t l = 0; l < out.layers.size(); ++l) {
    core::Layer& L = out.layers[l];
    const std::string name = "layer" + std::to_string(l + 1);
    for (Index i = 0; i < L.d(); ++i) {
      const double alpha = std::clamp(std::abs(L.alphas(i)), a_min / u, a_max / u);
      if (alpha != std::abs(L.alphas(i))) {
        changes.push_back({idx(name + ".alphas", i), L.alphas(i), alpha});
        L.alphas(i) = alpha;
      }
      double width = std::abs(L.delta(i)), b_hi = std::abs(L.beta1(i)) + width;
      const double new_hi = std::clamp(b_hi, hi_min / u, hi_max / u);
      if (new_hi != b_hi) {
        const double share = width / b_hi;
        changes.push_back({idx(name + ".delta", i), L.delta(i), share * new_hi});
        changes.push_back({idx(name + ".beta1", i), L.beta1(i), (1 - share) * new_hi});
        L.delta(i) = width = share * new_hi;
        L.beta1(i) = (1 - share) * new_hi;
        b_hi = new_hi;
      }
      const double widest = cal.width_range(b_hi * u).second / u;
      if (width <= widest) continue;
      changes.push_back({idx(name + ".delta", i), L.delta(i), widest});
      changes.push_back({idx(name + ".beta1", i), L.beta1(i), b_hi - widest});
      L.delta(i) = widest;
      L.beta1(i) = b_hi - widest;
    }
  }
  return out;
}

// Every cell whose levels lie outside what its calibration tables realise, named.
std::vector<std::string> cell_problems(const core::Network& net, const CellCalibration& cal) {
  if (cal.ithresh_a.size() < 2) return {};  // no tables (the caller checks the generic range)
  std::vector<std::string> out;
  const double u = net.unit_current_a;
  const auto [hi_min, hi_max] = cal.beta_hi_range();
  const auto [a_min, a_max] = cal.alpha_range();
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const auto k = core::cell_constants(net.layers[l]);
    const std::string name = "layer" + std::to_string(l + 1);
    for (Index i = 0; i < k.alpha.size(); ++i) {
      const double b_hi = k.beta_hi(i) * u, width = (k.beta_hi(i) - k.beta_lo(i)) * u;
      const double alpha = k.alpha(i) * u;
      if (b_hi < hi_min || b_hi > hi_max) {
        out.push_back(idx(name + ".beta1", i) + " + |delta|: beta_hi = " + format_number(b_hi) +
                      " A lies outside the cell's calibrated " + format_number(hi_min) + " - " +
                      format_number(hi_max) + " A");
        continue;
      }
      const auto [w_min, w_max] = cal.width_range(b_hi);
      if (width < w_min || width > w_max)
        out.push_back(idx(name + ".delta", i) + ": the band beta_hi - beta_lo = " +
                      format_number(width) + " A (" + format_number(100 * width / b_hi) +
                      " % of beta_hi) lies outside what the cell realises at this beta_hi, " +
                      format_number(w_min) + " - " + format_number(w_max) + " A");
      if (alpha < a_min || alpha > a_max)
        out.push_back(idx(name + ".alphas", i) + ": alpha = " + format_number(alpha) +
                      " A lies outside the cell's calibrated " + format_number(a_min) + " - " +
                      format_number(a_max) + " A");
    }
  }
  return out;
}

}  // namespace

CircuitModel build_circuit(const core::Network& input_net, const pdk::Technology& tech,
                           const CircuitOptions& o) {
  core::validate(input_net);
  if (o.cell_sizes.interface_p.w_m != o.mirror_sizes.w_ref_m ||
      o.cell_sizes.interface_p.l_m != o.mirror_sizes.l_m)
    throw InputError(
        "The cell's interface devices (M1, M4) must have the size of the network's reference "
        "devices, or every copy into and out of a cell is off by their ratio");
  CircuitModel m;
  // The weights this technology's calibrated mirrors make (gf180mcu's longest copy stops near
  // 0.018): a smaller one is dropped like any weight below the range.
  RealisableRange range = o.range;
  for (const auto* gain :
       {&o.mirror.gain_n, &o.mirror.gain_p, &o.mirror.gain_n_high, &o.mirror.gain_p_high})
    if (gain->size() >= 2) {
      range.weight_min = std::max(range.weight_min, gain->front());
      range.weight_max = std::min(range.weight_max, gain->back());
    }
  core::Network net = realise(input_net, range, m.realised);
  if (o.clamp) {
    net = clamp_to_range(net, range, m.clamped);
    net = clamp_bands_to_cells(net, o.cell, m.clamped);
  }
  std::vector<std::string> bad = range_problems(net, range);
  if (bad.empty()) bad = cell_problems(net, o.cell);  // the cells' tables need levels in range
  if (!bad.empty()) {
    const std::string hint = o.clamp
                                 ? "beyond what --clamp rounds (more than " +
                                       format_number(range.clamp_reach) + " times the range's top)"
                                 : "use --clamp to clamp and report every change";
    throw InputError("The network lies outside the circuit's realisable range (" +
                     std::to_string(bad.size()) + (bad.size() == 1 ? " parameter" : " parameters") +
                     "; " + hint + "):" + problem_list(bad));
  }
  m.unit_current_a = net.unit_current_a;
  m.network = net;
  const CircuitGraph g = build_graph(net);
  Writer w(g, tech, o);
  w.write(o.conditions.vdd_v);
  for (const auto& in : g.inputs)
    for (const int l : {in.pos, in.neg})
      m.inputs.push_back({w.input_source(l), g.lines[static_cast<size_t>(l)].node});
  m.ports = port_map(g, w);
  // SPICE's I n+ n- drives its current out of n-: into an NMOS-closed node (adds to its line), or
  // out of a PMOS-closed one (what is sunk from it adds).
  const auto noise_line = [&](const std::string& name, const CircuitGraph::Line& line) {
    return name + (line.type() == pdk::Polarity::p ? " " + line.node + " 0" : " 0 " + line.node) +
           " external";
  };
  for (const auto& c : g.cells) {
    const std::string name = "inoise_" + c.name;
    m.noise_sources.push_back(name);
    m.noise_source_lines.push_back(noise_line(name, g.lines[static_cast<size_t>(c.candidate_sum)]));
  }
  for (size_t l = 0; l < g.lines.size(); ++l) {
    const auto& line = g.lines[l];
    if (line.kind == CircuitGraph::LineKind::held) continue;
    const std::string name = "inoise_" + line.node;
    m.line_noise_sources.push_back(name);
    m.line_noise_source_lines.push_back(noise_line(name, line));
    m.line_noise_lines.push_back(static_cast<int>(l));
  }
  m.initial_conditions = std::move(w.initial_conditions);
  m.body = std::move(w.text);
  m.map = std::move(w.map);
  m.draws = std::move(w.draws);
  return m;
}

CtDie die_factors(const DeviceDraws& d, double slope_v) {
  CtDie die;
  if (d.empty()) return die;
  const auto m = [&](const pdk::MismatchDraw& x) {
    return (1 + x.dbeta) * std::exp(-x.dvth_v / slope_v);
  };
  for (size_t i = 0; i < d.copy.size(); ++i) die.copy.push_back(m(d.copy[i]) / m(d.copy_source[i]));
  for (size_t i = 0; i < d.bias_ref.size(); ++i)
    die.bias.push_back(m(d.bias_out[i]) / m(d.bias_ref[i]));
  for (size_t c = 0; c < d.cell_in.size(); ++c) {
    die.cell_in.push_back(1 / m(d.cell_in[c]));
    die.cell_ith.push_back(1 / m(d.cell_ith[c]));
    die.cell_iw.push_back(1 / m(d.cell_iw[c]));
    die.cell_ig.push_back(1 / m(d.cell_ig[c]));
  }
  return die;
}

}  // namespace bmru::models
