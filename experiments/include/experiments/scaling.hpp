#pragma once
// `bmru scaling`: how the circuit's power grows with the state dimension d (issue 21). At each d a
// seeded random network (models/scaling_network.hpp), or a trained one, runs through SPICE for a
// few frames of random inputs; its power is measured by block (cells, feed-forward, bias) and by
// position (pre, each layer, output), and power laws P = c d^k are fitted per block with
// confidence intervals. Past --spice-max-d the circuit is not simulated: its power is
// extrapolated from a model of the circuit (the ideal power of the network's own currents,
// models/ideal_power.hpp, times the measured/ideal ratio at the largest simulated d; the bias
// block, which has no ideal, from its fitted law) and marked so.
//
// The file (<out>):
//   /config   attrs: kind "scaling", family, layers, n_in, n_out, frames, sequences, seed, ...
//   /points   one row per d: d, measured, status, error, devices, peak node current, in_range,
//             realised / clamped counts, wall_s, power per block and per position, ideal power
//   /fit      one row per block: exponent, its confidence interval, prefactor, r2, points;
//             attrs: cells_exponent, feedforward_exponent, ... (the key=value line's figures)
//   /runs/d<d>  each simulated d's fidelity run (traces, netlist, metrics)
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/power.hpp"
#include "experiments/fidelity.hpp"
#include "models/scaling_network.hpp"

namespace bmru::experiments {

// log y = log c + k log x by least squares; the interval on k is Student's t at `confidence` with
// n - 2 degrees of freedom (NaN bounds with two points; an exact law gives k exactly).
struct PowerLaw {
  double exponent = std::nan(""), ci_low = std::nan(""), ci_high = std::nan("");
  double prefactor = std::nan("");  // c
  double r2 = std::nan("");
  int points = 0;
  double at(double x) const { return prefactor * std::pow(x, exponent); }
};
// Points with x or y not finite and positive are left out.
PowerLaw fit_power_law(const std::vector<double>& x, const std::vector<double>& y,
                       double confidence = 0.95);

struct ScalingOptions {
  FidelityOptions base;  // technology, frame axis, jobs, binary; base.out is the scaling file
  std::vector<core::Index> ds{4, 8, 16, 32, 64, 128};
  models::ScalingShape shape;
  models::ScalingFamily family = models::ScalingFamily::fixed;
  std::vector<std::filesystem::path> models;  // trained networks instead (their d replace ds)
  core::Index frames = 4, sequences = 2;
  std::uint64_t seed = 1;
  // The inputs: the tool's random sequences (N(0, 1) clipped to +-3, held 1-5 frames) times this,
  // the same at every d.
  double input_scale = 0.25;
  core::Index spice_max_d = 32;  // larger d are extrapolated (d = 64 takes SPICE about 15 min)
  // SPICE's largest step (--tmax; default T/10, not fidelity's T/40): the study integrates power,
  // which the longer step leaves as it is (d = 32: the supply charge of a frame moves by 4e-5)
  // while it takes 17 % fewer Newton iterations, whose LU dominates at large d.
  std::optional<double> tmax_s;
  double tmax() const { return tmax_s.value_or(base.axis.period_s / 10); }
};

struct ScalingPoint {
  core::Index d = 0;
  bool measured = false;      // simulated in SPICE (else extrapolated)
  std::string status = "ok";  // "failed": the SPICE run did not finish (error says why)
  std::string error, model;   // model: the trained network's file ("" for a random one)
  long long devices = 0;      // MOSFETs in the generated netlist
  double peak_node_a = 0;     // the largest node current of the network on the inputs
  bool in_range = true;       // every parameter realisable and the peak within the range
  long realised = 0, clamped = 0;
  double wall_s = 0;  // the SPICE run (calibration cached after the first d)
  core::PowerByBlock power_w, ideal_power_w;
  std::vector<double> position_power_w;  // pre, layer<l>, output (measured points only)
};

struct ScalingResult {
  std::vector<ScalingPoint> points;
  std::vector<std::string> positions;
  PowerLaw cells, feedforward, bias, total;
  PowerLaw wall;                 // SPICE wall time against d (measured points)
  core::Index range_end_d = -1;  // the first d outside the realisable range (-1: none)
  long failed = 0;
  double wall_s = 0;
};

// `stage(text)` before each d; `progress(done, total)` over the frames of the SPICE run of a d.
ScalingResult run_scaling(const ScalingOptions& o,
                          const std::function<void(const std::string&)>& stage = {},
                          const std::function<void(long long, long long)>& progress = {});

// MOSFETs in the generated circuit of `net` (its graph: diodes, copies, bias mirrors, cells).
long long circuit_devices(const core::Network& net);

}  // namespace bmru::experiments
