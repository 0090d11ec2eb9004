#include "models/circuit_graph.hpp"

#include <cmath>
#include <deque>

#include "core/errors.hpp"

namespace bmru::models {
namespace {

using core::Index;
using Kind = CircuitGraph::LineKind;
using Element = CircuitGraph::Element;

std::string idx(const std::string& field, Index i) {
  return field + "[" + std::to_string(i) + "]";
}
std::string idx(const std::string& field, Index i, Index j) {
  return field + "[" + std::to_string(i) + "," + std::to_string(j) + "]";
}
std::string node(const std::string& base, Index a) {
  return base + std::to_string(a);
}

// A non-negative signal: its n-line and p-line (line indices, -1 until made); `native` is the one
// that carries it where it is formed (the other is a conversion).
struct Signal {
  std::string name;
  int n = -1, p = -1;
  int native = -1;
};
// A signed signal as the lines whose currents add to its positive and negative parts (the
// signals live in GraphBuilder::signals_, so a conversion made for one reader serves the next).
struct Bundle {
  std::vector<Signal*> pos, neg;
};
// A device name for part k of a bundle: the first part keeps the plain name.
std::string part(const std::string& name, size_t k) {
  return k == 0 ? name : name + "_" + std::to_string(k);
}

// Walks the network once, in the generator's order: inputs -> pre-projection -> per layer ReLU ->
// candidates -> cells -> post-projection -> logits.
class GraphBuilder {
 public:
  explicit GraphBuilder(CircuitGraph& g) : g_(g) {}

  void step(Element e, size_t index) { g_.order.push_back({e, static_cast<int>(index)}); }

  // A line whose element comes later (a summing node is made when its inputs are known).
  int reserve(Kind kind, const std::string& n) {
    CircuitGraph::Line line;
    line.kind = kind;
    line.node = n;
    line.gate = n;
    line.position = position_;
    g_.lines.push_back(line);
    return static_cast<int>(g_.lines.size()) - 1;
  }
  // A summing node, closed later by a PMOS (p) or NMOS diode.
  int summing(const std::string& n, bool p) {
    return reserve(p ? Kind::summing_p : Kind::summing, n);
  }
  // Closes a summing line with its diode and an optional sense source.
  Signal close(int line, const std::string& sense) {
    auto& l = g_.lines[static_cast<size_t>(line)];
    l.sense = sense;
    if (!sense.empty()) l.gate = l.node + "_d";
    l.device = "d_" + l.node;
    step(Element::line, static_cast<size_t>(line));
    if (l.kind == Kind::summing_p) return Signal{l.node, -1, line, line};
    return Signal{l.node, line, -1, line};
  }
  int add_copy(int from, int to, double gain, CircuitGraph::CopyKind kind,
               const std::string& name) {
    g_.copies.push_back({from, to, gain, kind, name, position_});
    step(Element::copy, g_.copies.size() - 1);
    return static_cast<int>(g_.copies.size()) - 1;
  }

  int pline(Signal& s) {
    if (s.p < 0) {
      s.p = reserve(Kind::pline, s.name + "_pl");
      g_.lines[static_cast<size_t>(s.p)].device = "dp_" + s.name;
      step(Element::line, static_cast<size_t>(s.p));
      add_copy(s.n, s.p, 1.0, CircuitGraph::CopyKind::pline_feed, "cp_" + s.name);
    }
    return s.p;
  }
  int nline(Signal& s) {
    if (s.n < 0) {
      s.n = reserve(Kind::nline, s.name + "_nl");
      g_.lines[static_cast<size_t>(s.n)].device = "dn_" + s.name;
      step(Element::line, static_cast<size_t>(s.n));
      add_copy(pline(s), s.n, 1.0, CircuitGraph::CopyKind::nline_feed, "cn_" + s.name);
    }
    return s.n;
  }
  // Adds w s to line `to` (w < 0 subtracts): into an NMOS-closed node w > 0 is sourced (a PMOS copy
  // of the p-line) and w < 0 sunk (an NMOS copy of the n-line); into a PMOS-closed node the other
  // way round.
  int copy(Signal& s, double w, int to, const std::string& name, CircuitGraph::CopyKind kind) {
    const double gain = w * g_.lines[static_cast<size_t>(to)].sign();
    const int from = gain > 0 ? pline(s) : nline(s);
    return add_copy(from, to, gain, kind, name);
  }
  void structural(Signal& s, double w, int to, const std::string& name) {
    copy(s, w, to, name, CircuitGraph::CopyKind::structural);
  }

  void pruned(const std::string& param) {
    g_.pruned.push_back({param});
    step(Element::pruned, g_.pruned.size() - 1);
  }
  // Weight w of a non-negative signal into one node: one device.
  void weight(Signal& s, double w, int to, const std::string& name, const std::string& param) {
    if (w == 0) return pruned(param);
    const int c = copy(s, w, to, name, CircuitGraph::CopyKind::weight);
    g_.weights.push_back({{c}, w, param});
    step(Element::weight, g_.weights.size() - 1);
  }
  // Weight w of a signed signal into a pair of nodes: every line of both parts, added.
  void weight(Bundle& s, double w, int pos, int neg, const std::string& name,
              const std::string& param) {
    if (w == 0) return pruned(param);
    const double a = std::abs(w);
    std::vector<int> copies;
    for (size_t k = 0; k < s.pos.size(); ++k)
      copies.push_back(copy(*s.pos[k], a, w > 0 ? pos : neg, part(name + "p", k),
                            CircuitGraph::CopyKind::weight));
    for (size_t k = 0; k < s.neg.size(); ++k)
      copies.push_back(copy(*s.neg[k], a, w > 0 ? neg : pos, part(name + "n", k),
                            CircuitGraph::CopyKind::weight));
    g_.weights.push_back({copies, w, param});
    step(Element::weight, g_.weights.size() - 1);
  }
  // A constant current adding b (model units) to `to` (b < 0 subtracts).
  void bias(double b, int to, const std::string& name, const std::string& param) {
    if (b == 0) return pruned(param);
    const double amps = b * g_.unit_current_a * g_.lines[static_cast<size_t>(to)].sign();
    g_.biases.push_back({to, amps, name, param, position_});
    step(Element::bias, g_.biases.size() - 1);
  }
  // The same into a pair: |b| added to pos (b > 0) or neg (b < 0).
  void bias(double b, int pos, int neg, const std::string& name, const std::string& param) {
    if (b == 0) return pruned(param);
    bias(std::abs(b), b > 0 ? pos : neg, name, param);
  }

  Signal* keep(const Signal& s) { return &signals_.emplace_back(s); }

  Bundle input(Index k) {
    const int p = reserve(Kind::summing, node("x", k) + "p");
    const int n = reserve(Kind::summing, node("x", k) + "n");
    g_.lines[static_cast<size_t>(p)].input = static_cast<int>(2 * k);
    g_.lines[static_cast<size_t>(n)].input = static_cast<int>(2 * k + 1);
    Bundle x{{keep(close(p, ""))}, {keep(close(n, ""))}};
    g_.inputs.push_back({k, p, n});
    step(Element::input, g_.inputs.size() - 1);
    return x;
  }
  // The lines (their native ones, behind sense sources) of a bundle, for the probes.
  static CircuitGraph::Bundle lines_of(const Bundle& b) {
    CircuitGraph::Bundle out;
    for (const Signal* s : b.pos) out.pos.push_back(s->native);
    for (const Signal* s : b.neg) out.neg.push_back(s->native);
    return out;
  }

  void cell(const core::CellConstants& k, Index l, Index i, Signal& c, std::vector<Signal>& h) {
    const std::string ci = "l" + std::to_string(l) + "_c" + std::to_string(i);
    const double u = g_.unit_current_a;
    CircuitGraph::Cell cell;
    cell.name = ci;
    cell.layer_param = "layer" + std::to_string(l);
    cell.index = i;
    cell.position = position_;
    cell.candidate_sum = c.native;
    cell.beta_lo_a = k.beta_lo(i) * u;
    cell.beta_hi_a = k.beta_hi(i) * u;
    cell.alpha_a = k.alpha(i) * u;
    cell.width_a = (k.beta_hi(i) - k.beta_lo(i)) * u;
    cell.init_on = k.h_init(i) > 0;
    g_.cells.push_back(cell);
    const size_t index = g_.cells.size() - 1;
    step(Element::cell_supply, index);  // its bias lines and supply lead come first
    g_.cells[index].candidate = pline(c);
    const int out = reserve(Kind::cell_output, "po_" + ci);
    g_.lines[static_cast<size_t>(out)].cell = static_cast<int>(index);
    g_.cells[index].output = out;
    step(Element::cell, index);
    Signal hs{"h_" + ci, -1, out};
    h.push_back(hs);
  }

  void layer(const core::Network& net, const PolarityPlan& plan, Index l, std::vector<Bundle>& u) {
    const auto at = static_cast<size_t>(l);
    const core::Layer& L = net.layers[static_cast<size_t>(l - 1)];
    const auto k = core::cell_constants(L);
    const std::string tag = "l" + std::to_string(l) + "_c", pl = "layer" + std::to_string(l);
    CircuitGraph::LayerProbes probes;
    // a = ReLU(u): every line of u+ added, every line of u- subtracted, into one node whose diode
    // cuts a negative net off.
    std::vector<Signal> a;
    for (Index i = 0; i < net.d(); ++i) {
      const std::string ci = tag + std::to_string(i);
      const int line = summing("a_" + ci, plan.a_p[at - 1]);
      Bundle& ui = u[static_cast<size_t>(i)];
      for (size_t j = 0; j < ui.pos.size(); ++j)
        structural(*ui.pos[j], 1.0, line, part("ap_" + ci, j));
      for (size_t j = 0; j < ui.neg.size(); ++j)
        structural(*ui.neg[j], -1.0, line, part("an_" + ci, j));
      a.push_back(close(line, ""));
    }
    std::vector<Signal> h;
    for (Index i = 0; i < net.d(); ++i) {
      const std::string ci = tag + std::to_string(i);
      const int line = summing("c_" + ci, plan.c_p[at - 1]);
      for (Index j = 0; j < net.d(); ++j)
        weight(a[static_cast<size_t>(j)], L.candidate.kernel(j, i), line,
               "w_c_" + ci + "_" + std::to_string(j), idx(pl + ".cand_kernel", j, i));
      bias(L.candidate.bias(i), line, "c_" + ci, idx(pl + ".cand_bias", i));
      Signal c = close(line, "vcand_" + ci);
      probes.candidate.push_back(line);
      probes.state.push_back(static_cast<int>(g_.cells.size()));
      cell(k, l, i, c, h);
    }
    // u_l = ReLU(h K_p + b_p) + u_{l-1}: the post-projection's line joins the bundle.
    for (Index i = 0; i < net.d(); ++i) {
      const std::string ci = tag + std::to_string(i);
      const int line = summing("p_" + ci, plan.p_p[at - 1]);
      for (Index j = 0; j < net.d(); ++j)
        weight(h[static_cast<size_t>(j)], L.post.kernel(j, i), line,
               "w_p_" + ci + "_" + std::to_string(j), idx(pl + ".post_kernel", j, i));
      bias(L.post.bias(i), line, "p_" + ci, idx(pl + ".post_bias", i));
      Bundle& ui = u[static_cast<size_t>(i)];
      ui.pos.push_back(keep(close(line, "vout_" + ci)));
      probes.output.push_back(lines_of(ui));
    }
    g_.layers.push_back(probes);
  }

  void build(const core::Network& net, const PolarityPlan& plan) {
    g_.unit_current_a = net.unit_current_a;
    g_.positions.push_back("pre");
    for (Index l = 1; l <= net.n_layers(); ++l) g_.positions.push_back("layer" + std::to_string(l));
    g_.positions.push_back("output");
    position_ = 0;
    std::vector<Bundle> x;
    for (Index k = 0; k < net.n_in(); ++k) x.push_back(input(k));
    // u_0 = x K_in + b_in, as pairs.
    std::vector<Bundle> u;
    for (Index j = 0; j < net.d(); ++j) {
      const int pos = summing(node("u0_", j) + "p", plan.u_pos_p);
      const int neg = summing(node("u0_", j) + "n", plan.u_neg_p);
      for (Index k = 0; k < net.n_in(); ++k)
        weight(x[static_cast<size_t>(k)], net.pre_proj.kernel(k, j), pos, neg,
               "w_in_" + std::to_string(k) + "_" + std::to_string(j), idx("pre_proj.kernel", k, j));
      bias(net.pre_proj.bias(j), pos, neg, node("in_", j), idx("pre_proj.bias", j));
      const std::string sense = node("vout_l0_c", j);
      u.push_back({{keep(close(pos, sense + "p"))}, {keep(close(neg, sense + "n"))}});
    }
    for (Index l = 1; l <= net.n_layers(); ++l) {
      position_ = static_cast<int>(l);
      layer(net, plan, l, u);
    }
    position_ = static_cast<int>(net.n_layers()) + 1;
    // Logits: pair nodes held at a fixed voltage by their sense sources.
    for (Index j = 0; j < net.n_out(); ++j) {
      const int pos = reserve(Kind::held, node("y", j) + "p");
      const int neg = reserve(Kind::held, node("y", j) + "n");
      for (Index i = 0; i < net.d(); ++i)
        weight(u[static_cast<size_t>(i)], net.fc.kernel(i, j), pos, neg,
               "w_fc_" + std::to_string(i) + "_" + std::to_string(j), idx("fc.kernel", i, j));
      bias(net.fc.bias(j), pos, neg, node("fc_", j), idx("fc.bias", j));
      for (const int line : {pos, neg}) {
        g_.lines[static_cast<size_t>(line)].sense =
            "Vlogit_" + g_.lines[static_cast<size_t>(line)].node;
        step(Element::line, static_cast<size_t>(line));
      }
      g_.logits.push_back({pos, neg});
    }
  }

 private:
  CircuitGraph& g_;
  int position_ = 0;            // of the elements being made
  std::deque<Signal> signals_;  // every signal of a bundle (stable addresses)
};

}  // namespace

CircuitGraph build_graph(const core::Network& net, const PolarityPlan& plan) {
  const auto layers = static_cast<size_t>(net.n_layers());
  if (plan.a_p.size() != layers || plan.c_p.size() != layers || plan.p_p.size() != layers)
    throw Error("build_graph: the polarity plan does not have the network's layers");
  CircuitGraph g;
  GraphBuilder(g).build(net, plan);
  return g;
}

CircuitGraph build_graph(const core::Network& net) {
  return build_graph(net, lean_plan(net));
}

std::vector<double> ideal_line_currents(const CircuitGraph& g, const core::Vector& x,
                                        const std::vector<bool>& on) {
  const size_t n = g.lines.size();
  if (x.size() != static_cast<core::Index>(g.inputs.size()) || on.size() != g.cells.size())
    throw Error("ideal_line_currents: " + std::to_string(x.size()) + " inputs and " +
                std::to_string(on.size()) + " cells for a circuit of " +
                std::to_string(g.inputs.size()) + " and " + std::to_string(g.cells.size()));
  std::vector<double> fixed(n, 0.0), I(n, 0.0);
  for (size_t l = 0; l < n; ++l) {
    const auto& line = g.lines[l];
    if (line.input >= 0) {
      const double v = x(line.input / 2) * g.unit_current_a;
      fixed[l] += line.input % 2 == 0 ? std::max(v, 0.0) : std::max(-v, 0.0);
    }
    if (line.kind == CircuitGraph::LineKind::cell_output && on[static_cast<size_t>(line.cell)])
      fixed[l] += g.cells[static_cast<size_t>(line.cell)].alpha_a;
  }
  for (const auto& b : g.biases) fixed[static_cast<size_t>(b.to)] += g.added(b);
  // The graph is acyclic once the cells' states are given: passes in order settle it in at most
  // as many passes as it has lines (in practice its depth).
  for (size_t pass = 0; pass <= n; ++pass) {
    std::vector<double> next = fixed;
    for (const auto& c : g.copies)
      next[static_cast<size_t>(c.to)] += g.added(c) * I[static_cast<size_t>(c.from)];
    for (size_t l = 0; l < n; ++l)
      if (g.lines[l].kind != CircuitGraph::LineKind::held) next[l] = std::max(next[l], 0.0);
    if (next == I) break;
    I = std::move(next);
  }
  return I;
}

}  // namespace bmru::models
