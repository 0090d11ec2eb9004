// Characterization of the continuous-time model's plain values on a technology, through ngspice:
// the effective capacitance of a mirror line (a current step on a diode with one copy), the
// current an idle line's copies carry, the mirrors' gain error against current, and (fitted so that
// the model's latencies match SPICE's in a one-cell network) the lines' capacitance in context and
// the switching charges of a cell.
#include "experiments/ct_facts.hpp"
#include "core/physics.hpp"

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "experiments/calibration.hpp"
#include "experiments/netlist.hpp"
#include "models/circuit_model.hpp"

namespace bmru::experiments {
namespace {

using core::format_number;

// First time after `from` at which `v` crosses `level` (linear between points); NaN if never.
double crossing(const std::vector<double>& t, const std::vector<double>& v, double from,
                double level) {
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i] <= from) continue;
    const double a = v[i - 1] - level, b = v[i] - level;
    if ((a < 0) != (b < 0)) return t[i - 1] + (t[i] - t[i - 1]) * a / (a - b);
  }
  return std::nan("");
}

// Fitted in context: a one-cell network (band [0.5, 0.7] nA, alpha 0.7 nA) whose input steps
// past each threshold by three overdrives (0.07, 0.28, 0.02 nA up; 0.05, 0.2, 0.02 nA down),
// through SPICE and through the ct model with the facts measured so far. For a scale of every
// line's capacitance, Q_up and Q_down are set so that the model's mean latency in their direction
// matches SPICE's; the scale is the one whose six latencies then match best (least squares): the
// overdrives tell the cell's charge (latency ~ Q / overdrive) from the lines' delay. (Fitted on a
// bench that steps current straight into the cell, latency = Q / overdrive + delay, the charges
// made ct switch 0.1-0.14 ms late at small overdrives in a network. With the charges alone fitted
// here, Q_up came out at 0.8 fC and ct switched cells on candidates a few pA past the threshold
// that SPICE's cells did not follow within a frame; without the 0.02 nA steps, 3 fC.)
void fit_in_context(spice::Session& session, const pdk::Technology& tech,
                    const models::CircuitOptions& options, models::CtFacts& f) {
  core::Network net;
  net.unit_current_a = 1e-9;
  const auto one = [](double v) { return core::Matrix::Constant(1, 1, v); };
  net.pre_proj = {one(1.0), core::Vector::Zero(1)};
  core::Layer layer;
  layer.alphas = core::Vector::Constant(1, 0.7);
  layer.beta1 = core::Vector::Constant(1, 0.5);
  layer.delta = core::Vector::Constant(1, 0.2);
  layer.initial_state = core::Vector::Zero(1);
  layer.candidate = {one(1.0), core::Vector::Zero(1)};
  layer.post = {one(1.0), core::Vector::Zero(1)};
  net.layers.push_back(layer);
  net.fc = {one(1.0), core::Vector::Zero(1)};
  const std::vector<double> levels{0.3,  0.3, 0.77, 0.77, 0.45, 0.45, 0.98,
                                   0.98, 0.3, 0.3,  0.72, 0.72, 0.48, 0.48};
  core::Matrix x(static_cast<core::Index>(levels.size()), 1);
  for (size_t i = 0; i < levels.size(); ++i) x(static_cast<core::Index>(i), 0) = levels[i];
  const std::vector<core::Index> up{2, 6, 10}, down{4, 8, 12},
      all{2, 4, 6, 8, 10, 12};  // the frames whose step switches it
  const auto axis = core::FrameAxis::with_period(10e-3);
  const double T = axis.period_s, half = 0.35e-9;

  const models::CircuitModel circuit = models::build_circuit(net, tech, options);
  spice::Circuit c =
      session.load(driven_netlist(circuit, tech, options.conditions, x, axis) + ".end\n");
  const std::string probe = circuit.ports.layers.at(0).state.at(0);
  c.transient({10e-6, axis.stop_time(x.rows()), 5e-6}, {probe});
  const auto t = c.vector("time");
  const auto v = c.vector(probe);
  std::vector<double> hw(static_cast<size_t>(x.rows()), std::nan(""));
  for (core::Index k : all) {
    const double at = crossing(t, v, static_cast<double>(k) * T, half);
    if (!(at < static_cast<double>(k + 1) * T))
      throw Error("ct characterization: the one-cell network did not switch in frame " +
                  std::to_string(k));
    hw[static_cast<size_t>(k)] = at - static_cast<double>(k) * T;
  }
  // The ct model's latency minus SPICE's in each of `frames`.
  const auto late = [&](const models::CtFacts& g, const std::vector<core::Index>& frames) {
    models::ContinuousEngine e(net, g, axis);
    e.reset(x.row(0));
    std::vector<double> out;
    core::Frame frame;
    for (core::Index k = 0; k < x.rows(); ++k) {
      e.step(x.row(k), frame);
      if (std::find(frames.begin(), frames.end(), k) == frames.end()) continue;
      const models::CtCrossings cross = e.crossings()[0][0];
      out.push_back((cross.count > 0 ? cross.first_s : T) - hw[static_cast<size_t>(k)]);
    }
    return out;
  };
  const auto mean = [](const std::vector<double>& d) {
    double s = 0;
    for (double e : d) s += e / static_cast<double>(d.size());
    return s;
  };
  // The charges for a capacitance scale (bisection in ln Q over 1e-18 .. 1e-12 C, up then down
  // then up again: they barely interact); returns the sum of squared latency errors.
  const auto fit_charges = [&](models::CtFacts& g) {
    for (double models::CtFacts::*q :
         {&models::CtFacts::cell_q_up_c, &models::CtFacts::cell_q_down_c,
          &models::CtFacts::cell_q_up_c}) {
      const auto& frames = q == &models::CtFacts::cell_q_up_c ? up : down;
      double lo = std::log(1e-18), hi = std::log(1e-12);
      for (int it = 0; it < 30; ++it) {
        const double mid = 0.5 * (lo + hi);
        g.*q = std::exp(mid);
        (mean(late(g, frames)) > 0 ? hi : lo) = mid;
      }
      g.*q = std::exp(0.5 * (lo + hi));
    }
    double sum = 0;
    for (double e : late(g, all)) sum += e * e;
    return sum;
  };
  // Golden-section search of the scale over 0.4 .. 2.5 (in ln).
  const auto error_at = [&](double ln_scale) {
    models::CtFacts g = f;
    g.line_cap_scale = std::exp(ln_scale);
    return fit_charges(g);
  };
  const double r = 0.5 * (std::sqrt(5.0) - 1);
  double a = std::log(0.4), b = std::log(2.5);
  double x1 = b - r * (b - a), x2 = a + r * (b - a), e1 = error_at(x1), e2 = error_at(x2);
  for (int it = 0; it < 14; ++it) {
    if (e1 < e2) {
      b = x2, x2 = x1, e2 = e1;
      x1 = b - r * (b - a), e1 = error_at(x1);
    } else {
      a = x1, x1 = x2, e1 = e2;
      x2 = a + r * (b - a), e2 = error_at(x2);
    }
  }
  f.line_cap_scale = std::exp(0.5 * (a + b));
  fit_charges(f);
}

}  // namespace

models::CtFacts characterize_ct(spice::Session& session, const pdk::Technology& tech,
                                const models::CircuitOptions& options) {
  const pdk::Conditions& k = options.conditions;
  const models::MirrorSizes& sizes = options.mirror_sizes;
  models::CtFacts f;
  f.w_ref_m = sizes.w_ref_m;
  f.l_m = sizes.l_m;
  f.w_min_m = tech.limits(pdk::Polarity::n).w_min_m;
  f.thermal_v = core::physics::thermal_voltage_v(k.temperature_c);
  f.slope_v = 1.4 * f.thermal_v;  // n U_T; only n U_T C enters the model
  for (const pdk::Polarity type : {pdk::Polarity::n, pdk::Polarity::p}) {
    const pdk::Device ref{type, sizes.w_ref_m, sizes.l_m, 1, {}};
    const bool n = type == pdk::Polarity::n;
    const std::string rail = n ? "0" : "vdd";
    // A reference line: diode d on node n, one unity copy into `out` held at v_out, and `source`.
    const auto line_deck = [&](const std::string& title, const std::string& source, double v_out) {
      return "* " + title + "\n" + tech.header(k) + "Vdd vdd 0 " + format_number(k.vdd_v) + "\n" +
             source + tech.device_line("d", "n", "n", rail, rail, ref) + "\n" +
             tech.device_line("c", "out", "n", rail, rail, ref) + "\nVo out 0 " +
             format_number(v_out) + "\n.end\n";
    };
    {
      // A 10 % current step: the line relaxes with time constant n U_T C / I; C = (effective
      // capacitance per area) x (two device areas).
      const double i1 = 0.9e-9, i2 = 1e-9, t_step = 1e-3;
      spice::Circuit c = session.load(
          line_deck("ct line bench",
                    std::string(n ? "Iin 0 n" : "Iin n 0") + " pwl(0 " + format_number(i1) + " " +
                        format_number(t_step) + " " + format_number(i1) + " " +
                        format_number(t_step + 1e-6) + " " + format_number(i2) + ")\n",
                    0.9));
      c.transient({10e-6, 6e-3, 2e-6}, {"vo#branch"});
      const auto t = c.vector("time");
      auto v = c.vector("vo#branch");
      for (auto& x : v) x = std::abs(x);
      const double t63 = crossing(t, v, t_step, v.front() + 0.632 * (v.back() - v.front()));
      if (!(t63 > t_step))
        throw Error("ct characterization: the mirror line did not settle in the line bench");
      (n ? f.cap_per_area_f_m2 : f.cap_per_area_p_f_m2) =
          (t63 - t_step) * i2 / (f.slope_v * 2 * sizes.w_ref_m * sizes.l_m);
    }
    {
      // No input: the diode rests at V_GS = 0 and the copy (drain at mid-supply) carries the floor
      // the line's copies start from.
      spice::Circuit c = session.load(line_deck("ct floor bench", "", k.vdd_v / 2));
      c.transient({1e-6, 10e-6, 1e-6}, {"vo#branch"});
      const double floor = std::abs(c.vector("vo#branch").back());
      if (!(floor > 0 && floor < 1e-9))
        throw Error("ct characterization: the floor of an idle " +
                    std::string(n ? "NMOS" : "PMOS") + " line is " + format_number(floor) +
                    " A, outside (0, 1 nA)");
      (n ? f.floor_a : f.floor_p_a) = floor;
    }
  }
  {
    // Mirror gain error left after the weight-to-width calibration (which divides by the mean gain
    // over the calibration currents): unity mirrors of each kind at those currents, the relative
    // deviation from their mean fitted against ln I (least squares; zero at the geometric mean).
    const std::vector<double>& inputs = mirror_calibration_inputs_a();
    double mean_ln = 0;
    for (double i : inputs) mean_ln += std::log(i) / static_cast<double>(inputs.size());
    f.mirror_ref_a = std::exp(mean_ln);
    const auto slope = [&](pdk::Polarity pol, models::Destination dest) {
      const auto g = measure_mirrors(session, tech, k, pol, {1.0}, inputs, dest).gain.at(0);
      double mean_g = 0;
      for (double x : g) mean_g += x / static_cast<double>(g.size());
      double sxy = 0, sxx = 0;
      for (size_t i = 0; i < g.size(); ++i) {
        const double x = std::log(inputs[i]) - mean_ln;
        sxy += x * (g[i] / mean_g - 1);
        sxx += x * x;
      }
      return sxy / sxx;
    };
    f.mirror_slope_n = slope(pdk::Polarity::n, models::Destination::nmos_diode);
    f.mirror_slope_p = slope(pdk::Polarity::p, models::Destination::nmos_diode);
    f.mirror_slope_pline = slope(pdk::Polarity::n, models::Destination::pmos_diode);
  }
  fit_in_context(session, tech, options, f);
  return f;
}

}  // namespace bmru::experiments
