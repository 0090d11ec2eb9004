#include <algorithm>
#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>
#include <cmath>

#include "continuous_impl.hpp"

namespace bmru::models {
namespace {

namespace odeint = boost::numeric::odeint;
using State = ct_detail::State;
using Stepper =
    odeint::runge_kutta_dopri5<State, double, State, double, odeint::vector_space_algebra>;
using ct_detail::kSwitchWidth;
using ct_detail::switched;

}  // namespace

double ContinuousEngine::Impl::input_at(int part, double t) const {
  const double r = axis.ramp_s > 0 ? std::clamp((t - frame_start) / axis.ramp_s, 0.0, 1.0) : 1.0;
  return x_prev[static_cast<size_t>(part)] +
         (x_now[static_cast<size_t>(part)] - x_prev[static_cast<size_t>(part)]) * r;
}

// The current into a node; `I` holds the lines' currents (exp of the first states of s).
double ContinuousEngine::Impl::node_input(Index i, const State& I, const State& s, double t) const {
  const Node& n = nodes[static_cast<size_t>(i)];
  double in = n.bias_a;
  if (n.input >= 0) in += input_at(n.input, t);
  for (int e = term_start[static_cast<size_t>(i)]; e < term_start[static_cast<size_t>(i) + 1];
       ++e) {
    const int j = term_node[static_cast<size_t>(e)];
    in += copied(term_gain[static_cast<size_t>(e)], term_slope[static_cast<size_t>(e)], s(j), I(j));
  }
  if (n.cell >= 0) {
    const Cell& c = cells[static_cast<size_t>(n.cell)];
    in += c.ig_a * switched(s(static_cast<Index>(nodes.size()) + n.cell), c.q_s);
  }
  return in;
}

// ds = rhs(s, t) and, when j is given, its Jacobian, in one pass over the graph.
void ContinuousEngine::Impl::eval(const State& s, double t, State& ds, Jacobian* j) const {
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
    const double dg =
        up ? ((1.0 - q) / 0.01 < 1 && q < 1 ? -100.0 : 0.0) : (q / 0.01 < 1 && q > 0 ? 100.0 : 0.0);
    j->diag[static_cast<size_t>(qi)] =
        cell.inv_q * (cell.iw_a * sw * (1 - sw) / kSwitchWidth * g + net_a * dg);
    j->off[static_cast<size_t>(jac_start[static_cast<size_t>(qi)])] =
        I_(cell.in_node) * cell.inv_q * g;
  }
}

// The steady state with the cells held where they are. The graph is acyclic but lines are made
// on demand (after the nodes they feed), so passes repeat until nothing changes (at most its
// depth plus one).
void ContinuousEngine::Impl::settle(double t) {
  const auto M = static_cast<Index>(nodes.size());
  for (Index i = 0; i < M; ++i) y(i) = nodes[static_cast<size_t>(i)].ln_floor;
  for (Index pass = 0; pass <= M; ++pass) {
    double change = 0;
    I_ = y.head(M).array().exp();
    for (Index i = 0; i < M; ++i) {
      const double v = rest(nodes[static_cast<size_t>(i)], std::max(node_input(i, I_, y, t), 0.0));
      change = std::max(change, std::abs(v - y(i)));
      y(i) = v;
      I_(i) = std::exp(v);
    }
    if (change < 1e-12) return;
  }
}

// ln I of a line at rest with input `in` >= 0 (its diode's current I (1 - r) = in), by Newton's
// method from ln(in + I_0), which lies above the root of this increasing convex function.
double ContinuousEngine::Impl::rest(const Node& n, double in) const {
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
void ContinuousEngine::Impl::crossings_between(const State& a_state, double ta,
                                               const State& b_state, double tb) {
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

void ContinuousEngine::Impl::integrate(double t0, double t1) {
  if (t1 <= t0) return;
  if (integrator == Integrator::rosenbrock)
    integrate_rosenbrock(t0, t1);
  else
    integrate_dopri5(t0, t1);
}

// x := (I - gamma h J)^-1 b by forward substitution in topological order. False if a pivot is
// not safely positive (a regenerative cell with too long a step).
bool ContinuousEngine::Impl::solve(const Jacobian& j, double gh, State& x) const {
  for (Index r : order) {
    double v = x(r);
    for (int e = jac_start[static_cast<size_t>(r)]; e < jac_start[static_cast<size_t>(r) + 1]; ++e)
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
void ContinuousEngine::Impl::integrate_rosenbrock(double t0, double t1) {
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
void ContinuousEngine::Impl::integrate_dopri5(double t0, double t1) {
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

}  // namespace bmru::models
