#include "models/mirror_circuit.hpp"

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"
#include "core/units.hpp"

namespace bmru::models {

using core::format_number;

Geometry copy_geometry(double w, const MirrorSizes& s, double w_min_m) {
  if (w >= w_min_m) return {w, s.l_m};
  return {w_min_m, s.l_m * w_min_m / w};
}

std::string mirror_bench(const pdk::Technology& t, const pdk::Conditions& c, pdk::Polarity pol,
                         const std::vector<MirrorPoint>& points, const MirrorSizes& s,
                         Destination dest) {
  const bool p = pol == pdk::Polarity::p;
  std::string out = "* bmru weight mirror characterization bench\n" + t.header(c) + "Vdd vdd 0 " +
                    format_number(c.vdd_v) + "\n";
  const std::string rail = p ? "vdd" : "0";
  const pdk::Device relu{pdk::Polarity::n, s.w_ref_m, s.l_m, 1, {}};
  for (size_t k = 0; k < points.size(); ++k) {
    const std::string i = std::to_string(k);
    const pdk::Device ref{pol, s.w_ref_m, s.l_m, 1, {}};
    const Geometry g = copy_geometry(s.w_ref_m * points[k].ratio, s, t.limits(pol).w_min_m);
    const pdk::Device outd{pol, g.w_m, g.l_m, 1, {}};
    // Input current into the reference diode (out of it for PMOS, into it for NMOS).
    out += "Iin" + i + (p ? " g" + i + " 0 " : " vdd g" + i + " ") +
           format_number(points[k].input_a) + "\n";
    out += t.device_line("r" + i, "g" + i, "g" + i, rail, rail, ref) + "\n";
    out += t.device_line("o" + i, "o" + i, "g" + i, rail, rail, outd) + "\n";
    // The destination: an NMOS ReLU diode sets the voltage. It carries the node's net current,
    // which the signals around it keep of the order of the presynaptic current (not this mirror's
    // own output: a small weight on a busy node does not pull the node down).
    if (dest == Destination::nmos_diode) {
      out += "Id" + i + " vdd d" + i + " " + format_number(points[k].input_a) + "\n";
      out += t.device_line("d" + i, "d" + i, "d" + i, "0", "0", relu) + "\n";
    } else {
      const pdk::Device pd{pdk::Polarity::p, s.w_ref_m, s.l_m, 1, {}};
      out += "Id" + i + " d" + i + " 0 " + format_number(points[k].input_a) + "\n";
      out += t.device_line("d" + i, "d" + i, "d" + i, "vdd", "vdd", pd) + "\n";
    }
    out += "E" + i + " o" + i + " 0 d" + i + " 0 1\n";
  }
  return out + ".end\n";
}

namespace {
// Linear interpolation of y(x) in log-log on an ascending grid, held at its ends.
double loglog(const std::vector<double>& x, const std::vector<double>& y, double at) {
  if (at <= x.front()) return y.front();
  if (at >= x.back()) return y.back();
  const auto hi = static_cast<size_t>(std::upper_bound(x.begin(), x.end(), at) - x.begin());
  const size_t a = hi - 1;
  const double f = (std::log(at) - std::log(x[a])) / (std::log(x[hi]) - std::log(x[a]));
  return std::exp(std::log(y[a]) + f * (std::log(y[hi]) - std::log(y[a])));
}

// The table of a polarity into a destination, for the const and the mutable accessors.
template <typename M>
auto& table(M& m, pdk::Polarity p, Destination d, bool bias) {
  const bool n = p == pdk::Polarity::n, high = d == Destination::pmos_diode;
  if (bias)
    return high ? (n ? m.bias_gain_n_high : m.bias_gain_p_high)
                : (n ? m.bias_gain_n : m.bias_gain_p);
  return high ? (n ? m.gain_n_high : m.gain_p_high) : (n ? m.gain_n : m.gain_p);
}
}  // namespace

const std::vector<double>& MirrorCalibration::gains(pdk::Polarity p, Destination d) const {
  return table(*this, p, d, false);
}
std::vector<double>& MirrorCalibration::gains(pdk::Polarity p, Destination d) {
  return table(*this, p, d, false);
}
const std::vector<double>& MirrorCalibration::bias_gains(pdk::Polarity p, Destination d) const {
  return table(*this, p, d, true);
}
std::vector<double>& MirrorCalibration::bias_gains(pdk::Polarity p, Destination d) {
  return table(*this, p, d, true);
}

double MirrorCalibration::bias_reference_for(double amps, pdk::Polarity pol,
                                             Destination dest) const {
  const auto& gain = bias_gains(pol, dest);
  if (bias_ref_a.size() < 2 || gain.size() != bias_ref_a.size())
    throw Error("Bias mirror calibration tables are inconsistent");
  // I_out = I_ref g(I_ref): a fixed point from I_ref = amps / g(amps / g_mid); g varies slowly.
  double ref = amps / gain[gain.size() / 2];
  for (int it = 0; it < 4; ++it) ref = amps / loglog(bias_ref_a, gain, ref);
  return ref;
}

double MirrorCalibration::width_for(double weight, pdk::Polarity pol, const MirrorSizes& s,
                                    Destination dest) const {
  const auto& gain = gains(pol, dest);
  const double w = std::abs(weight);
  if (ratio.size() < 2 || gain.size() != ratio.size())
    throw Error("Mirror calibration tables are inconsistent");
  if (w < gain.front() || w > gain.back())
    throw InputError("Weight " + format_number(weight) +
                     " lies outside the calibrated mirror range " + format_number(gain.front()) +
                     " - " + format_number(gain.back()));
  // gain(ratio) is increasing: its inverse, interpolated in log-log.
  return s.w_ref_m * loglog(gain, ratio, w);
}

}  // namespace bmru::models
