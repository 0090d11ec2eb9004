// The polarity plan of the generated circuit (circuit_graph.hpp): which summing nodes a PMOS diode
// closes, chosen so that the fewest signal currents need a conversion.
#include <algorithm>
#include <array>
#include <limits>

#include "models/circuit_graph.hpp"

namespace bmru::models {
namespace {

using core::Index;

constexpr double kInputPart = 0.5;  // every input part's estimated mean (model units)

// Mean line currents (model units) estimated from the network alone: every input part at half a
// unit, a pair's lines the sums of their terms, a ReLU node the difference where positive plus a
// quarter of the smaller line (inputs vary), each cell on half the time.
struct Estimate {
  std::vector<std::vector<double>> up, un;   // [0..L][cell] the pair lines
  std::vector<std::vector<double>> a, c, p;  // [layer - 1][cell]
};

Estimate estimate(const core::Network& net) {
  const auto d = static_cast<size_t>(net.d());
  Estimate e;
  std::vector<double> up(d, 0), un(d, 0);
  for (Index j = 0; j < net.d(); ++j) {
    for (Index k = 0; k < net.n_in(); ++k) {
      const double w = std::abs(net.pre_proj.kernel(k, j)) * kInputPart;
      up[static_cast<size_t>(j)] += w;
      un[static_cast<size_t>(j)] += w;
    }
    const double b = net.pre_proj.bias(j);
    (b > 0 ? up : un)[static_cast<size_t>(j)] += std::abs(b);
  }
  e.up.push_back(up);
  e.un.push_back(un);
  for (const core::Layer& L : net.layers) {
    const auto k = core::cell_constants(L);
    std::vector<double> a(d), c(d), p(d);
    for (size_t j = 0; j < d; ++j)
      a[j] = std::max(up[j] - un[j], 0.0) + 0.25 * std::min(up[j], un[j]);
    for (Index i = 0; i < net.d(); ++i) {
      double sum = L.candidate.bias(i), post = L.post.bias(i);
      for (Index j = 0; j < net.d(); ++j) {
        sum += L.candidate.kernel(j, i) * a[static_cast<size_t>(j)];
        post += L.post.kernel(j, i) * 0.5 * k.alpha(j);
      }
      c[static_cast<size_t>(i)] = std::max(sum, 0.0);
      p[static_cast<size_t>(i)] = std::max(post, 0.0);
    }
    for (size_t j = 0; j < d; ++j) up[j] += p[j];
    e.a.push_back(a);
    e.c.push_back(c);
    e.p.push_back(p);
    e.up.push_back(up);
    e.un.push_back(un);
  }
  return e;
}

// A term of sign s (+1 adds, -1 subtracts) into a node closed by a PMOS diode (dest_p) needs the
// signal's p-line when it is sourced: s > 0 into an NMOS-closed node or s < 0 into a PMOS-closed.
bool needs_p(double s, bool dest_p) {
  return (s > 0) != dest_p;
}
// The conversion a signal natively on a PMOS (native_p) line needs for these uses.
double conversion(double current, bool native_p, bool want_p, bool want_n) {
  return (native_p ? want_n : want_p) ? current : 0.0;
}

struct Layer {
  bool a_p, c_p;
};
struct PairState {
  bool pos_p, neg_p;
};
const std::array<PairState, 4> kPairs{{{false, false}, {false, true}, {true, false}, {true, true}}};
const std::array<Layer, 4> kLayers{{{false, false}, {false, true}, {true, false}, {true, true}}};

// The inputs' conversions, given how the pre-projection pair is closed.
double input_cost(const core::Network& net, PairState u0) {
  double cost = 0;
  for (Index k = 0; k < net.n_in(); ++k) {
    bool pos_p = false, pos_n = false, neg_p = false, neg_n = false;
    for (Index j = 0; j < net.d(); ++j) {
      const double w = net.pre_proj.kernel(k, j);
      if (w == 0) continue;
      // w > 0: x+ into u+, x- into u-; w < 0 the other way round; always adding.
      const bool pos_dest_p = w > 0 ? u0.pos_p : u0.neg_p, neg_dest_p = w > 0 ? u0.neg_p : u0.pos_p;
      (needs_p(1, pos_dest_p) ? pos_p : pos_n) = true;
      (needs_p(1, neg_dest_p) ? neg_p : neg_n) = true;
    }
    cost +=
        conversion(kInputPart, false, pos_p, pos_n) + conversion(kInputPart, false, neg_p, neg_n);
  }
  return cost;
}

// Layer l's conversions: its input pair's (read by a and the skip), a's (read by c), c's (read by
// the cell through its PMOS M1) and the post-projection's (read by the output pair).
double layer_cost(const core::Network& net, const Estimate& e, size_t l, PairState in, Layer y,
                  PairState out) {
  const core::Layer& L = net.layers[l];
  double cost = 0;
  for (Index j = 0; j < net.d(); ++j) {
    const auto jj = static_cast<size_t>(j);
    // u+ adds into a and into the output's pos line; u- subtracts from a and adds into neg.
    cost += conversion(e.up[l][jj], in.pos_p, needs_p(1, y.a_p) || needs_p(1, out.pos_p),
                       !needs_p(1, y.a_p) || !needs_p(1, out.pos_p));
    cost += conversion(e.un[l][jj], in.neg_p, needs_p(-1, y.a_p) || needs_p(1, out.neg_p),
                       !needs_p(-1, y.a_p) || !needs_p(1, out.neg_p));
    bool want_p = false, want_n = false;
    for (Index i = 0; i < net.d(); ++i) {
      const double w = L.candidate.kernel(j, i);
      if (w != 0) (needs_p(w, y.c_p) ? want_p : want_n) = true;
    }
    cost += conversion(e.a[l][jj], y.a_p, want_p, want_n);
    cost += conversion(e.c[l][jj], y.c_p, true, false);
    cost += conversion(e.p[l][jj], false, needs_p(1, out.pos_p), !needs_p(1, out.pos_p));
  }
  return cost;
}

// The last pair's conversions: the logit nodes are held, and every term is sourced into them.
double output_cost(const core::Network& net, const Estimate& e, PairState last) {
  const size_t l = e.up.size() - 1;
  double cost = 0;
  for (Index j = 0; j < net.d(); ++j) {
    cost += conversion(e.up[l][static_cast<size_t>(j)], last.pos_p, true, false);
    cost += conversion(e.un[l][static_cast<size_t>(j)], last.neg_p, true, false);
  }
  return cost;
}

}  // namespace

PolarityPlan all_nmos_plan(const core::Network& net) {
  const auto layers = static_cast<size_t>(net.n_layers());
  return {std::vector<bool>(layers + 1, false), std::vector<bool>(layers + 1, false),
          std::vector<bool>(layers, false), std::vector<bool>(layers, false)};
}

double conversion_estimate(const core::Network& net, const PolarityPlan& plan) {
  const Estimate e = estimate(net);
  double cost = input_cost(net, {plan.u_pos_p[0], plan.u_neg_p[0]});
  for (size_t l = 0; l < net.layers.size(); ++l)
    cost += layer_cost(net, e, l, {plan.u_pos_p[l], plan.u_neg_p[l]}, {plan.a_p[l], plan.c_p[l]},
                       {plan.u_pos_p[l + 1], plan.u_neg_p[l + 1]});
  const size_t last = net.layers.size();
  return cost + output_cost(net, e, {plan.u_pos_p[last], plan.u_neg_p[last]});
}

PolarityPlan lean_plan(const core::Network& net) {
  const Estimate e = estimate(net);
  const size_t layers = net.layers.size();
  // best[l][s]: the least cost of everything up to pair l closed as kPairs[s]; from[l][s] the
  // previous pair's state and the layer's choice that reach it.
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<std::array<double, 4>> best(layers + 1);
  std::vector<std::array<std::pair<size_t, size_t>, 4>> from(layers + 1);
  for (size_t s = 0; s < 4; ++s) best[0][s] = input_cost(net, kPairs[s]);
  for (size_t l = 0; l < layers; ++l)
    for (size_t t = 0; t < 4; ++t) {
      best[l + 1][t] = inf;
      for (size_t s = 0; s < 4; ++s)
        for (size_t y = 0; y < 4; ++y) {
          const double c = best[l][s] + layer_cost(net, e, l, kPairs[s], kLayers[y], kPairs[t]);
          if (c < best[l + 1][t]) best[l + 1][t] = c, from[l + 1][t] = {s, y};
        }
    }
  size_t state = 0;
  double least = inf;
  for (size_t t = 0; t < 4; ++t) {
    const double c = best[layers][t] + output_cost(net, e, kPairs[t]);
    if (c < least) least = c, state = t;
  }
  PolarityPlan plan = all_nmos_plan(net);
  for (size_t l = layers;; --l) {
    plan.u_pos_p[l] = kPairs[state].pos_p;
    plan.u_neg_p[l] = kPairs[state].neg_p;
    if (l == 0) break;
    const auto [s, y] = from[l][state];
    plan.a_p[l - 1] = kLayers[y].a_p;
    plan.c_p[l - 1] = kLayers[y].c_p;
    state = s;
  }
  return plan;
}

}  // namespace bmru::models
