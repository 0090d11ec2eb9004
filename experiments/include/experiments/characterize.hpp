#pragma once
// Characterization experiments: ngspice runs on test benches of a technology.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "models/cell_circuit.hpp"
#include "pdk/technology.hpp"
#include "spice/session.hpp"

namespace bmru::experiments {

// Where a technology is and under which conditions it runs (shared by every command).
struct TechnologyOptions {
  std::string pdk = "generic180";
  std::optional<std::filesystem::path> pdk_path;
  pdk::Conditions conditions;
};

// `bmru characterize device`: the drain current magnitude of one transistor at |Vds|, |Vgs|
// (source and bulk grounded; voltages as magnitudes for both types).
struct DeviceOptions {
  TechnologyOptions tech;
  pdk::Device device;
  double vds_v = 0.9;
  double vgs_v = 0.4;
};
double run_characterize_device(const DeviceOptions& options);

// The netlist of that bench (also used by tests that run it through the worker pool).
std::string device_bench(const pdk::Technology& tech, const DeviceOptions& options);

// `bmru characterize cell`: an up-down sweep of one cell's candidate current. All in amperes; the
// switch points are in the candidate current the cell actually receives (its sense source).
struct CellMeasurement {
  double switch_up_a = 0;
  double switch_down_a = 0;
  double on_level_a = 0;
  double off_floor_a = 0;
};

struct CellLoop {  // the swept loop, for --out
  std::vector<double> candidate_up, out_up, candidate_down, out_down;
};

// The model targets of one cell, in amperes.
struct CellTargets {
  double beta_lo_a = 0;
  double beta_hi_a = 0;
  double alpha_a = 0;
};

// Either raw bias currents, or targets that go through the cached calibration.
struct CellOptions {
  TechnologyOptions tech;
  std::optional<models::CellBias> bias;
  std::optional<CellTargets> targets;
  std::optional<std::filesystem::path> out;  // the swept loop as HDF5
};

struct CellResult {
  models::CellBias bias;  // the biases used (calibrated from the targets when given)
  CellMeasurement measured;
  bool calibration_from_cache = false;
  std::vector<std::string> notes;  // from the calibration cache
  double calibration_s = 0;
};

CellResult run_characterize_cell(const CellOptions& options);

// Sweeps the candidate from 0 to `top_a` and back with `points` steps each way. A cell that does
// not switch is an error, except, with `allow_latch`, one that switched up and stays on down to
// zero candidate (switch_down_a NaN: a band wider than its leakage floor allows).
CellMeasurement measure_cell(spice::Session& session, const pdk::Technology& tech,
                             const pdk::Conditions& conditions, const models::CellBias& bias,
                             double top_a, int points = 4000, CellLoop* loop = nullptr,
                             bool allow_latch = false);

}  // namespace bmru::experiments
