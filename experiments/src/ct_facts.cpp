// Characterization of the continuous-time model's plain values on a technology, through ngspice:
// the effective capacitance of a mirror line (a current step on a diode with one copy), the
// current an idle line's copies carry, the
// mirrors' gain error against current, and the switching charge of a cell (latency at two
// overdrives, up and down).
#include "experiments/ct_facts.hpp"

#include <cmath>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "experiments/calibration.hpp"
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

}  // namespace

models::CtFacts characterize_ct(spice::Session& session, const pdk::Technology& tech, const pdk::Conditions& k,
                                const models::CellCalibration& cell, const models::MirrorSizes& sizes) {
  models::CtFacts f;
  f.w_ref_m = sizes.w_ref_m;
  f.l_m = sizes.l_m;
  f.thermal_v = 8.617333e-5 * (k.temperature_c + 273.15);
  f.slope_v = 1.4 * f.thermal_v;  // n U_T; only n U_T C enters the model
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
  // A line with no input: its diode rests at V_GS = 0 and a unity copy (drain at mid-supply)
  // carries the floor its copies start from, per polarity.
  for (const pdk::Polarity type : {pdk::Polarity::n, pdk::Polarity::p}) {
    const pdk::Device ref{type, sizes.w_ref_m, sizes.l_m, 1, {}};
    const bool n = type == pdk::Polarity::n;
    const std::string rail = n ? "0" : "vdd";
    const std::string deck = "* ct floor bench\n" + tech.header(k) + "Vdd vdd 0 " + format_number(k.vdd_v) + "\n" +
                             tech.device_line("d", "n", "n", rail, rail, ref) + "\n" +
                             tech.device_line("c", "out", "n", rail, rail, ref) + "\nVo out 0 " +
                             format_number(k.vdd_v / 2) + "\n.end\n";
    spice::Circuit c = session.load(deck);
    c.transient({1e-6, 10e-6, 1e-6}, {"vo#branch"});
    const double floor = std::abs(c.vector("vo#branch").back());
    if (!(floor > 0 && floor < 1e-9))
      throw Error("ct characterization: the floor of an idle " + std::string(n ? "NMOS" : "PMOS") + " line is " +
                  format_number(floor) + " A, outside (0, 1 nA)");
    (n ? f.floor_a : f.floor_p_a) = floor;
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
    // latency = Q / overdrive + (delay of the lines): two overdrives separate the two.
    const double up1 = hi * d1, up2 = hi * d2, dn1 = lo * d1, dn2 = lo * d2;
    f.cell_q_up_c = std::max(1e-18, (lat[0] - lat[2]) / (1 / up1 - 1 / up2));
    f.cell_q_down_c = std::max(1e-18, (lat[1] - lat[3]) / (1 / dn1 - 1 / dn2));
  }
  return f;
}

}  // namespace bmru::experiments
