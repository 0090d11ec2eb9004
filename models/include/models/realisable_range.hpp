#pragma once
// The approximate realisable range of the current-mode circuit (DESIGN.md section 2), in amperes.
// These are the measured starting points; the netlist generator refines them from characterization.
#include <string>
#include <vector>

#include "core/network.hpp"

namespace bmru::models {

struct RealisableRange {
  // Bias currents |b|: 5 pA (a PMOS bias mirror is 5.8 % high there, within 2 % + 2 pA) ... 5 nA;
  // the cells' levels (alpha, beta_hi) are also bounded by their calibration (cell_problems).
  double bias_min_a = 5e-12;
  double bias_max_a = 5e-9;  // ... 5 nA
  double weight_min = 0.01;  // |w| in [0.01, 4], or exactly 0 (pruned)
  double weight_max = 4.0;
  double width_rel_min = 0.03;  // hysteresis width >= 3 % of I_thresh + 5 pA
  double width_abs_min_a = 5e-12;
  double node_max_a = 5e-9;  // node currents up to about 5 nA
  // What training projects onto (train --hardware-aware); the netlist generator checks the
  // measured calibration instead (cell_problems), whose grid these bounds lie inside:
  double level_min_a = 70e-12;  // cell levels alpha and beta_hi: the calibration grid's 70 pA ...
  double level_max_a = 5e-9;    // ... to 5 nA (the grid reaches 6 nA)
  double band_rel_max = 0.97;   // bands up to 97 % of beta_hi (measured: 97.7-99.7 %)
  // The largest state dimension d the tool builds circuits for (the scaling study's top d).
  long d_max = 128;
  // --clamp moves a weight, bias or level at most this factor beyond the range's top: one further
  // out (a weight of 1e6) is a broken network, refused naming it, not a value to round.
  double clamp_reach = 10;
};

// One parameter the circuit realises other than as given: its path ("layer1.cand_kernel[0,2]"),
// the value in the network and the value the circuit realises.
struct ParameterChange {
  std::string parameter;
  double requested = 0, realised = 0;
};

// Realisations within the stated accuracy, made without any option (DESIGN.md section 2): a weight
// with 0 < |w| < weight_min and a bias current below bias_min are dropped (no element); a
// hysteresis band narrower than the narrowest realisable becomes the narrowest (beta_hi kept).
// Each change is appended to `changes`.
core::Network realise(const core::Network& net, const RealisableRange& range,
                      std::vector<ParameterChange>& changes);

// --clamp: every parameter still outside `range`, within range.clamp_reach of its top, moved to the
// nearest realisable value (the rest stay for range_problems to name).
core::Network clamp_to_range(const core::Network& net, const RealisableRange& range,
                             std::vector<ParameterChange>& changes);

// Every parameter of `net` outside `range`, each naming its field and index. Empty when realisable.
std::vector<std::string> range_problems(const core::Network& net,
                                        const RealisableRange& range = {});

}  // namespace bmru::models
