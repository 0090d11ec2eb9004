#pragma once
// What the caller hands the SPICE engine for a lockstep transient (DESIGN.md section 4): the frame
// axis, the caller-driven sources and the vectors to sample, integrate or capture. Names are
// ngspice plot vector names: a node ("out", "x1.n3"), or a source's current ("vsense#branch",
// "v.x1.vs#branch"). The engine knows nothing of what the signals mean.
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/time_axis.hpp"

namespace bmru::spice {

using core::Index;

struct LockstepSpec {
  core::FrameAxis axis;
  Index frames = 0;
  // Names of sources written `<name> n+ n- external` in the netlist (V or I; any case).
  std::vector<std::string> sources;
  // Values x_k of every source at frame k, in the order of `sources`, in volts or amperes. Called
  // with non-decreasing k (a frame may be asked for more than once); must be deterministic.
  std::function<void(Index k, std::span<double> values)> frame_values;
  // Sources written `<name> n+ n- external` whose value is a function of time alone (seeded noise
  // currents): signal_value(i, t) for signals[i]; deterministic.
  std::vector<std::string> signals;
  std::function<double(size_t i, double t)> signal_value;
  std::vector<std::string> probes;     // sampled at each frame's sample instant
  std::vector<std::string> integrals;  // integrated over each frame (trapezoid on accepted points)
  std::vector<std::string> dense;      // handed over at every accepted point
  // false: `save none`, so ngspice keeps one point per vector and memory stays flat over long runs.
  // In ngspice 39.3 `save none` stays in force for every later analysis of the process: use it only
  // in a worker that retires after the run (JobContext::retire).
  bool keep_vectors = true;
};

enum class Action { proceed, stop };

// Receives the lockstep data on the simulating thread, in time order; at one accepted point the
// order is on_point, then on_sample (if a sample instant is reached), then on_frame_end.
class LockstepHandler {
 public:
  virtual ~LockstepHandler() = default;
  // Frame k's probe values at its sample instant (order of LockstepSpec::probes). Return
  // Action::stop to end the transient early (it ends at the next accepted point).
  virtual Action on_sample(Index k, std::span<const double> probes) = 0;
  // Frame k's integrals over [kT, (k+1)T) (order of LockstepSpec::integrals), in unit-seconds.
  virtual void on_frame_end(Index /*k*/, std::span<const double> /*integrals*/) {}
  // Every accepted point, with the dense vectors (order of LockstepSpec::dense).
  virtual void on_point(double /*t*/, std::span<const double> /*dense*/) {}
};

}  // namespace bmru::spice
