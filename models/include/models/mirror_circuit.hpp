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
// Where the copy goes: a summing node (an NMOS diode), or a PMOS diode (an NMOS copy that makes a
// p-line of a signal).
enum class Destination { nmos_diode, pmos_diode };
std::string mirror_bench(const pdk::Technology& tech, const pdk::Conditions& conditions,
                         pdk::Polarity polarity, const std::vector<MirrorPoint>& points,
                         const MirrorSizes& sizes = {}, Destination dest = Destination::nmos_diode);

// The calibration of weights to widths: for each polarity, the measured gain at each width ratio
// (averaged over input currents 0.1-3 nA); width_for inverts it.
struct MirrorCalibration {
  std::vector<double> ratio;           // W_out / W_ref grid, ascending
  std::vector<double> gain_n, gain_p;  // measured I_out / I_in at each ratio
  double pline_copy_gain = 1;          // unity-width NMOS copy into a PMOS diode (ratio 1)
  // The output width (m) that realises weight |w| with this polarity.
  double width_for(double weight, pdk::Polarity polarity, const MirrorSizes& sizes = {}) const;
  // The width of the NMOS copy that feeds a PMOS diode with exactly its input current.
  double pline_copy_width(const MirrorSizes& sizes = {}) const {
    return sizes.w_ref_m / pline_copy_gain;
  }
  bool operator==(const MirrorCalibration&) const = default;
};

}  // namespace bmru::models
