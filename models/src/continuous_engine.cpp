#include "models/continuous_engine.hpp"

#include <algorithm>
#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>
#include <cmath>
#include <functional>
#include <memory>

#include "core/errors.hpp"

namespace bmru::models {
namespace {

namespace odeint = boost::numeric::odeint;
using core::Index;
using State = Eigen::VectorXd;
using Stepper =
    odeint::runge_kutta_dopri5<State, double, State, double, odeint::vector_space_algebra>;

// The switch characteristic of a cell's comparator node around its switching point (normalised
// charge): steep, so the feedback is regenerative, smooth for the integrator.
constexpr double kSwitchWidth = 0.01;
double switched(double q, double q_s) {
  return 1.0 / (1.0 + std::exp(-(q - q_s) / kSwitchWidth));
}

struct Term {
  int node;
  double gain;       // +w sourced into the node, -w sunk from it
  double slope = 0;  // gain error per e-fold of the copied current (CtFacts::mirror_slope_*)
};

// A diode-connected line: y = ln I.
struct Node {
  std::vector<Term> in;
  double bias_a = 0;
  int input = -1;       // input part 2k (pos) or 2k+1 (neg) drives it
  int cell = -1;        // a cell's output line: I_in = I_gain s(q)
  double area_m2 = 0;   // gate area on the line (diode and the copies it drives)
  bool pmos = false;    // a PMOS line (its diode and copies are PMOS)
  double inv_sc = 0;    // 1 / (n U_T C)
  double ln_floor = 0;  // ln I_0 of its polarity (CtFacts::floor_a, floor_p_a)
};

struct Cell {
  int in_node = -1, out_node = -1;
  double ith_a = 0, iw_a = 0, ig_a = 0, half_a = 0;
  double q_s = 0.5, inv_q = 0;  // switching point, 1 / (Q_up + Q_down)
  bool init_on = false;
};

// A signal of the circuit: its n-line (NMOS diode) and p-line (PMOS diode), created on demand.
struct Signal {
  int n = -1, p = -1;
};

}  // namespace

struct ContinuousEngine::Impl {
  core::Network net;
  CtFacts facts;
  core::FrameAxis axis;
  std::vector<Node> nodes;
  std::vector<Cell> cells;                                     // layer-major
  std::vector<std::vector<int>> candidate_node, state_node;    // [layer][cell] nodes of the probes
  std::vector<std::vector<std::pair<Signal, Signal>>> output;  // [layer][cell] (pos, neg) signals
  std::vector<std::pair<std::vector<Term>, std::vector<Term>>> logit;  // per output: pos, neg terms
  std::vector<double> logit_bias_pos, logit_bias_neg;
  std::vector<double> x_prev, x_now;  // input parts (A), 2 per input
  double frame_start = 0;
  Index k = 0;
  State y;
  long long n_steps = 0;
  std::vector<std::vector<CtCrossings>> cross;
  double ref_area = 0;
  Integrator integrator = Integrator::rosenbrock;
  std::vector<Index> order;  // state indices in an order where every state follows its inputs
  // The nodes' input terms flattened (node i: [term_start[i], term_start[i + 1])), and the
  // Jacobian's off-diagonal pattern (row r: [jac_start[r], jac_start[r + 1]) of jac_col), fixed at
  // build: a node's entries are its terms then its cell's charge; a cell's charge row has its
  // candidate line.
  std::vector<int> term_start, term_node, jac_start, jac_col;
  std::vector<double> term_gain, term_slope;
  double ln_ref = 0;     // ln CtFacts::mirror_ref_a
  double diode_n = 1.4;  // n = n U_T / U_T, the exponent of the diode's drain term

  // (I_0 / I)^n of a line at y = ln I: its diode carries I (1 - r), with derivative in y
  // I (1 + (n - 1) r).
  double floor_ratio(const Node& n, double y) const { return std::exp(diode_n * (n.ln_floor - y)); }
  double h_last = 0;  // the last accepted step of the Rosenbrock integrator
  // 1 % in ln I and in a cell's charge fraction: on the demo (8 x 101 frames against SPICE)
  // 1e-3 gave the same states with 4 times the steps, 3e-2 lost 0.2 % of the agreement.
  double ct_atol = 1e-2;

  // The current a copy of gain g and slope k adds from a line at y = ln I, and its derivative in y.
  double copied(double g, double k, double y, double I) const {
    return g * I * (1 + k * (y - ln_ref));
  }
  double copied_dy(double g, double k, double y, double I) const {
    return g * I * (1 + k * (y - ln_ref + 1));
  }

  int add_node(double area) {
    nodes.push_back({});
    nodes.back().area_m2 = area;
    return static_cast<int>(nodes.size()) - 1;
  }
  // A unity copy makes the missing line of a signal.
  int pline(Signal& s) {
    if (s.p < 0) {
      s.p = add_node(ref_area);
      nodes[static_cast<size_t>(s.p)].pmos = true;
      nodes[static_cast<size_t>(s.p)].in.push_back({s.n, 1.0, facts.mirror_slope_pline});
      nodes[static_cast<size_t>(s.n)].area_m2 += ref_area;
    }
    return s.p;
  }
  int nline(Signal& s) {
    if (s.n < 0) {
      s.n = add_node(ref_area);
      nodes[static_cast<size_t>(s.n)].in.push_back({s.p, 1.0, facts.mirror_slope_p});
      nodes[static_cast<size_t>(s.p)].area_m2 += ref_area;
    }
    return s.n;
  }
  // w > 0 sources w s into dest (PMOS copy of the p-line), w < 0 sinks |w| s (NMOS copy).
  void copy(Signal& s, double w, int dest) {
    if (w == 0) return;
    const int line = w > 0 ? pline(s) : nline(s);
    nodes[static_cast<size_t>(line)].area_m2 += std::abs(w) * ref_area;
    nodes[static_cast<size_t>(dest)].in.push_back(
        {line, w, w > 0 ? facts.mirror_slope_p : facts.mirror_slope_n});
  }
  Signal diode(int node) {
    Signal s;
    s.n = node;
    return s;
  }

  void build() {
    const double u = net.unit_current_a;
    ref_area = facts.w_ref_m * facts.l_m;
    ln_ref = std::log(facts.mirror_ref_a);
    std::vector<std::pair<Signal, Signal>> x;
    for (Index i = 0; i < net.n_in(); ++i) {
      Signal p = diode(add_node(ref_area)), n = diode(add_node(ref_area));
      nodes[static_cast<size_t>(p.n)].input = static_cast<int>(2 * i);
      nodes[static_cast<size_t>(n.n)].input = static_cast<int>(2 * i + 1);
      x.push_back({p, n});
    }
    std::vector<std::pair<Signal, Signal>> uu;
    for (Index j = 0; j < net.d(); ++j) {
      const int pos = add_node(ref_area), neg = add_node(ref_area);
      for (Index i = 0; i < net.n_in(); ++i) {
        const double w = net.pre_proj.kernel(i, j);
        if (w == 0) continue;
        const double a = std::abs(w);
        copy(x[static_cast<size_t>(i)].first, a, w > 0 ? pos : neg);
        copy(x[static_cast<size_t>(i)].second, a, w > 0 ? neg : pos);
      }
      const double b = net.pre_proj.bias(j) * u;
      nodes[static_cast<size_t>(b > 0 ? pos : neg)].bias_a += std::abs(b);
      uu.push_back({diode(pos), diode(neg)});
    }
    for (Index l = 0; l < net.n_layers(); ++l) {
      const core::Layer& L = net.layers[static_cast<size_t>(l)];
      const auto kc = core::cell_constants(L);
      std::vector<Signal> a;
      for (Index i = 0; i < net.d(); ++i) {
        const int n = add_node(ref_area);
        copy(uu[static_cast<size_t>(i)].first, 1.0, n);
        copy(uu[static_cast<size_t>(i)].second, -1.0, n);
        a.push_back(diode(n));
      }
      std::vector<int> cand, state;
      std::vector<Signal> h;
      for (Index i = 0; i < net.d(); ++i) {
        const int n = add_node(ref_area);
        for (Index j = 0; j < net.d(); ++j)
          copy(a[static_cast<size_t>(j)], L.candidate.kernel(j, i), n);
        nodes[static_cast<size_t>(n)].bias_a += L.candidate.bias(i) * u;  // sourced (> 0) or sunk
        Signal c = diode(n);
        cand.push_back(n);
        Cell cell;
        cell.in_node = pline(c);
        nodes[static_cast<size_t>(cell.in_node)].area_m2 += ref_area;  // the cell's M1
        cell.ith_a = kc.beta_hi(i) * u;
        cell.iw_a = (kc.beta_hi(i) - kc.beta_lo(i)) * u;
        cell.ig_a = kc.alpha(i) * u;
        cell.half_a = cell.ig_a / 2;
        cell.q_s = facts.cell_q_up_c / (facts.cell_q_up_c + facts.cell_q_down_c);
        cell.inv_q = 1.0 / (facts.cell_q_up_c + facts.cell_q_down_c);
        cell.init_on = kc.h_init(i) > 0;
        Signal hs;
        hs.p = add_node(ref_area);  // M4, the cell's output diode (PMOS): its current is the state
        nodes[static_cast<size_t>(hs.p)].pmos = true;
        nodes[static_cast<size_t>(hs.p)].cell = static_cast<int>(cells.size());
        cell.out_node = hs.p;
        cells.push_back(cell);
        state.push_back(hs.p);
        h.push_back(hs);
      }
      std::vector<std::pair<Signal, Signal>> next;
      std::vector<std::pair<Signal, Signal>> out;
      for (Index i = 0; i < net.d(); ++i) {
        const int n = add_node(ref_area);
        for (Index j = 0; j < net.d(); ++j) copy(h[static_cast<size_t>(j)], L.post.kernel(j, i), n);
        nodes[static_cast<size_t>(n)].bias_a += L.post.bias(i) * u;
        Signal p = diode(n);
        const int pos = add_node(ref_area), neg = add_node(ref_area);
        copy(p, 1.0, pos);
        copy(uu[static_cast<size_t>(i)].first, 1.0, pos);
        copy(uu[static_cast<size_t>(i)].second, 1.0, neg);
        next.push_back({diode(pos), diode(neg)});
      }
      candidate_node.push_back(cand);
      state_node.push_back(state);
      uu = next;
      output.push_back(next);
    }
    for (Index j = 0; j < net.n_out(); ++j) {
      std::vector<Term> pos, neg;
      for (Index i = 0; i < net.d(); ++i) {
        const double w = net.fc.kernel(i, j);
        if (w == 0) continue;
        const double a = std::abs(w);
        auto& sp = uu[static_cast<size_t>(i)].first;
        auto& sn = uu[static_cast<size_t>(i)].second;
        const int lp = pline(sp), ln = pline(sn);
        nodes[static_cast<size_t>(lp)].area_m2 += a * ref_area;
        nodes[static_cast<size_t>(ln)].area_m2 += a * ref_area;
        (w > 0 ? pos : neg).push_back({lp, a, facts.mirror_slope_p});
        (w > 0 ? neg : pos).push_back({ln, a, facts.mirror_slope_p});
      }
      logit.push_back({pos, neg});
      const double b = net.fc.bias(j) * u;
      logit_bias_pos.push_back(b > 0 ? b : 0);
      logit_bias_neg.push_back(b < 0 ? -b : 0);
    }
    diode_n = facts.slope_v / facts.thermal_v;
    for (auto& n : nodes) n.ln_floor = std::log(n.pmos ? facts.floor_p_a : facts.floor_a);
    const auto cap = [&](const Node& n) {
      return facts.line_cap_scale * (n.pmos ? facts.cap_per_area_p_f_m2 : facts.cap_per_area_f_m2) *
             n.area_m2;
    };
    for (auto& n : nodes) n.inv_sc = 1.0 / (facts.slope_v * cap(n));
    for (auto& c : cells)  // the output line also carries the cell's own devices
      nodes[static_cast<size_t>(c.out_node)].inv_sc =
          1.0 /
          (facts.slope_v * (cap(nodes[static_cast<size_t>(c.out_node)]) + facts.cell_out_cap_f));
    cross.assign(static_cast<size_t>(net.n_layers()),
                 std::vector<CtCrossings>(static_cast<size_t>(net.d())));
    term_start.assign(1, 0);
    jac_start.assign(1, 0);
    for (const Node& n : nodes) {
      for (const Term& t : n.in) {
        term_node.push_back(t.node);
        term_gain.push_back(t.gain);
        term_slope.push_back(t.slope);
        jac_col.push_back(t.node);
      }
      if (n.cell >= 0) jac_col.push_back(static_cast<int>(nodes.size()) + n.cell);
      term_start.push_back(static_cast<int>(term_node.size()));
      jac_start.push_back(static_cast<int>(jac_col.size()));
    }
    for (const Cell& c : cells) {
      jac_col.push_back(c.in_node);
      jac_start.push_back(static_cast<int>(jac_col.size()));
    }
    // Topological order of the states (a state's inputs are its Jacobian row's columns): a node
    // after its input lines; a cell's charge after its candidate line, its output line after it.
    const auto n_states = jac_start.size() - 1;
    std::vector<int> mark(n_states, 0);
    const std::function<void(Index)> visit = [&](Index v) {
      const auto vi = static_cast<size_t>(v);
      if (mark[vi] == 2) return;
      if (mark[vi] == 1) throw Error("ct engine: the signal graph has a cycle");
      mark[vi] = 1;
      for (int e = jac_start[vi]; e < jac_start[vi + 1]; ++e)
        visit(jac_col[static_cast<size_t>(e)]);
      mark[vi] = 2;
      order.push_back(v);
    };
    for (size_t v = 0; v < n_states; ++v) visit(static_cast<Index>(v));
  }

  double input_at(int part, double t) const {
    const double r = axis.ramp_s > 0 ? std::clamp((t - frame_start) / axis.ramp_s, 0.0, 1.0) : 1.0;
    return x_prev[static_cast<size_t>(part)] +
           (x_now[static_cast<size_t>(part)] - x_prev[static_cast<size_t>(part)]) * r;
  }

  // The current into a node; `I` holds the lines' currents (exp of the first states of s).
  double node_input(Index i, const State& I, const State& s, double t) const {
    const Node& n = nodes[static_cast<size_t>(i)];
    double in = n.bias_a;
    if (n.input >= 0) in += input_at(n.input, t);
    for (int e = term_start[static_cast<size_t>(i)]; e < term_start[static_cast<size_t>(i) + 1];
         ++e) {
      const int j = term_node[static_cast<size_t>(e)];
      in +=
          copied(term_gain[static_cast<size_t>(e)], term_slope[static_cast<size_t>(e)], s(j), I(j));
    }
    if (n.cell >= 0) {
      const Cell& c = cells[static_cast<size_t>(n.cell)];
      in += c.ig_a * switched(s(static_cast<Index>(nodes.size()) + n.cell), c.q_s);
    }
    return in;
  }

  mutable State I_;  // scratch: line currents of the state being evaluated

  // The Jacobian of rhs, on the fixed pattern jac_start / jac_col: the diagonal, and the
  // off-diagonal values (every column before its row in `order`).
  struct Jacobian {
    std::vector<double> diag, off;
  };

  // ds = rhs(s, t) and, when j is given, its Jacobian, in one pass over the graph.
  void eval(const State& s, double t, State& ds, Jacobian* j) const {
    const auto M = static_cast<Index>(nodes.size());
    I_ = s.head(M).array().exp();
    if (j) {
      j->diag.resize(static_cast<size_t>(s.size()));
      j->off.resize(jac_col.size());
    }
    for (Index i = 0; i < M; ++i) {
      const Node& n = nodes[static_cast<size_t>(i)];
      const double in = node_input(i, I_, s, t);
      const double r = floor_ratio(n, s(i));
      ds(i) = (std::max(in, 0.0) - I_(i) * (1 - r)) * n.inv_sc;
      if (!j) continue;
      j->diag[static_cast<size_t>(i)] = -I_(i) * (1 + (diode_n - 1) * r) * n.inv_sc;
      auto e = static_cast<size_t>(jac_start[static_cast<size_t>(i)]);
      const bool cut = in <= 0;  // cut off: the inputs do not move it
      for (int k = term_start[static_cast<size_t>(i)]; k < term_start[static_cast<size_t>(i) + 1];
           ++k, ++e)
        j->off[e] =
            cut ? 0.0
                : copied_dy(term_gain[static_cast<size_t>(k)], term_slope[static_cast<size_t>(k)],
                            s(term_node[static_cast<size_t>(k)]),
                            I_(term_node[static_cast<size_t>(k)])) *
                      n.inv_sc;
      if (n.cell >= 0) {
        const Cell& c = cells[static_cast<size_t>(n.cell)];
        const double sw = switched(s(M + n.cell), c.q_s);
        j->off[e] = cut ? 0.0 : c.ig_a * sw * (1 - sw) / kSwitchWidth * n.inv_sc;
      }
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      const Cell& cell = cells[c];
      const Index qi = M + static_cast<Index>(c);
      const double q = s(qi), sw = switched(q, cell.q_s);
      const double net_a = I_(cell.in_node) + cell.iw_a * sw - cell.ith_a;
      // The node stops at its rails: the rate fades within 1 % of the rail it is driven into.
      const bool up = net_a > 0;
      const double g = up ? std::clamp((1.0 - q) / 0.01, 0.0, 1.0) : std::clamp(q / 0.01, 0.0, 1.0);
      ds(qi) = net_a * cell.inv_q * g;
      if (!j) continue;
      const double dg = up ? ((1.0 - q) / 0.01 < 1 && q < 1 ? -100.0 : 0.0)
                           : (q / 0.01 < 1 && q > 0 ? 100.0 : 0.0);
      j->diag[static_cast<size_t>(qi)] =
          cell.inv_q * (cell.iw_a * sw * (1 - sw) / kSwitchWidth * g + net_a * dg);
      j->off[static_cast<size_t>(jac_start[static_cast<size_t>(qi)])] =
          I_(cell.in_node) * cell.inv_q * g;
    }
  }
  void rhs(const State& s, State& ds, double t) const { eval(s, t, ds, nullptr); }

  // The steady state with the cells held where they are. The graph is acyclic but lines are made
  // on demand (after the nodes they feed), so passes repeat until nothing changes (at most its
  // depth plus one).
  void settle(double t) {
    const auto M = static_cast<Index>(nodes.size());
    for (Index i = 0; i < M; ++i) y(i) = nodes[static_cast<size_t>(i)].ln_floor;
    for (Index pass = 0; pass <= M; ++pass) {
      double change = 0;
      I_ = y.head(M).array().exp();
      for (Index i = 0; i < M; ++i) {
        const double v =
            rest(nodes[static_cast<size_t>(i)], std::max(node_input(i, I_, y, t), 0.0));
        change = std::max(change, std::abs(v - y(i)));
        y(i) = v;
        I_(i) = std::exp(v);
      }
      if (change < 1e-12) return;
    }
  }

  // ln I of a line at rest with input `in` >= 0 (its diode's current I (1 - r) = in), by Newton's
  // method from ln(in + I_0), which lies above the root of this increasing convex function.
  double rest(const Node& n, double in) const {
    double v = std::log(in + std::exp(n.ln_floor));
    for (int it = 0; it < 50; ++it) {
      const double I = std::exp(v), r = floor_ratio(n, v),
                   step = (I * (1 - r) - in) / (I * (1 + (diode_n - 1) * r));
      v -= step;
      if (std::abs(step) < 1e-13) break;
    }
    return v;
  }

  // Counts a crossing of alpha/2 by a cell output between two accepted states.
  void crossings_between(const State& a_state, double ta, const State& b_state, double tb) {
    for (size_t c = 0; c < cells.size(); ++c) {
      const Cell& cell = cells[c];
      const double a = std::exp(a_state(cell.out_node)) - cell.half_a,
                   b = std::exp(b_state(cell.out_node)) - cell.half_a;
      if ((a < 0) == (b < 0)) continue;
      const double at = ta + (tb - ta) * a / (a - b);
      auto& x = cross[c / static_cast<size_t>(net.d())][c % static_cast<size_t>(net.d())];
      if (x.count++ == 0) x.first_s = at - frame_start;
    }
  }

  void integrate(double t0, double t1) {
    if (t1 <= t0) return;
    if (integrator == Integrator::rosenbrock)
      integrate_rosenbrock(t0, t1);
    else
      integrate_dopri5(t0, t1);
  }

  // x := (I - gamma h J)^-1 b by forward substitution in topological order. False if a pivot is
  // not safely positive (a regenerative cell with too long a step).
  bool solve(const Jacobian& j, double gh, State& x) const {
    for (Index r : order) {
      double v = x(r);
      for (int e = jac_start[static_cast<size_t>(r)]; e < jac_start[static_cast<size_t>(r) + 1];
           ++e)
        v += gh * j.off[static_cast<size_t>(e)] * x(jac_col[static_cast<size_t>(e)]);
      const double pivot = 1.0 - gh * j.diag[static_cast<size_t>(r)];
      if (!(pivot > 0.2)) return false;
      x(r) = v / pivot;
    }
    return true;
  }

  // Integrates [t0, t1] with the two-stage L-stable Rosenbrock method ROS2 (Verwer et al. 1999)
  // and its embedded first-order solution for the step size. The Jacobian of this graph is
  // triangular in topological order (currents flow forward; a cell's loop is inside its charge),
  // so each stage is a forward substitution: steps are limited by accuracy, not by the stiffness
  // of the fast high-current lines that limits explicit methods (see integrate_dopri5).
  void integrate_rosenbrock(double t0, double t1) {
    const double gamma = 1.0 + 1.0 / std::sqrt(2.0);
    const double atol = ct_atol;  // in ln I (relative current) and in a cell's charge fraction
    double t = t0;
    double h = std::min(t1 - t0, h_last > 0 ? h_last : (t1 - t0) / 100);
    const auto n = y.size();
    State f0(n), k1(n), k2(n), y1(n), f1(n), e(n);
    Jacobian j;
    bool fresh = false;  // f0 and j belong to (y, t)
    while (t < t1) {
      h = std::min(h, t1 - t);
      if (!fresh) eval(y, t, f0, &j);
      fresh = true;
      k1 = f0;
      bool ok = solve(j, gamma * h, k1);
      if (ok) {
        y1 = y + h * k1;
        rhs(y1, f1, t + h);
        k2 = f1 - 2.0 * k1;
        ok = solve(j, gamma * h, k2);
      }
      if (!ok) {
        h /= 4;
        continue;
      }
      // y_{n+1} = y + 3/2 h k1 + 1/2 h k2; the first-order y + h k1 estimates the error, filtered
      // through (I - gamma h J)^-1 so that fast lines at rest do not hold the step down (Shampine).
      e = 0.5 * h * (k1 + k2);
      solve(j, gamma * h, e);
      // Error of a line in ln I, weighted by I / (I + 1 % of the unit current): a relative error
      // of a current far below every threshold and level does not matter.
      const auto M = static_cast<Index>(nodes.size());
      e.head(M).array() *= I_.array() / (I_.array() + 0.01 * net.unit_current_a);
      const double err = e.cwiseAbs().maxCoeff() / atol;
      if (err > 1.0 && h > 1e-12) {
        h *= std::max(0.2, 0.9 / std::sqrt(err));
        continue;
      }
      y1 = y + 1.5 * h * k1 + 0.5 * h * k2;
      ++n_steps;
      crossings_between(y, t, y1, t + h);
      y = y1;
      t += h;
      fresh = false;
      h_last = h;
      h *= std::min(4.0, std::max(0.2, 0.9 / std::sqrt(std::max(err, 1e-10))));
    }
  }

  // Integrates [t0, t1] with odeint's adaptive Dormand-Prince stepper and its dense output: the
  // reference the Rosenbrock integrator is checked against (explicit, so its steps are bounded by
  // the fastest line's time constant: tens of times slower here).
  void integrate_dopri5(double t0, double t1) {
    auto system = [this](const State& s, State& ds, double t) { rhs(s, ds, t); };
    auto stepper = odeint::make_dense_output(1e-4, 1e-4, Stepper());
    stepper.initialize(y, t0, std::min((t1 - t0) / 10, 1e-6));
    State prev = y, cur;
    double tp = t0;
    while (stepper.current_time() < t1) {
      stepper.do_step(system);
      ++n_steps;
      const double tc = std::min(stepper.current_time(), t1);
      if (tc < stepper.current_time())
        stepper.calc_state(tc, cur);
      else
        cur = stepper.current_state();
      crossings_between(prev, tp, cur, tc);
      prev = cur;
      tp = tc;
    }
    y = prev;
  }
};

ContinuousEngine::ContinuousEngine(const core::Network& net, const CtFacts& facts,
                                   const core::FrameAxis& axis, Integrator integrator)
    : impl_(std::make_unique<Impl>()) {
  impl_->integrator = integrator;
  core::validate(net);
  axis.check();
  impl_->net = net;
  impl_->facts = facts;
  impl_->axis = axis;
  impl_->build();
}

ContinuousEngine::~ContinuousEngine() = default;
ContinuousEngine::ContinuousEngine(ContinuousEngine&&) noexcept = default;

void ContinuousEngine::reset(Index batch) {
  if (batch != 1)
    throw InputError("ct engine: it integrates one sequence at a time (batch 1, got " +
                     std::to_string(batch) + ")");
  impl_->x_now.clear();  // the first step computes the operating point at its inputs
}

void ContinuousEngine::reset(const core::Matrix& x0) {
  Impl& m = *impl_;
  if (x0.cols() != m.net.n_in())
    throw InputError("ct engine: an input frame has " + std::to_string(x0.cols()) +
                     " values, the network takes " + std::to_string(m.net.n_in()));
  m.x_now.assign(static_cast<size_t>(2 * m.net.n_in()), 0.0);
  for (Index i = 0; i < m.net.n_in(); ++i) {
    const double v = x0(0, i) * m.net.unit_current_a;
    m.x_now[static_cast<size_t>(2 * i)] = std::max(v, 0.0);
    m.x_now[static_cast<size_t>(2 * i + 1)] = std::max(-v, 0.0);
  }
  m.x_prev = m.x_now;
  m.frame_start = 0;
  m.k = 0;
  m.y = State::Zero(static_cast<Index>(m.nodes.size() + m.cells.size()));
  for (size_t c = 0; c < m.cells.size(); ++c)
    m.y(static_cast<Index>(m.nodes.size() + c)) = m.cells[c].init_on ? 1.0 : 0.0;
  m.settle(0);
  m.n_steps = 0;
  m.h_last = 0;
}

void ContinuousEngine::set_state(Index layer, const core::Matrix& h) {
  Impl& m = *impl_;
  const auto d = m.net.d();
  for (Index i = 0; i < d; ++i) {
    const size_t c = static_cast<size_t>(layer * d + i);
    m.y(static_cast<Index>(m.nodes.size() + c)) = h(0, i) > 0 ? 1.0 : 0.0;
  }
}

void ContinuousEngine::step(const core::Matrix& x, core::Frame& out) {
  Impl& m = *impl_;
  if (m.x_now.empty()) reset(x);
  m.x_prev = m.x_now;
  for (Index i = 0; i < m.net.n_in(); ++i) {
    const double v = x(0, i) * m.net.unit_current_a;
    m.x_now[static_cast<size_t>(2 * i)] = std::max(v, 0.0);
    m.x_now[static_cast<size_t>(2 * i + 1)] = std::max(-v, 0.0);
  }
  for (auto& layer : m.cross) std::fill(layer.begin(), layer.end(), CtCrossings{});
  m.frame_start = m.axis.frame_start(m.k);
  const double ramp_end = m.axis.ramp_end(m.k), sample = m.axis.sample_time(m.k),
               end = m.axis.frame_start(m.k + 1);
  m.integrate(m.frame_start, ramp_end);
  m.integrate(ramp_end, sample);
  const double u = m.net.unit_current_a;
  const auto I = [&](int node) { return std::exp(m.y(node)); };
  out.layers.resize(static_cast<size_t>(m.net.n_layers()));
  for (Index l = 0; l < m.net.n_layers(); ++l) {
    auto& f = out.layers[static_cast<size_t>(l)];
    f.candidate.resize(1, m.net.d());
    f.state.resize(1, m.net.d());
    f.output.resize(1, m.net.d());
    for (Index i = 0; i < m.net.d(); ++i) {
      f.candidate(0, i) = I(m.candidate_node[static_cast<size_t>(l)][static_cast<size_t>(i)]) / u;
      f.state(0, i) = I(m.state_node[static_cast<size_t>(l)][static_cast<size_t>(i)]) / u;
      const auto& o = m.output[static_cast<size_t>(l)][static_cast<size_t>(i)];
      f.output(0, i) = (I(o.first.n) - I(o.second.n)) / u;
    }
  }
  out.logits.resize(1, m.net.n_out());
  for (Index j = 0; j < m.net.n_out(); ++j) {
    double pos = m.logit_bias_pos[static_cast<size_t>(j)],
           neg = m.logit_bias_neg[static_cast<size_t>(j)];
    for (const Term& t : m.logit[static_cast<size_t>(j)].first)
      pos += m.copied(t.gain, t.slope, m.y(t.node), I(t.node));
    for (const Term& t : m.logit[static_cast<size_t>(j)].second)
      neg += m.copied(t.gain, t.slope, m.y(t.node), I(t.node));
    out.logits(0, j) = (pos - neg) / u;
  }
  m.integrate(sample, end);
  ++m.k;
}

const std::vector<std::vector<CtCrossings>>& ContinuousEngine::crossings() const {
  return impl_->cross;
}
long long ContinuousEngine::steps() const {
  return impl_->n_steps;
}

}  // namespace bmru::models
