#include "models/circuit_model.hpp"

#include <cmath>
#include <map>
#include <memory>

#include "core/errors.hpp"
#include "core/units.hpp"
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

// A non-negative current on an n-line (NMOS diode node) and, when needed, a p-line.
struct Signal {
  std::string name;
  std::string nline, pline;
};
// A signed signal as (pos, neg).
struct Pair {
  std::shared_ptr<Signal> pos, neg;
};

class Builder {
 public:
  Builder(const pdk::Technology& tech, const CircuitOptions& o, double unit)
      : t_(tech), o_(o), unit_(unit) {
    if (o.mismatch_seed && tech.program_mismatch()) sampler_.emplace(*o.mismatch_seed);
  }

  std::string text;
  std::vector<MapEntry> map;

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

  // An NMOS diode at `node` (the ReLU of a summing node and the n-line of its signal), with an
  // optional zero-volt sense source in series whose branch current is the signal.
  std::shared_ptr<Signal> diode_node(const std::string& node, const std::string& sense) {
    auto s = std::make_shared<Signal>();
    s->name = node;
    s->nline = node;
    if (!sense.empty()) {
      text += sense + " " + node + " " + node + "_d 0\n";
      structural(sense);
      s->nline = node + "_d";
    }
    structural(device("d_" + node, Polarity::n, o_.mirror_sizes.w_ref_m, o_.mirror_sizes.l_m,
                      s->nline, s->nline, "0"));
    return s;
  }

  const std::string& pline(Signal& s) {
    if (s.pline.empty()) {  // unity NMOS copy sinking from a new PMOS diode
      s.pline = s.name + "_pl";
      structural(device("dp_" + s.name, Polarity::p, o_.mirror_sizes.w_ref_m, o_.mirror_sizes.l_m,
                        s.pline, s.pline, "vdd_ff"));
      structural(device("cp_" + s.name, Polarity::n, o_.mirror.pline_copy_width(o_.mirror_sizes),
                        o_.mirror_sizes.l_m, s.pline, s.nline, "0"));
    }
    return s.pline;
  }
  const std::string& nline(Signal& s) {
    if (s.nline.empty()) {  // unity PMOS copy sourcing into a new NMOS diode
      s.nline = s.name + "_nl";
      structural(device("dn_" + s.name, Polarity::n, o_.mirror_sizes.w_ref_m, o_.mirror_sizes.l_m,
                        s.nline, s.nline, "0"));
      structural(device("cn_" + s.name, Polarity::p, unity(Polarity::p), o_.mirror_sizes.l_m,
                        s.nline, pline(s), "vdd_ff"));
    }
    return s.nline;
  }

  // Sources w s into `dest` (PMOS copy of the p-line) for w > 0, or sinks |w| s (NMOS copy of
  // the n-line) for w < 0. Returns the instance.
  std::string copy(Signal& s, double w, const std::string& dest, const std::string& name) {
    if (w > 0)
      return device(name, Polarity::p, width(w, Polarity::p), o_.mirror_sizes.l_m, dest, pline(s),
                    "vdd_ff");
    return device(name, Polarity::n, width(-w, Polarity::n), o_.mirror_sizes.l_m, dest, nline(s),
                  "0");
  }

  // Weight w of a non-negative source into a single node: one device.
  void weight(Signal& s, double w, const std::string& dest, const std::string& name,
              const std::string& param) {
    if (w == 0) return pruned(param);
    map.push_back({copy(s, w, dest, name), "weight_mirror", param,
                   width(std::abs(w), w > 0 ? Polarity::p : Polarity::n), "m"});
  }
  // Weight w of a signed pair into a single node: a mirror pair of opposite polarity.
  void weight(Pair& s, double w, const std::string& dest, const std::string& name,
              const std::string& param) {
    if (w == 0) return pruned(param);
    const std::string a = copy(*s.pos, w, dest, name + "p");
    const std::string b = copy(*s.neg, -w, dest, name + "n");
    map.push_back({a + "," + b, "weight_mirror_pair", param, width(std::abs(w), Polarity::p), "m"});
  }
  // Weight w of a signed pair into a pair destination: both parts sourced (PMOS).
  void weight(Pair& s, double w, const std::string& dpos, const std::string& dneg,
              const std::string& name, const std::string& param) {
    if (w == 0) return pruned(param);
    const double a = std::abs(w);
    const std::string p = copy(*s.pos, a, w > 0 ? dpos : dneg, name + "p");
    const std::string n = copy(*s.neg, a, w > 0 ? dneg : dpos, name + "n");
    map.push_back({p + "," + n, "weight_mirror_pair", param, width(a, Polarity::p), "m"});
  }

  // A constant current b (model units) into `dest` (b > 0) or out of it (b < 0), from a bias
  // mirror; the element is the bias reference current.
  void bias(double b, const std::string& dest, const std::string& name, const std::string& param) {
    if (b == 0) return pruned(param);
    const double amps = std::abs(b) * unit_;
    const Polarity type = b > 0 ? Polarity::p : Polarity::n;
    const std::string ref = "b_" + name;
    text += "I" + ref + (b > 0 ? " " + ref + " 0 " : " vdd_bias " + ref + " ") +
            format_number(amps) + "\n";
    map.push_back({"I" + ref, "bias_source", param, amps, "A"});
    const std::string rail = b > 0 ? "vdd_bias" : "0";
    structural(
        device("r" + ref, type, o_.mirror_sizes.w_ref_m, o_.mirror_sizes.l_m, ref, ref, rail));
    structural(device("o" + ref, type, unity(type), o_.mirror_sizes.l_m, dest, ref, rail));
  }
  void bias(double b, const std::string& dpos, const std::string& dneg, const std::string& name,
            const std::string& param) {
    if (b == 0) return pruned(param);
    const double amps = std::abs(b) * unit_;
    const std::string ref = "b_" + name;
    text += "I" + ref + " " + ref + " 0 " + format_number(amps) + "\n";
    map.push_back({"I" + ref, "bias_source", param, amps, "A"});
    structural(device("r" + ref, Polarity::p, o_.mirror_sizes.w_ref_m, o_.mirror_sizes.l_m, ref,
                      ref, "vdd_bias"));
    structural(device("o" + ref, Polarity::p, unity(Polarity::p), o_.mirror_sizes.l_m,
                      b > 0 ? dpos : dneg, ref, "vdd_bias"));
  }

  // A cell bias line: reference current from the bias supply into an NMOS diode.
  std::string cell_bias(const std::string& name, double amps, const std::string& kind,
                        const std::string& param) {
    text += "I" + name + " vdd_bias " + name + " " + format_number(amps) + "\n";
    map.push_back({"I" + name, kind, param, amps, "A"});
    const auto& n = o_.cell_sizes.mirror_n;
    structural(device("r" + name, Polarity::n, n.w_m, n.l_m, name, name, "0"));
    return name;
  }

  void pruned(const std::string& param) { map.push_back({"", "pruned", param, 0, ""}); }
  double width(double w, Polarity type) const {
    return o_.mirror.width_for(w, type, o_.mirror_sizes);
  }
  double unity(Polarity type) const { return width(1.0, type); }

 private:
  const pdk::Technology& t_;
  const CircuitOptions& o_;
  double unit_;
  std::optional<pdk::MismatchSampler> sampler_;
};

std::string node(const std::string& base, Index a) {
  return base + std::to_string(a);
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
  weights("pre_proj.kernel", out.pre_proj.kernel);
  biases("pre_proj.bias", out.pre_proj.bias);
  for (size_t l = 0; l < out.layers.size(); ++l) {
    auto& L = out.layers[l];
    const std::string name = "layer" + std::to_string(l + 1);
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
    weights(name + ".cand_kernel", L.candidate.kernel);
    biases(name + ".cand_bias", L.candidate.bias);
    weights(name + ".post_kernel", L.post.kernel);
    biases(name + ".post_bias", L.post.bias);
  }
  weights("fc.kernel", out.fc.kernel);
  biases("fc.bias", out.fc.bias);
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
  Builder b(tech, o, net.unit_current_a);
  const double vdd = o.conditions.vdd_v;
  b.text += cell_subckt(tech, o.cell_sizes);
  for (const char* s : {"vdd_cells", "vdd_ff", "vdd_bias"}) {
    b.text += std::string("V") + (s + 4) + "_src " + s + " 0 " + format_number(vdd) + "\n";
    b.structural(std::string("V") + (s + 4) + "_src");
  }
  m.ports.supply_cells = "v" + std::string("cells_src");
  m.ports.supply_feedforward = "vff_src";
  m.ports.supply_bias = "vbias_src";

  // Inputs: a pair of caller-driven sources into NMOS diodes.
  std::vector<Pair> x;
  for (Index k = 0; k < net.n_in(); ++k) {
    Pair p{b.diode_node(node("x", k) + "p", ""), b.diode_node(node("x", k) + "n", "")};
    m.inputs.push_back({node("iin", k) + "p", p.pos->name});
    m.inputs.push_back({node("iin", k) + "n", p.neg->name});
    m.ports.inputs.push_back({m.inputs[m.inputs.size() - 2].name, m.inputs.back().name});
    b.structural("I" + m.inputs[m.inputs.size() - 2].name.substr(1));
    b.structural("I" + m.inputs.back().name.substr(1));
    x.push_back(p);
  }

  // u_0 = x K_in + b_in, as pairs.
  std::vector<Pair> u;
  for (Index j = 0; j < net.d(); ++j) {
    const std::string pos = node("u0_", j) + "p", neg = node("u0_", j) + "n";
    for (Index k = 0; k < net.n_in(); ++k)
      b.weight(x[static_cast<size_t>(k)], net.pre_proj.kernel(k, j), pos, neg,
               "w_in_" + std::to_string(k) + "_" + std::to_string(j), idx("pre_proj.kernel", k, j));
    b.bias(net.pre_proj.bias(j), pos, neg, node("in_", j), idx("pre_proj.bias", j));
    u.push_back({b.diode_node(pos, ""), b.diode_node(neg, "")});
  }

  for (Index l = 1; l <= net.n_layers(); ++l) {
    const core::Layer& L = net.layers[static_cast<size_t>(l - 1)];
    const auto k = cell_constants(L);
    const std::string tag = "l" + std::to_string(l) + "_c";
    LayerPorts ports;
    // a = ReLU(u): u+ sourced, u- sunk into one node whose NMOS diode cuts a negative net off.
    std::vector<std::shared_ptr<Signal>> a;
    for (Index i = 0; i < net.d(); ++i) {
      const std::string n = "a_" + tag + std::to_string(i);
      b.structural(b.copy(*u[static_cast<size_t>(i)].pos, 1.0, n, "ap_" + tag + std::to_string(i)));
      b.structural(
          b.copy(*u[static_cast<size_t>(i)].neg, -1.0, n, "an_" + tag + std::to_string(i)));
      a.push_back(b.diode_node(n, ""));
    }
    // Candidates, cells.
    std::vector<std::shared_ptr<Signal>> h;
    for (Index i = 0; i < net.d(); ++i) {
      const std::string ci = tag + std::to_string(i);
      const std::string n = "c_" + ci;
      for (Index j = 0; j < net.d(); ++j)
        b.weight(*a[static_cast<size_t>(j)], L.candidate.kernel(j, i), n,
                 "w_c_" + ci + "_" + std::to_string(j),
                 idx("layer" + std::to_string(l) + ".cand_kernel", j, i));
      b.bias(L.candidate.bias(i), n, "c_" + ci, idx("layer" + std::to_string(l) + ".cand_bias", i));
      auto c = b.diode_node(n, "vcand_" + ci);
      ports.candidate.push_back("vcand_" + ci + "#branch");
      const CellBias cb =
          o.cell.bias_for(k.beta_lo(i) * net.unit_current_a, k.beta_hi(i) * net.unit_current_a,
                          k.alpha(i) * net.unit_current_a);
      const std::string pl = "layer" + std::to_string(l);
      const std::string gth =
          b.cell_bias("gth_" + ci, cb.ithresh_a, "cell_ithresh", idx(pl + ".beta1", i));
      const std::string gw =
          b.cell_bias("gw_" + ci, cb.iwidth_a, "cell_iwidth", idx(pl + ".delta", i));
      const std::string gg =
          b.cell_bias("gg_" + ci, cb.igain_a, "cell_igain", idx(pl + ".alphas", i));
      const std::string cell = "xcell_" + ci;
      // The cell's own supply lead, through a zero-volt source: its current is the cell's power.
      b.text += "Vpwr_" + ci + " vdd_cells vddc_" + ci + " 0\n";
      b.structural("Vpwr_" + ci);
      m.ports.cell_supplies.push_back("vpwr_" + ci);
      b.text += cell + " vddc_" + ci + " 0 " + b.pline(*c) + " " + gth + " " + gw + " " + gg +
                " po_" + ci + " " + kCellSubckt + "\n";
      b.structural(cell);
      const bool high = k.h_init(i) > 0;
      m.initial_conditions.push_back(".ic v(" + cell + ".v0)=" + format_number(high ? vdd : 0.0));
      b.map.push_back({".ic v(" + cell + ".v0)", "initial_condition", idx(pl + ".initial_state", i),
                       high ? vdd : 0.0, "V"});
      ports.state.push_back("v." + cell + ".vs#branch");
      auto hs = std::make_shared<Signal>();
      hs->name = "h_" + ci;
      hs->pline = "po_" + ci;
      h.push_back(hs);
    }
    // Post-projection (ReLU) plus skip.
    std::vector<Pair> next;
    for (Index i = 0; i < net.d(); ++i) {
      const std::string ci = tag + std::to_string(i);
      const std::string n = "p_" + ci;
      for (Index j = 0; j < net.d(); ++j)
        b.weight(*h[static_cast<size_t>(j)], L.post.kernel(j, i), n,
                 "w_p_" + ci + "_" + std::to_string(j),
                 idx("layer" + std::to_string(l) + ".post_kernel", j, i));
      b.bias(L.post.bias(i), n, "p_" + ci, idx("layer" + std::to_string(l) + ".post_bias", i));
      auto p = b.diode_node(n, "");
      const std::string pos = "u_" + ci + "p", neg = "u_" + ci + "n";
      b.structural(b.copy(*p, 1.0, pos, "sp_" + ci));
      b.structural(b.copy(*u[static_cast<size_t>(i)].pos, 1.0, pos, "kp_" + ci));
      b.structural(b.copy(*u[static_cast<size_t>(i)].neg, 1.0, neg, "kn_" + ci));
      next.push_back(
          {b.diode_node(pos, "vout_" + ci + "p"), b.diode_node(neg, "vout_" + ci + "n")});
      ports.output.push_back({"vout_" + ci + "p#branch", "vout_" + ci + "n#branch"});
    }
    u = next;
    m.ports.layers.push_back(ports);
  }

  // Logits: pair nodes held at a fixed voltage by their sense sources.
  for (Index j = 0; j < net.n_out(); ++j) {
    const std::string pos = node("y", j) + "p", neg = node("y", j) + "n";
    for (Index i = 0; i < net.d(); ++i)
      b.weight(u[static_cast<size_t>(i)], net.fc.kernel(i, j), pos, neg,
               "w_fc_" + std::to_string(i) + "_" + std::to_string(j), idx("fc.kernel", i, j));
    b.bias(net.fc.bias(j), pos, neg, node("fc_", j), idx("fc.bias", j));
    for (const auto& s : {pos, neg}) {
      b.text += "Vlogit_" + s + " " + s + " 0 " + format_number(o.logit_voltage) + "\n";
      b.structural("Vlogit_" + s);
    }
    m.ports.logits.push_back({"vlogit_" + pos + "#branch", "vlogit_" + neg + "#branch"});
  }
  m.body = std::move(b.text);
  m.map = std::move(b.map);
  return m;
}

}  // namespace bmru::models
