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
std::string idx(const std::string& field, Index i, Index j) {
  return field + "[" + std::to_string(i) + "," + std::to_string(j) + "]";
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
    if (o.mismatch_seed && tech.program_mismatch()) sampler_.emplace(*o.mismatch_seed);
  }

  std::string text;
  std::vector<MapEntry> map;
  std::vector<std::string> initial_conditions;

  void write(double vdd) {
    text += cell_subckt(t_, o_.cell_sizes);
    for (const auto& s : g_.supplies) {
      const std::string src = supply_source(s);
      text += src + " " + s.node + " 0 " + format_number(vdd) + "\n";
      structural(src);
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
    const std::string b = type == Polarity::n ? "0" : s;
    const std::string line = t_.device_line(name, d, g, s, b, dev);
    text += line + "\n";
    return line.substr(0, line.find(' '));
  }
  void structural(const std::string& instance) {
    map.push_back({instance, "structural", "structural", 0, ""});
  }
  double width(double w, Polarity type) const {
    return o_.mirror.width_for(w, type, o_.mirror_sizes);
  }
  double unity(Polarity type) const { return width(1.0, type); }
  const std::string& gate(int l) const { return g_.lines[static_cast<size_t>(l)].gate; }
  const std::string& node(int l) const { return g_.lines[static_cast<size_t>(l)].node; }

  void line(const CircuitGraph::Line& l) {
    const double w = o_.mirror_sizes.w_ref_m, len = o_.mirror_sizes.l_m;
    switch (l.kind) {
      case CircuitGraph::LineKind::summing:
        if (!l.sense.empty()) {
          text += l.sense + " " + l.node + " " + l.gate + " 0\n";
          structural(l.sense);
        }
        structural(device(l.device, Polarity::n, w, len, l.gate, l.gate, "0"));
        break;
      case CircuitGraph::LineKind::pline:
        structural(device(l.device, Polarity::p, w, len, l.gate, l.gate, "vdd_ff"));
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
        inst = device(c.name, Polarity::n, o_.mirror.pline_copy_width(o_.mirror_sizes), len, dest,
                      gate(c.from), "0");
        break;
      case CircuitGraph::CopyKind::nline_feed:
        inst = device(c.name, Polarity::p, unity(Polarity::p), len, dest, gate(c.from), "vdd_ff");
        break;
      default:
        inst = c.gain > 0 ? device(c.name, Polarity::p, width(c.gain, Polarity::p), len, dest,
                                   gate(c.from), "vdd_ff")
                          : device(c.name, Polarity::n, width(-c.gain, Polarity::n), len, dest,
                                   gate(c.from), "0");
    }
    instance_[index] = inst;
    if (c.kind != CircuitGraph::CopyKind::weight) structural(inst);
  }

  void weight(const CircuitGraph::Weight& w) {
    if (w.copies.size() == 1) {
      map.push_back({instance_[static_cast<size_t>(w.copies[0])], "weight_mirror", w.param,
                     width(std::abs(w.gain), w.gain > 0 ? Polarity::p : Polarity::n), "m"});
      return;
    }
    map.push_back({instance_[static_cast<size_t>(w.copies[0])] + "," +
                       instance_[static_cast<size_t>(w.copies[1])],
                   "weight_mirror_pair", w.param, width(std::abs(w.gain), Polarity::p), "m"});
  }

  // A constant current from a bias mirror; the element is the bias reference current.
  void bias(const CircuitGraph::Bias& b) {
    const double amps = std::abs(b.amps);
    const Polarity type = b.amps > 0 ? Polarity::p : Polarity::n;
    const std::string ref = "b_" + b.name;
    text += "I" + ref + (b.amps > 0 ? " " + ref + " 0 " : " vdd_bias " + ref + " ") +
            format_number(amps) + "\n";
    map.push_back({"I" + ref, "bias_source", b.param, amps, "A"});
    const std::string rail = b.amps > 0 ? "vdd_bias" : "0";
    structural(
        device("r" + ref, type, o_.mirror_sizes.w_ref_m, o_.mirror_sizes.l_m, ref, ref, rail));
    structural(device("o" + ref, type, unity(type), o_.mirror_sizes.l_m, node(b.to), ref, rail));
  }

  // A cell bias line: reference current from the bias supply into an NMOS diode.
  void cell_bias(const std::string& name, double amps, const std::string& kind,
                 const std::string& param) {
    text += "I" + name + " vdd_bias " + name + " " + format_number(amps) + "\n";
    map.push_back({"I" + name, kind, param, amps, "A"});
    const auto& n = o_.cell_sizes.mirror_n;
    structural(device("r" + name, Polarity::n, n.w_m, n.l_m, name, name, "0"));
  }
  void cell_supply(const CircuitGraph::Cell& c) {
    const CellBias cb = o_.cell.bias_for(c.beta_lo_a, c.beta_hi_a, c.alpha_a);
    const std::string& ci = c.name;
    cell_bias("gth_" + ci, cb.ithresh_a, "cell_ithresh", idx(c.layer_param + ".beta1", c.index));
    cell_bias("gw_" + ci, cb.iwidth_a, "cell_iwidth", idx(c.layer_param + ".delta", c.index));
    cell_bias("gg_" + ci, cb.igain_a, "cell_igain", idx(c.layer_param + ".alphas", c.index));
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
    for (const auto& [pos, neg] : layer.output) ports.output.push_back({branch(pos), branch(neg)});
    p.layers.push_back(ports);
  }
  for (const auto& c : g.cells) p.cell_supplies.push_back("vpwr_" + c.name);
  for (const auto& [pos, neg] : g.logits) p.logits.push_back({branch(pos), branch(neg)});
  return p;
}

}  // namespace

core::Network clamp_to_range(const core::Network& net, const RealisableRange& r,
                             std::vector<std::string>& changes) {
  core::Network out = net;
  const double u = net.unit_current_a;
  const auto note = [&](const std::string& field, double from, double to) {
    changes.push_back(field + ": " + format_number(from) + " -> " + format_number(to));
  };
  const auto weights = [&](const std::string& field, core::Matrix& k) {
    for (Index i = 0; i < k.rows(); ++i)
      for (Index j = 0; j < k.cols(); ++j) {
        const double w = k(i, j), a = std::abs(w);
        if (a == 0 || (a >= r.weight_min && a <= r.weight_max)) continue;
        const double to = a < r.weight_min / 2
                              ? 0.0
                              : std::copysign(std::clamp(a, r.weight_min, r.weight_max), w);
        note(idx(field, i, j), w, to);
        k(i, j) = to;
      }
  };
  const double lo = r.bias_min_a / u, hi = r.bias_max_a / u;
  const auto biases = [&](const std::string& field, core::Vector& b) {
    for (Index i = 0; i < b.size(); ++i) {
      const double v = b(i), a = std::abs(v);
      if (a == 0 || (a >= lo && a <= hi)) continue;
      const double to = a < lo / 2 ? 0.0 : std::copysign(std::clamp(a, lo, hi), v);
      note(idx(field, i), v, to);
      b(i) = to;
    }
  };
  const auto cells = [&](const std::string& name, core::Layer& L) {
    for (Index i = 0; i < L.d(); ++i) {
      const double alpha = std::clamp(std::abs(L.alphas(i)), lo, hi);
      if (alpha != std::abs(L.alphas(i)))
        note(idx(name + ".alphas", i), L.alphas(i), alpha), L.alphas(i) = alpha;
      const double width = std::abs(L.delta(i)), b_hi = std::abs(L.beta1(i)) + width;
      const double new_hi = std::clamp(b_hi, lo, hi);
      const double new_width =
          std::clamp(width, r.width_rel_min * new_hi + r.width_abs_min_a / u, new_hi);
      if (new_hi == b_hi && new_width == width) continue;
      const double new_lo = new_hi - new_width;
      if (new_lo != std::abs(L.beta1(i)))
        note(idx(name + ".beta1", i), L.beta1(i), new_lo), L.beta1(i) = new_lo;
      if (new_width != width)
        note(idx(name + ".delta", i), L.delta(i), new_width), L.delta(i) = new_width;
    }
  };
  core::for_each_parameter(
      out, [&](const std::string& group, const char* field, auto& array, core::ParameterKind kind) {
        const std::string path = group + "." + field;
        if constexpr (std::is_same_v<std::decay_t<decltype(array)>, core::Matrix>)
          weights(path, array);
        else if (kind == core::ParameterKind::bias)
          biases(path, array);
        else if (std::string(field) == "alphas")  // a layer's cells, once
          cells(group, out.layers[std::stoul(group.substr(5)) - 1]);
      });
  return out;
}

CircuitModel build_circuit(const core::Network& input_net, const pdk::Technology& tech,
                           const CircuitOptions& o) {
  core::validate(input_net);
  if (o.cell_sizes.interface_p.w_m != o.mirror_sizes.w_ref_m ||
      o.cell_sizes.interface_p.l_m != o.mirror_sizes.l_m)
    throw InputError(
        "The cell's interface devices (M1, M4) must have the size of the network's reference "
        "devices, or every copy into and out of a cell is off by their ratio");
  CircuitModel m;
  core::Network net = input_net;
  if (o.clamp) net = clamp_to_range(input_net, o.range, m.clamped);
  if (const auto bad = range_problems(net, o.range); !bad.empty()) {
    throw InputError("The network lies outside the circuit's realisable range (" +
                     std::to_string(bad.size()) + (bad.size() == 1 ? " parameter" : " parameters") +
                     "; use --clamp to clamp and report every change):" + problem_list(bad));
  }
  m.unit_current_a = net.unit_current_a;
  const CircuitGraph g = build_graph(net);
  Writer w(g, tech, o);
  w.write(o.conditions.vdd_v);
  for (const auto& in : g.inputs)
    for (const int l : {in.pos, in.neg})
      m.inputs.push_back({w.input_source(l), g.lines[static_cast<size_t>(l)].node});
  m.ports = port_map(g, w);
  m.initial_conditions = std::move(w.initial_conditions);
  m.body = std::move(w.text);
  m.map = std::move(w.map);
  return m;
}

}  // namespace bmru::models
