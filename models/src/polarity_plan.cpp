// The polarity plan of the generated circuit (circuit_graph.hpp): which summing nodes a PMOS diode
// closes, chosen so that the fewest signal currents need a conversion.
#include <algorithm>

#include "models/circuit_graph.hpp"

namespace bmru::models {
namespace {

using core::Index;

constexpr double kInputPart = 0.5;  // every input part's estimated mean (model units)
constexpr size_t kExhaustiveLayers = 6;

// Mean line currents (model units) estimated from the network alone: every input part at half a
// unit, a pair's lines the sums of their terms, a ReLU node the difference where positive plus a
// quarter of the smaller line (inputs vary), each cell on half the time.
struct Estimate {
  std::vector<double> up, un;                // the pre-projection's pair, per cell
  std::vector<std::vector<double>> a, c, p;  // [layer - 1][cell]
  std::vector<std::vector<double>> h;  // [layer - 1][cell] the cells' outputs (on half the time)
};

Estimate estimate(const core::Network& net) {
  const auto d = static_cast<size_t>(net.d());
  Estimate e;
  e.up.assign(d, 0);
  e.un.assign(d, 0);
  for (Index j = 0; j < net.d(); ++j) {
    for (Index k = 0; k < net.n_in(); ++k) {
      const double w = std::abs(net.pre_proj.kernel(k, j)) * kInputPart;
      e.up[static_cast<size_t>(j)] += w;
      e.un[static_cast<size_t>(j)] += w;
    }
    const double b = net.pre_proj.bias(j);
    (b > 0 ? e.up : e.un)[static_cast<size_t>(j)] += std::abs(b);
  }
  std::vector<double> up = e.up;  // u_l's positive part
  for (const core::Layer& L : net.layers) {
    const auto k = core::cell_constants(L);
    std::vector<double> a(d), c(d), p(d), h(d);
    for (size_t j = 0; j < d; ++j)
      a[j] = std::max(up[j] - e.un[j], 0.0) + 0.25 * std::min(up[j], e.un[j]);
    for (Index i = 0; i < net.d(); ++i) {
      double sum = L.candidate.bias(i), post = L.post.bias(i);
      for (Index j = 0; j < net.d(); ++j) {
        sum += L.candidate.kernel(j, i) * a[static_cast<size_t>(j)];
        post += L.post.kernel(j, i) * 0.5 * k.alpha(j);
      }
      c[static_cast<size_t>(i)] = std::max(sum, 0.0);
      p[static_cast<size_t>(i)] = std::max(post, 0.0);
    }
    for (size_t j = 0; j < d; ++j) {
      up[j] += p[j];
      h[j] = 0.5 * k.alpha(static_cast<Index>(j));
    }
    e.a.push_back(a);
    e.c.push_back(c);
    e.p.push_back(p);
    e.h.push_back(h);
  }
  return e;
}

// A term of sign s (+1 adds, -1 subtracts) into a node closed by a PMOS diode (dest_p) needs the
// signal's p-line when it is sourced: s > 0 into an NMOS-closed node or s < 0 into a PMOS-closed.
bool needs_p(double s, bool dest_p) {
  return (s > 0) != dest_p;
}

// The polarities a signal's readers need.
struct Wants {
  bool p = false, n = false;
  void add(bool want_p) { (want_p ? p : n) = true; }
  // The conversion a signal natively on a PMOS (native_p) line needs for these readers.
  double cost(double current, bool native_p) const { return (native_p ? n : p) ? current : 0.0; }
};

// Whether the logits read line j of the residual stream (a nonzero weight in its row).
bool read_by_logits(const core::Network& net, Index j) {
  return (net.fc.kernel.row(j).array() != 0).any();
}

// The inputs' conversions, given how the pre-projection pair is closed.
double input_cost(const core::Network& net, bool pos_p, bool neg_p) {
  double cost = 0;
  for (Index k = 0; k < net.n_in(); ++k) {
    Wants pos, neg;
    for (Index j = 0; j < net.d(); ++j) {
      const double w = net.pre_proj.kernel(k, j);
      if (w == 0) continue;
      // w > 0: x+ into u+, x- into u-; w < 0 the other way round; always adding.
      pos.add(needs_p(1, w > 0 ? pos_p : neg_p));
      neg.add(needs_p(1, w > 0 ? neg_p : pos_p));
    }
    cost += pos.cost(kInputPart, false) + neg.cost(kInputPart, false);
  }
  return cost;
}

// The conversions of layer l's own signals that its candidates' closing decides: a's (read by the
// candidates) and c's (read by the cell through its PMOS M1).
double candidate_cost(const core::Network& net, const Estimate& e, size_t l, bool a_p, bool c_p) {
  double cost = 0;
  for (Index j = 0; j < net.d(); ++j) {
    Wants a;
    for (Index i = 0; i < net.d(); ++i) {
      const double w = net.layers[l].candidate.kernel(j, i);
      if (w != 0) a.add(needs_p(w, c_p));
    }
    cost += a.cost(e.a[l][static_cast<size_t>(j)], a_p);
    cost += Wants{true, false}.cost(e.c[l][static_cast<size_t>(j)], c_p);
  }
  return cost;
}

// Everything but the inputs' and candidate_cost: the residual stream's lines (read by every later
// layer's ReLU and by the logits) and the cells' outputs (read by the post-projection).
double stream_cost(const core::Network& net, const Estimate& e, const PolarityPlan& plan) {
  const size_t layers = net.layers.size();
  double cost = 0;
  for (Index j = 0; j < net.d(); ++j) {
    const auto jj = static_cast<size_t>(j);
    const bool logits = read_by_logits(net, j);
    // u0+ adds into every ReLU node, u0- subtracts; the logits source every line.
    Wants pos, neg;
    for (size_t l = 0; l < layers; ++l) {
      pos.add(needs_p(1, plan.a_p[l]));
      neg.add(needs_p(-1, plan.a_p[l]));
    }
    if (logits) {
      pos.add(true);
      neg.add(true);
    }
    cost += pos.cost(e.up[jj], plan.u_pos_p) + neg.cost(e.un[jj], plan.u_neg_p);
    for (size_t k = 0; k < layers; ++k) {
      Wants p;
      for (size_t l = k + 1; l < layers; ++l) p.add(needs_p(1, plan.a_p[l]));
      if (logits) p.add(true);
      cost += p.cost(e.p[k][jj], plan.p_p[k]);
      // Cell j's output (a PMOS line) into layer k's post-projection nodes.
      Wants h;
      for (Index i = 0; i < net.d(); ++i) {
        const double w = net.layers[k].post.kernel(j, i);
        if (w != 0) h.add(needs_p(w, plan.p_p[k]));
      }
      cost += h.cost(e.h[k][jj], true);
    }
  }
  return cost;
}

// Each layer's c closing is the better one for its a closing (nothing else reads them).
void choose_candidates(const core::Network& net, const Estimate& e, PolarityPlan& plan) {
  for (size_t l = 0; l < net.layers.size(); ++l)
    plan.c_p[l] = candidate_cost(net, e, l, plan.a_p[l], true) <
                  candidate_cost(net, e, l, plan.a_p[l], false);
}

double cost_of(const core::Network& net, const Estimate& e, const PolarityPlan& plan) {
  double cost = input_cost(net, plan.u_pos_p, plan.u_neg_p) + stream_cost(net, e, plan);
  for (size_t l = 0; l < net.layers.size(); ++l)
    cost += candidate_cost(net, e, l, plan.a_p[l], plan.c_p[l]);
  return cost;
}

// The closings the search sets (c follows a), as bits: u+, u-, then a and p per layer.
bool get_bit(const PolarityPlan& plan, size_t bit) {
  if (bit < 2) return bit == 0 ? plan.u_pos_p : plan.u_neg_p;
  return (bit - 2) % 2 == 0 ? plan.a_p[(bit - 2) / 2] : plan.p_p[(bit - 2) / 2];
}
void set_bit(PolarityPlan& plan, size_t bit, bool v) {
  if (bit == 0)
    plan.u_pos_p = v;
  else if (bit == 1)
    plan.u_neg_p = v;
  else if ((bit - 2) % 2 == 0)
    plan.a_p[(bit - 2) / 2] = v;
  else
    plan.p_p[(bit - 2) / 2] = v;
}

}  // namespace

PolarityPlan all_nmos_plan(const core::Network& net) {
  const auto layers = static_cast<size_t>(net.n_layers());
  PolarityPlan plan;
  plan.a_p.assign(layers, false);
  plan.c_p.assign(layers, false);
  plan.p_p.assign(layers, false);
  return plan;
}

double conversion_estimate(const core::Network& net, const PolarityPlan& plan) {
  return cost_of(net, estimate(net), plan);
}

PolarityPlan lean_plan(const core::Network& net) {
  const Estimate e = estimate(net);
  const size_t bits = 2 + 2 * net.layers.size();
  const auto with = [&](PolarityPlan plan) {
    choose_candidates(net, e, plan);
    return std::pair{cost_of(net, e, plan), plan};
  };
  auto [least, best] = with(all_nmos_plan(net));
  if (net.layers.size() <= kExhaustiveLayers) {
    for (size_t m = 1; m < (size_t{1} << bits); ++m) {
      PolarityPlan plan = all_nmos_plan(net);
      for (size_t b = 0; b < bits; ++b) set_bit(plan, b, (m >> b) & 1u);
      const auto [c, p] = with(plan);
      if (c < least) least = c, best = p;
    }
    return best;
  }
  // Deeper networks: flip one closing at a time while the estimate falls.
  for (bool better = true; better;) {
    better = false;
    for (size_t b = 0; b < bits; ++b) {
      PolarityPlan plan = best;
      set_bit(plan, b, !get_bit(plan, b));
      const auto [c, p] = with(plan);
      if (c < least) least = c, best = p, better = true;
    }
  }
  return best;
}

}  // namespace bmru::models
