// Characterization of the continuous-time model's plain values on a technology, through ngspice:
// the effective capacitance of a mirror line (a current step on a diode with one copy) and the
// switching charge of a cell (latency at two overdrives, up and down).
#include "experiments/ct_facts.hpp"

#include <array>
#include <cmath>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "models/cell_circuit.hpp"

namespace bmru::experiments {
namespace {

using core::format_number;

// First time after `from` at which `v` crosses `level` (linear between points); NaN if never.
double crossing(const std::vector<double>& t, const std::vector<double>& v, double from, double level) {
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i] <= from) continue;
    const double a = v[i - 1] - level, b = v[i] - level;
    if ((a < 0) != (b < 0)) return t[i - 1] + (t[i] - t[i - 1]) * a / (a - b);
  }
  return std::nan("");
}

// The ct model of the cell bench: the candidate's PMOS line (diode and the cell's M1), the cell's
// charge, its output line (M4). RK4 with a fixed 0.2 us step (the fastest rate is about 1/us).
struct CellBench {
  const models::CtFacts& f;
  double ith_a, iw_a, ig_a;

  // Time from a candidate step from -> to (1 us ramp) until the output crosses I_gain / 2.
  double latency(double from, double to, bool on, double q_up, double q_down) const {
    const double area = f.w_ref_m * f.l_m;
    const double k_in = 1 / (f.slope_v * f.cap_per_area_p_f_m2 * 2 * area);
    const double k_out = 1 / (f.slope_v * (f.cap_per_area_p_f_m2 * area + f.cell_out_cap_f));
    const double q_s = q_up / (q_up + q_down);
    const auto rate = [&](double t, const std::array<double, 3>& s) {
      const double c = from + (to - from) * std::min(1.0, t / 1e-6);
      const double in = std::exp(s[0]), out = std::exp(s[2]);
      const double out_in = ig_a * models::cell_switch(s[1], q_s) + f.floor_a;
      return std::array<double, 3>{(c + f.floor_a - in) * k_in,
                                   models::cell_charge_rate(in, s[1], ith_a, iw_a, q_up, q_down),
                                   (out_in - out) * k_out};
    };
    std::array<double, 3> s{std::log(from), on ? 1.0 : 0.0, std::log((on ? ig_a : 0.0) + f.floor_a)};
    const double dt = 0.2e-6, half = ig_a / 2;
    for (double t = 0; t < 20e-3; t += dt) {
      const auto k1 = rate(t, s);
      std::array<double, 3> a, b, c;
      for (int i = 0; i < 3; ++i) a[static_cast<size_t>(i)] = s[static_cast<size_t>(i)] + dt / 2 * k1[static_cast<size_t>(i)];
      const auto k2 = rate(t + dt / 2, a);
      for (int i = 0; i < 3; ++i) b[static_cast<size_t>(i)] = s[static_cast<size_t>(i)] + dt / 2 * k2[static_cast<size_t>(i)];
      const auto k3 = rate(t + dt / 2, b);
      for (int i = 0; i < 3; ++i) c[static_cast<size_t>(i)] = s[static_cast<size_t>(i)] + dt * k3[static_cast<size_t>(i)];
      const auto k4 = rate(t + dt, c);
      const double before = std::exp(s[2]) - half;
      for (size_t i = 0; i < 3; ++i) s[i] += dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
      const double after = std::exp(s[2]) - half;
      if ((before < 0) != (after < 0)) return t + dt * before / (before - after);
    }
    return 1.0;  // never: counts as very late
  }
};

// The charge whose predicted latency (increasing in Q) matches `target`: bisection in log Q.
template <typename Latency>
double fit_charge(Latency latency, double target) {
  double lo = 1e-17, hi = 1e-11;
  for (int i = 0; i < 50; ++i) {
    const double mid = std::sqrt(lo * hi);
    (latency(mid) < target ? lo : hi) = mid;
  }
  return std::sqrt(lo * hi);
}

}  // namespace

models::CtFacts characterize_ct(spice::Session& session, const pdk::Technology& tech, const pdk::Conditions& k,
                                const models::CellCalibration& cell, const models::MirrorSizes& sizes) {
  models::CtFacts f;
  f.w_ref_m = sizes.w_ref_m;
  f.l_m = sizes.l_m;
  f.slope_v = 1.4 * 8.617333e-5 * (k.temperature_c + 273.15);  // n U_T; only n U_T C enters the model
  // A 10 % current step on a diode with one unity copy, for each polarity: the line relaxes with
  // time constant n U_T C / I; C = (effective capacitance per area) x (two device areas).
  for (const pdk::Polarity type : {pdk::Polarity::n, pdk::Polarity::p}) {
    const pdk::Device ref{type, sizes.w_ref_m, sizes.l_m, 1, {}};
    const bool n = type == pdk::Polarity::n;
    const double i1 = 0.9e-9, i2 = 1e-9, t_step = 1e-3;
    const std::string rail = n ? "0" : "vdd";
    std::string deck = "* ct line bench\n" + tech.header(k) + "Vdd vdd 0 " + format_number(k.vdd_v) + "\n" +
                       (n ? "Iin 0 n" : "Iin n 0") + " pwl(0 " + format_number(i1) + " " + format_number(t_step) + " " +
                       format_number(i1) + " " + format_number(t_step + 1e-6) + " " + format_number(i2) + ")\n" +
                       tech.device_line("d", "n", "n", rail, rail, ref) + "\n" +
                       tech.device_line("c", "out", "n", rail, rail, ref) + "\nVo out 0 0.9\n.end\n";
    spice::Circuit c = session.load(deck);
    c.transient({10e-6, 6e-3, 2e-6}, {"vo#branch"});
    const auto t = c.vector("time");
    auto v = c.vector("vo#branch");
    for (auto& x : v) x = std::abs(x);
    const double t63 = crossing(t, v, t_step, v.front() + 0.632 * (v.back() - v.front()));
    if (!(t63 > t_step)) throw Error("ct characterization: the mirror line did not settle in the line bench");
    (n ? f.cap_per_area_f_m2 : f.cap_per_area_p_f_m2) =
        (t63 - t_step) * i2 / (f.slope_v * 2 * sizes.w_ref_m * sizes.l_m);
  }
  {
    // A cell at typical levels; the candidate steps past each threshold by two overdrives.
    const double lo = 0.5e-9, hi = 0.7e-9, alpha = 0.7e-9;
    const models::CellBias b = cell.bias_for(lo, hi, alpha);
    std::string deck = models::cell_bench(tech, k, b);
    const double d1 = 0.1, d2 = 0.4, T = 10e-3;
    // up by d1 at 1T, down by d1 at 2T, up by d2 at 3T, down by d2 at 4T.
    const std::vector<double> level{0.5 * lo, hi * (1 + d1), lo * (1 - d1), hi * (1 + d2), lo * (1 - d2)};
    std::string pwl = "Icand pc 0 pwl(0 " + format_number(level[0]);
    for (size_t i = 1; i < level.size(); ++i)
      pwl += " " + format_number(i * T) + " " + format_number(level[i - 1]) + " " + format_number(i * T + 1e-6) +
             " " + format_number(level[i]);
    deck.replace(deck.find("Icand pc 0 dc 0"), std::string("Icand pc 0 dc 0").size(), pwl + ")");
    spice::Circuit c = session.load(deck);
    c.transient({10e-6, 5 * T, 5e-6}, {"v.xcell.vs#branch"});
    const auto t = c.vector("time");
    const auto v = c.vector("v.xcell.vs#branch");
    std::vector<double> lat;
    for (int i = 1; i <= 4; ++i) {
      const double at = crossing(t, v, i * T, alpha / 2);
      if (!(at > i * T && at < (i + 1) * T))
        throw Error("ct characterization: the cell did not switch after step " + std::to_string(i));
      lat.push_back(at - i * T);
    }
    // Q_up and Q_down such that the ct model of this very bench (the candidate's PMOS line with
    // the cell's M1, the charge, the output line) switches when SPICE does: the lines' own delays
    // (longer for a small overdrive, as the line approaches the threshold slowly) stay in the lines.
    const CellBench bench{f, hi, hi - lo, alpha};
    double q_up = 1e-14, q_down = 1e-14;
    for (int round = 0; round < 4; ++round) {
      q_up = fit_charge([&](double q) { return bench.latency(level[0], level[1], false, q, q_down) +
                                               bench.latency(level[2], level[3], false, q, q_down); },
                        lat[0] + lat[2]);
      q_down = fit_charge([&](double q) { return bench.latency(level[1], level[2], true, q_up, q) +
                                                 bench.latency(level[3], level[4], true, q_up, q); },
                          lat[1] + lat[3]);
    }
    f.cell_q_up_c = q_up;
    f.cell_q_down_c = q_down;
  }
  return f;
}

}  // namespace bmru::experiments
