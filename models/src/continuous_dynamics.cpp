#include <algorithm>
#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>
#include <cmath>
#include <functional>
#include <limits>

#include "continuous_impl.hpp"
#include "core/errors.hpp"

namespace bmru::models::ct_detail {
namespace {

namespace odeint = boost::numeric::odeint;
using Vector = Eigen::VectorXd;
using Stepper =
    odeint::runge_kutta_dopri5<Vector, double, Vector, double, odeint::vector_space_algebra>;

size_t at(Index i) {
  return static_cast<size_t>(i);
}
size_t at(int i) {
  return static_cast<size_t>(i);
}

// A die's factor for element i, 1 when nominal.
double die_factor(const std::vector<double>& f, int i) {
  return f.empty() ? 1.0 : f[at(i)];
}

}  // namespace

Params make_params(const Structure& st, const CtDie* die) {
  static const CtDie kNominal;
  const CtDie& d = die ? *die : kNominal;
  Params p;
  const auto biases = [&](const std::vector<BiasTerm>& terms) {
    double b = 0;
    for (const BiasTerm& e : terms) b += e.added_a * die_factor(d.bias, e.bias);
    return b;
  };
  const auto gains = [&](const std::vector<Term>& terms, std::vector<double>& out) {
    for (const Term& t : terms) out.push_back(t.gain * die_factor(d.copy, t.copy));
  };
  for (const Node& n : st.nodes) {
    gains(n.in, p.term_gain);
    p.bias.push_back(biases(n.biases));
  }
  for (size_t c = 0; c < st.cells.size(); ++c) {
    const Cell& cell = st.cells[c];
    const int ci = static_cast<int>(c);
    p.ith.push_back(cell.ith_a * die_factor(d.cell_ith, ci));
    p.iw.push_back(cell.iw_a * die_factor(d.cell_iw, ci));
    p.ig.push_back(cell.ig_a * die_factor(d.cell_ig, ci));
    p.in_gain.push_back(die_factor(d.cell_in, ci));
  }
  for (size_t j = 0; j < st.logit.size(); ++j) {
    p.logit_gain.emplace_back();
    gains(st.logit[j].first, p.logit_gain.back().first);
    gains(st.logit[j].second, p.logit_gain.back().second);
    p.logit_bias.push_back({biases(st.logit_bias[j].first), biases(st.logit_bias[j].second)});
  }
  return p;
}

template <int W>
void Pack<W>::shape(const Structure& st) {
  s = &st;
  const Lane zero = Lane::Zero();
  term_gain.assign(st.term_node.size(), zero);
  bias.assign(st.nodes.size(), zero);
  for (auto* v : {&ith, &iw, &ig, &half, &ln_half, &in_gain}) v->assign(st.cells.size(), zero);
  cross_count.assign(st.cells.size(), zero);
  cross_first.assign(st.cells.size(), Lane::Constant(-1));
  y.assign(static_cast<size_t>(st.n_states()), zero);
  sample = y;
  x_prev.assign(static_cast<size_t>(2 * st.net.n_in()), zero);
  x_now = x_prev;
  loaded.assign(W, -1);
}

template <int W>
void Pack<W>::load(int b, const Params& p, int which) {
  real(b) = true;
  if (loaded[at(b)] == which) return;
  loaded[at(b)] = which;
  for (size_t e = 0; e < p.term_gain.size(); ++e) term_gain[e](b) = p.term_gain[e];
  for (size_t i = 0; i < p.bias.size(); ++i) bias[i](b) = p.bias[i];
  for (size_t c = 0; c < p.ith.size(); ++c) {
    ith[c](b) = p.ith[c];
    iw[c](b) = p.iw[c];
    ig[c](b) = p.ig[c];
    half[c](b) = p.ig[c] / 2;
    ln_half[c](b) = std::log(p.ig[c] / 2);
    in_gain[c](b) = p.in_gain[c];
  }
}

template <int W>
typename Pack<W>::Lane Pack<W>::input_at(int part, const Lane& t) const {
  const Lane& a = x_prev[at(part)];
  const Lane& b = x_now[at(part)];
  if (!(s->axis.ramp_s > 0)) return b;
  const Lane r = ((t - frame_start) / s->axis.ramp_s).max(0.0).min(1.0);
  return a + (b - a) * r;
}

template <int W>
typename Pack<W>::Lane Pack<W>::node_input(Index i, const State& I, const State& st, const Lane& t,
                                           const State& sw) const {
  const Node& n = s->nodes[at(i)];
  Lane in = bias[at(i)];
  if (n.input >= 0) in += input_at(n.input, t);
  for (int e = s->term_start[at(i)]; e < s->term_start[at(i) + 1]; ++e) {
    const int j = s->term_node[at(e)];
    in += copied(term_gain[at(e)], s->term_slope[at(e)], st[at(j)], I[at(j)]);
  }
  if (n.cell >= 0) in += ig[at(n.cell)] * sw[at(n.cell)];
  const int source = s->noise_on_lines ? static_cast<int>(i) : n.noise;
  if (source >= 0)
    for (int b = 0; b < W; ++b)
      if (noise[at(b)]) in(b) += (*noise[at(b)])[at(source)].at(t(b));
  return in;
}

template <int W>
void Pack<W>::cell_outputs(const State& st) const {
  const Index M = s->n_nodes();
  sw_.resize(s->cells.size());
  for (size_t c = 0; c < s->cells.size(); ++c)
    sw_[c] = s->leak_tau > 0 ? st[at(M) + c] : switched(st[at(M) + c], s->cells[c].q_s);
}

template <int W>
void Pack<W>::eval(const State& st, const Lane& t, State& ds, Jacobian* j) const {
  const Index M = s->n_nodes();
  I_.resize(at(M));
  for (Index i = 0; i < M; ++i) I_[at(i)] = fast_exp(st[at(i)]);
  cell_outputs(st);
  const bool leaky = s->leak_tau > 0;
  ds.resize(st.size());
  if (j) {
    j->diag.resize(st.size());
    j->off.resize(s->jac_col.size());
    j->live.resize(at(M));
  }
  for (Index i = 0; i < M; ++i) {
    const Node& n = s->nodes[at(i)];
    const Lane in = node_input(i, I_, st, t, sw_);
    const Lane r = floor_ratio(n, st[at(i)], true);
    ds[at(i)] = (in.max(0.0) - I_[at(i)] * (1 - r)) * n.inv_sc;
    if (!j) continue;
    j->diag[at(i)] = -I_[at(i)] * (1 + (s->diode_n - 1) * r) * n.inv_sc;
    auto e = at(s->jac_start[at(i)]);
    // Cut off (no net input), the inputs do not move it: a 0/1 factor, so that the terms below
    // are plain vector products.
    const Lane& live = j->live[at(i)] = (in > 0).template cast<double>() * n.inv_sc;
    for (int k = s->term_start[at(i)]; k < s->term_start[at(i) + 1]; ++k, ++e) {
      const int from = s->term_node[at(k)];
      j->off[e] =
          live * copied_dy(term_gain[at(k)], s->term_slope[at(k)], st[at(from)], I_[at(from)]);
    }
    if (n.cell >= 0) {
      const Lane& sw = sw_[at(n.cell)];
      if (leaky)
        j->off[e] = live * ig[at(n.cell)];
      else
        j->off[e] = live * ig[at(n.cell)] * sw * (1 - sw) / kSwitchWidth;
    }
  }
  for (size_t c = 0; c < s->cells.size(); ++c) {
    const Cell& cell = s->cells[c];
    const size_t qi = at(M) + c;
    const Lane& q = st[qi];
    const Lane& sw = sw_[c];
    const Lane in = I_[at(cell.in_node)] * in_gain[c];
    if (leaky) {  // dq/dt = (in / alpha - q) / tau
      const double k = 1 / s->leak_tau;
      ds[qi] = (in / ig[c] - q) * k;
      if (!j) continue;
      j->diag[qi] = Lane::Constant(-k);
      j->off[at(s->jac_start[qi])] = in / ig[c] * k;
      continue;
    }
    const Lane net_a = in + iw[c] * sw - ith[c];
    // The node stops at its rails: the rate fades as 1 - e^-x, x the distance from the rail it is
    // driven into in units of 1 % (smooth, so the integrator's order holds up to the rail).
    const Mask up = net_a > 0;
    const Lane x = (up.select(1.0 - q, q) / kRailWidth).max(0.0);
    const Lane fade = fast_exp(-x);
    const Lane g = 1.0 - fade;
    ds[qi] = net_a * cell.inv_q * g;
    if (!j) continue;
    const Lane dg = (x > 0).select(up.select(-fade, fade) / kRailWidth, 0.0);
    j->diag[qi] = cell.inv_q * (iw[c] * sw * (1 - sw) / kSwitchWidth * g + net_a * dg);
    j->off[at(s->jac_start[qi])] = in * cell.inv_q * g;
  }
}

template <int W>
void Pack<W>::settle(double t) {
  const Index M = s->n_nodes();
  for (Index i = 0; i < M; ++i) y[at(i)] = Lane::Constant(s->nodes[at(i)].ln_floor);
  const Lane tl = Lane::Constant(t);
  I_.resize(at(M));
  for (Index pass = 0; pass <= M; ++pass) {
    double change = 0;
    for (Index i = 0; i < M; ++i) I_[at(i)] = y[at(i)].exp();
    cell_outputs(y);
    for (Index i = 0; i < M; ++i) {
      const Lane v = rest(s->nodes[at(i)], node_input(i, I_, y, tl, sw_).max(0.0));
      change = std::max(change, (v - y[at(i)]).abs().maxCoeff());
      y[at(i)] = v;
      I_[at(i)] = v.exp();
    }
    if (change < 1e-12) return;
  }
}

template <int W>
typename Pack<W>::Lane Pack<W>::rest(const Node& n, const Lane& in) const {
  Lane v = (in + std::exp(n.ln_floor)).log();
  for (int it = 0; it < 50; ++it) {
    const Lane I = v.exp(), r = floor_ratio(n, v, false);
    const Lane step = (I * (1 - r) - in) / (I * (1 + (s->diode_n - 1) * r));
    v -= step;
    if (step.abs().maxCoeff() < 1e-13) break;
  }
  return v;
}

template <int W>
void Pack<W>::crossings_between(const State& sa, const Lane& ta, const State& sb, const Lane& tb,
                                const Mask& mask, const Slopes* slopes) {
  for (size_t c = 0; c < s->cells.size(); ++c) {
    const auto out = at(s->cells[c].out_node);
    // Compared in ln I (no exponential unless a lane crossed).
    const Mask crossed = mask && ((sa[out] < ln_half[c]) != (sb[out] < ln_half[c]));
    if (!crossed.any()) continue;
    Lane when;
    if (slopes) {
      // Timed on the cubic Hermite through both ends' ln I and slopes, by bisection (its ends
      // lie on either side of ln(alpha / 2)).
      when = ta;
      for (int b = 0; b < W; ++b) {
        if (!crossed(b)) continue;
        const double y0 = sa[out](b) - ln_half[c](b), y1 = sb[out](b) - ln_half[c](b);
        const double h = tb(b) - ta(b), m0 = h * (*slopes->a)[out](b),
                     m1 = h * (*slopes->b)[out](b);
        const auto p = [&](double u) {
          const double u2 = u * u, u3 = u2 * u;
          return (2 * u3 - 3 * u2 + 1) * y0 + (u3 - 2 * u2 + u) * m0 + (3 * u2 - 2 * u3) * y1 +
                 (u3 - u2) * m1;
        };
        double lo = 0, hi = 1;
        for (int it = 0; it < 40; ++it) {
          const double mid = 0.5 * (lo + hi);
          ((p(mid) < 0) == (y0 < 0) ? lo : hi) = mid;
        }
        when(b) = ta(b) + h * 0.5 * (lo + hi);
      }
      when -= frame_start;
    } else {  // linearly in the current
      const Lane a = sa[out].exp() - half[c], b = sb[out].exp() - half[c];
      when = ta + (tb - ta) * a / (a - b) - frame_start;
    }
    cross_first[c] = (crossed && cross_count[c] == 0).select(when, cross_first[c]);
    cross_count[c] += crossed.template cast<double>();
  }
}

template <int W>
void Pack<W>::integrate(const std::vector<double>& stops, size_t sample_stop,
                        const std::function<bool(int)>& done) {
  if (s->integrator == Integrator::rosenbrock) {
    integrate_rosenbrock(stops, sample_stop, done);
    return;
  }
  do {
    for (size_t k = 0; k + 1 < stops.size(); ++k) {
      if (k == sample_stop) sample = y;
      integrate_dopri5(stops[k], stops[k + 1]);
    }
    if (sample_stop + 1 == stops.size()) sample = y;
  } while (done(0));
}

template <int W>
void Pack<W>::factor(const Jacobian& j, const Lane& gh, State& gh_pivot, Mask& ok) const {
  Lane smallest = Lane::Constant(1.0);
  gh_pivot.resize(j.diag.size());
  for (size_t r = 0; r < j.diag.size(); ++r) {
    const Lane pivot = 1.0 - gh * j.diag[r];
    smallest = smallest.min(pivot);
    gh_pivot[r] = gh / pivot;
  }
  ok = ok && smallest > 0.2;
}

// (I - gh J) K = gh x row by row: K_r (1 - gh J_rr) = gh (x_r + sum_c J_rc K_c), the columns c
// coming before r in topological order.
template <int W>
void Pack<W>::solve(const Jacobian& j, const State& gh_pivot, State& x) const {
  for (Index r : s->order) {
    Lane v = x[at(r)];
    for (int e = s->jac_start[at(r)]; e < s->jac_start[at(r) + 1]; ++e)
      v += j.off[at(e)] * x[at(s->jac_col[at(e)])];
    x[at(r)] = v * gh_pivot[at(r)];
  }
}

template <int W>
void Pack<W>::time_slope(const Jacobian& j, const Lane& t, const Lane& h, State& ft) const {
  const Index M = s->n_nodes();
  const Lane te = t + h;
  for (Index i = 0; i < M; ++i) {
    const Node& n = s->nodes[at(i)];
    Lane d = Lane::Zero();
    if (n.input >= 0) d = input_at(n.input, te) - input_at(n.input, t);
    const int source = s->noise_on_lines ? static_cast<int>(i) : n.noise;
    if (source >= 0)
      for (int b = 0; b < W; ++b)
        if (noise[at(b)])
          d(b) += (*noise[at(b)])[at(source)].at(te(b)) - (*noise[at(b)])[at(source)].at(t(b));
    ft[at(i)] = j.live[at(i)] * d / h.max(1e-300);
  }
  for (size_t c = 0; c < s->cells.size(); ++c) ft[at(M) + c] = Lane::Zero();
}

template <int W>
void Pack<W>::integrate_rosenbrock(const std::vector<double>& stops, size_t sample_stop,
                                   const std::function<bool(int)>& done) {
  // RODAS3's coefficients in the form of Hairer and Wanner (stages K_i as increments of y):
  // (I / (gamma h) - J) K_i = f(t + alpha_i h, y + sum_j a_ij K_j) + sum_j c_ij / h K_j
  //                           + gamma_i h f_t,
  // y_new = y + 2 K1 + K3 + K4, error K4. Stage 2 evaluates where stage 1 does (a_21 = 0,
  // alpha_2 = 0); stages 3 and 4 at t + h.
  constexpr double gamma = 0.5, c21 = 4, c31 = 1, c32 = -1, c41 = 1, c42 = -1, c43 = -8.0 / 3;
  constexpr double gamma1 = 0.5, gamma2 = 1.5;
  const double atol = s->ct_atol;                   // in ln I (relative current)
  const double q_weight = s->ct_atol / s->ct_qtol;  // a cell's charge fraction against it
  const Index M = s->n_nodes();
  const size_t n = y.size();
  const double floor_i = 0.01 * s->net.unit_current_a;
  const double t_end = stops.back();
  if (sample_stop == 0) sample = y;
  // Each slot's next stop (its index, and its time); a slot without a lane stays at the end.
  Lane next = Lane::Constant(1.0), target = Lane::Constant(stops[1]);
  Lane t = real.select(Lane::Constant(stops.front()), t_end);
  // A slot's first step towards its next stop: its lane's last first step, else a hundredth of
  // the way.
  const auto first_step = [&](int b) {
    return h_last(b) > 0 ? std::min(h_last(b), target(b) - t(b)) : (target(b) - t(b)) / 100;
  };
  Lane h;
  for (int b = 0; b < W; ++b) h(b) = first_step(b);
  // The step control's memory: each slot's last accepted step and its error (none yet: 0), and
  // whether its last attempt was rejected; and whether it has taken the frame's first step.
  Lane h_acc = Lane::Zero(), e_acc = Lane::Ones();
  Mask rejected = Mask::Constant(false), started = Mask::Constant(false);
  // A slot whose lane has run the frame takes the next lane waiting, from the frame's start.
  const auto restart = [&](int b) {
    h_acc(b) = 0;
    rejected(b) = false;
    started(b) = false;
    t(b) = stops.front();
    next(b) = 1;
    target(b) = stops[1];
    h(b) = first_step(b);
    if (sample_stop == 0)
      for (auto& v : sample) v(b) = y[&v - sample.data()](b);
  };
  State f0(n), ft(n), k1(n), k2(n), k3(n), k4(n), ys(n), fs(n), gh_pivot(n), I0;
  Jacobian j;
  bool fresh = false;  // f0 and j belong to (y, t)
  for (;;) {
    const Mask active = t < t_end;
    if (!active.any()) break;
    // A step that would end just short of the next stop is stretched onto it (no sliver of a
    // step after it).
    h = active.select((h * 1.01 >= target - t).select(target - t, h), 0.0);
    if (!fresh) {
      eval(y, t, f0, &j);
      I0.assign(I_.begin(), I_.end());
    }
    fresh = true;
    ++n_iterations;
    const Lane gh = gamma * h, inv_h = 1.0 / h.max(1e-300);
    Mask ok = active;
    factor(j, gh, gh_pivot, ok);
    // The rhs moves in time only while an input ramps or with noise (the slots' lanes change).
    const bool noisy = std::any_of(noise.begin(), noise.end(), [](const auto* v) { return v; });
    const bool timed = noisy || (s->axis.ramp_s > 0 && (t < frame_start + s->axis.ramp_s).any());
    if (timed) {
      time_slope(j, t, h, ft);
      for (size_t i = 0; i < n; ++i) k1[i] = f0[i] + gamma1 * h * ft[i];
    } else {
      k1 = f0;
    }
    solve(j, gh_pivot, k1);
    for (size_t i = 0; i < n; ++i) k2[i] = f0[i] + c21 * inv_h * k1[i];
    if (timed)
      for (size_t i = 0; i < n; ++i) k2[i] += gamma2 * h * ft[i];
    solve(j, gh_pivot, k2);
    for (size_t i = 0; i < n; ++i) ys[i] = y[i] + 2.0 * k1[i];
    eval(ys, t + h, fs, nullptr);
    for (size_t i = 0; i < n; ++i) k3[i] = fs[i] + inv_h * (c31 * k1[i] + c32 * k2[i]);
    solve(j, gh_pivot, k3);
    for (size_t i = 0; i < n; ++i) ys[i] += k3[i];
    eval(ys, t + h, fs, nullptr);
    for (size_t i = 0; i < n; ++i)
      k4[i] = fs[i] + inv_h * (c41 * k1[i] + c42 * k2[i] + c43 * k3[i]);
    solve(j, gh_pivot, k4);
    // Error of a line in ln I, weighted by I / (I + 1 % of the unit current), I the larger of its
    // currents at the step's start and its last stage: a relative error of a current far below
    // every threshold and level does not matter. (A stage far off the solution can overflow, and
    // max() drops a NaN: `sum` keeps it.)
    Lane err = Lane::Zero(), sum = Lane::Zero();
    for (Index i = 0; i < M; ++i) {
      const Lane I = I0[at(i)].max(I_[at(i)]);
      err = err.max((k4[at(i)] * I / (I + floor_i)).abs());
      sum += k4[at(i)];
    }
    for (size_t i = at(M); i < n; ++i) {
      err = err.max(k4[i].abs() * q_weight);
      sum += k4[i];
    }
    err /= atol;
    // A lane with a failed pivot retries at a quarter of its step; one whose error is too large
    // at a step shrunk by the error (not finite: by 5); the others advance.
    const Mask finite = sum.isFinite();
    const Mask too_big = ok && ((err > 1.0 && h > 1e-12) || !finite);
    const Mask stuck = too_big && !finite && h <= 1e-15;
    if (stuck.any()) {
      const auto b = std::find(stuck.data(), stuck.data() + W, true) - stuck.data();
      size_t bad = 0;
      while (bad + 1 < n && std::isfinite(k4[bad](b))) ++bad;
      const std::string what = bad < at(M) ? "line " + std::to_string(bad)
                                           : "cell " + std::to_string(bad - at(M)) + "'s charge";
      throw Error("ct engine: the integration failed (" + what + " is not finite) at t = " +
                  std::to_string(t(b)) + " s, with steps down to " + std::to_string(h(b)) + " s");
    }
    const Mask accept = ok && !too_big;
    // The step that would meet the tolerance (the error estimate is of order h^3).
    const Lane scale = finite.select(0.9 * err.max(1e-10).pow(-1.0 / 3), 0.2);
    h = (active && !ok).select(h / 4, h);
    h = too_big.select(h * scale.max(0.2), h);
    rejected = (rejected || too_big || (active && !ok)) && !accept;
    if (!accept.any()) continue;
    for (size_t i = 0; i < n; ++i) ys[i] += k4[i];
    const Lane tn = t + h;
    const Slopes slopes{&f0, &fs};  // fs: at the last stage, which the step ends next to
    crossings_between(y, t, ys, tn, accept, &slopes);
    if (accept.all())
      std::swap(y, ys);
    else
      for (size_t i = 0; i < n; ++i) y[i] = accept.select(ys[i], y[i]);
    n_steps += (accept && real).count();
    // A lane whose step ended on its next stop (the step was cut to it) moves on to the one after,
    // and leaves its states in `sample` at the sample stop.
    const Mask reached = accept && h >= target - t;
    t = reached.select(target, accept.select(tn, t));
    // The next frame starts with this frame's first step (its inputs' ramp again), not with the
    // long steps of the settled end.
    h_last = (accept && !started).select(h, h_last);
    started = started || accept;
    // Gustafsson's predictive control (as in Hairer and Wanner's RODAS): the smaller of the
    // step the error asks for and the one its trend from the last accepted step predicts, and
    // no growth right after a rejection. It cuts the rejections of a step that grows into a
    // cell's switching.
    const Lane e = err.max(1e-10);
    const Lane trend =
        (h_acc > 0).select(0.9 * (h / h_acc.max(1e-300)) * (e_acc / (e * e)).pow(1.0 / 3), scale);
    const Lane grow = rejected.select(scale.min(trend).min(1.0), scale.min(trend));
    h_acc = accept.select(h, h_acc);
    e_acc = accept.select(e.max(1e-2), e_acc);
    rejected = rejected && !accept;
    h = accept.select(h * grow.max(0.2).min(4.0), h);
    fresh = false;
    if (!reached.any()) continue;
    const Mask sampled = reached && next == static_cast<double>(sample_stop);
    if (sampled.any())
      for (size_t i = 0; i < n; ++i) sample[i] = sampled.select(y[i], sample[i]);
    next += reached.template cast<double>();
    for (int b = 0; b < W; ++b)
      target(b) = stops[std::min(static_cast<size_t>(next(b)), stops.size() - 1)];
    h = (h > 0).select(h, (target - t) / 100);
    for (int b = 0; b < W; ++b)
      if (reached(b) && t(b) >= t_end) {
        if (done(b))
          restart(b);
        else
          real(b) = false;
      }
  }
}

template <int W>
void Pack<W>::integrate_dopri5(double t0, double t1) {
  if constexpr (W != 1) {
    throw Error("ct engine: the dopri5 reference integrates one lane (batch 1)");
  } else {
    const size_t n = y.size();
    const auto to_state = [&](const Vector& v, State& out) {
      out.resize(n);
      for (size_t i = 0; i < n; ++i) out[i](0) = v(static_cast<Index>(i));
    };
    const auto to_vector = [&](const State& st) {
      Vector v(static_cast<Index>(n));
      for (size_t i = 0; i < n; ++i) v(static_cast<Index>(i)) = st[i](0);
      return v;
    };
    State sv, dv;
    auto system = [&](const Vector& v, Vector& dvdt, double t) {
      to_state(v, sv);
      eval(sv, Lane::Constant(t), dv, nullptr);
      dvdt = to_vector(dv);
    };
    auto stepper = odeint::make_dense_output(1e-4, 1e-4, Stepper());
    stepper.initialize(to_vector(y), t0, std::min((t1 - t0) / 10, 1e-6));
    State prev = y, cur;
    double tp = t0;
    const Mask all = Mask::Constant(true);
    while (stepper.current_time() < t1) {
      stepper.do_step(system);
      ++n_steps;
      ++n_iterations;
      const double tc = std::min(stepper.current_time(), t1);
      Vector v;
      if (tc < stepper.current_time())
        stepper.calc_state(tc, v);
      else
        v = stepper.current_state();
      to_state(v, cur);
      crossings_between(prev, Lane::Constant(tp), cur, Lane::Constant(tc), all);
      prev = cur;
      tp = tc;
    }
    y = prev;
  }
}

template struct Pack<1>;
template struct Pack<kPackWidth>;

}  // namespace bmru::models::ct_detail
