#pragma once
// The calibration that inverts the cell (DESIGN.md section 2: the mapping is calibrated, never
// assumed). Characterization (in experiments, with ngspice) fills the tables with measured switch
// points and on-levels on a grid of bias currents; this type interpolates them (linearly in the
// log of the current) and solves for the bias currents that realise given model targets.
#include <utility>
#include <vector>

#include "models/cell_circuit.hpp"

namespace bmru::models {

struct CellCalibration {
  std::vector<double> ithresh_a;  // grid of I_thresh, ascending
  std::vector<double> up_a;       // measured switch-up point at each I_thresh
  std::vector<double> fraction;   // grid of I_width / I_thresh, ascending
  // [ithresh][fraction] measured up - down; 0 where the cell latches (never switches down), which
  // happens only from some fraction on.
  std::vector<std::vector<double>> width_a;
  std::vector<double> igain_a;  // grid of I_gain, ascending
  std::vector<double> on_a;     // measured on-level at each I_gain

  // The bias currents whose cell switches up at beta_hi, down at beta_lo and is on at alpha
  // (all in amperes). Throws InputError naming the target that lies outside the tables.
  CellBias bias_for(double beta_lo_a, double beta_hi_a, double alpha_a) const;
  // What the tables can realise (A): switch-up points, on-levels, and the hysteresis widths at a
  // switch-up point inside its range.
  std::pair<double, double> beta_hi_range() const;
  std::pair<double, double> alpha_range() const;
  std::pair<double, double> width_range(double beta_hi_a) const;
  // Throws Error if the tables are inconsistent (sizes, order, non-monotone responses).
  void check() const;
  bool operator==(const CellCalibration&) const = default;
};

}  // namespace bmru::models
