#pragma once
// Weight mirrors (DESIGN.md section 2): a weight w > 0 is a PMOS mirror that sources w times the
// presynaptic current into the destination; w < 0 an NMOS mirror that sinks |w| times it. The
// reference (diode) device has a fixed width; the weight is the output device's width.
#include <string>
#include <vector>

#include "pdk/technology.hpp"

namespace bmru::models {

struct MirrorSizes {
  double w_ref_m = 4e-6;  // wide enough that |w| = 0.1 stays above the 0.22 um minimum width
  double l_m = 16e-6;     // long: matching and little channel-length modulation
  // A bias mirror's reference diode is this many times narrower than its output device (one
  // reference width), so the reference branch draws 1 / bias_ratio of the bias it sets.
  double bias_ratio = 8;
  double bias_ref_w_m() const { return w_ref_m / bias_ratio; }
};

// The output device of a copy of width `width_m` at the reference's length: as it is, or, where it
// is narrower than the technology's smallest width, the smallest width made longer so that W/L
// stays the same (weights down to 0.01: on a 4 um x 16 um reference, 0.22 um x 88 um).
struct Geometry {
  double w_m, l_m;
};
Geometry copy_geometry(double width_m, const MirrorSizes& sizes, double w_min_m);

// A bench of many independent mirrors, one per (w, input current): each reference diode gets its
// input from an ideal source, each output is held by a unity voltage follower at the voltage an
// NMOS ReLU diode (the real destination of a summing node) has at the input current. Probes:
// "e<k>#branch" (the output current of mirror k, positive into the follower for a PMOS mirror).
struct MirrorPoint {
  double ratio = 1;       // W_out / W_ref
  double input_a = 1e-9;  // presynaptic current
};
// Where the copy goes: a node closed by an NMOS diode (its voltage near ground), or by a PMOS
// diode (near the supply): a summing node of either kind, a p-line or an n-line.
enum class Destination { nmos_diode, pmos_diode };
std::string mirror_bench(const pdk::Technology& tech, const pdk::Conditions& conditions,
                         pdk::Polarity polarity, const std::vector<MirrorPoint>& points,
                         const MirrorSizes& sizes = {}, Destination dest = Destination::nmos_diode);

// The calibration of weights to widths: for each polarity and destination, the measured gain at
// each width ratio (averaged over input currents 0.1-3 nA); width_for inverts it. A copy's gain
// depends on its drain voltage (channel-length modulation), so a copy into a node near the supply
// has its own table.
struct MirrorCalibration {
  std::vector<double> ratio;           // W_out / W_ref grid, ascending
  std::vector<double> gain_n, gain_p;  // measured I_out / I_in at each ratio, into an NMOS diode
  std::vector<double> gain_n_high, gain_p_high;  // the same into a PMOS diode
  // Bias mirrors (reference MirrorSizes::bias_ref_w_m, output one reference width): gain
  // I_out / I_ref at each reference current, per polarity and destination.
  std::vector<double> bias_ref_a;
  std::vector<double> bias_gain_n, bias_gain_p, bias_gain_n_high, bias_gain_p_high;
  // The weight table (gain at each ratio) and the bias table (gain at each reference current) of
  // a polarity into a destination.
  const std::vector<double>& gains(pdk::Polarity polarity, Destination dest) const;
  std::vector<double>& gains(pdk::Polarity polarity, Destination dest);
  const std::vector<double>& bias_gains(pdk::Polarity polarity, Destination dest) const;
  std::vector<double>& bias_gains(pdk::Polarity polarity, Destination dest);
  // The output width (m) that realises weight |w| with this polarity into this destination.
  double width_for(double weight, pdk::Polarity polarity, const MirrorSizes& sizes = {},
                   Destination dest = Destination::nmos_diode) const;
  // The reference current that makes a bias mirror of this polarity deliver `amps` there.
  double bias_reference_for(double amps, pdk::Polarity polarity,
                            Destination dest = Destination::nmos_diode) const;
  bool operator==(const MirrorCalibration&) const = default;
};

}  // namespace bmru::models
