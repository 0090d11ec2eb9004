#pragma once
// The frame time axis of DESIGN.md section 4, defined once for every engine and metric.
//
// Frame k occupies [kT, (k+1)T). Its input ramps linearly from x_{k-1} to x_k over [kT, kT + ramp]
// (x_{-1} = x_0, so the operating point at t = 0 is computed with x_0), then holds x_k. Frame k is
// sampled at kT + phase T. The transient ends at N T; its print step is T/10 and its largest
// internal step T/40. Every ramp corner and every sample instant is a breakpoint.
//
// `bmru bench accuracy` (101 frames of the demo against gear, tmax 10 us, reltol 1e-4, abstol
// 1e-15): T/40 keeps every probe within 0.5 pA of the reference and every state; T/100 within
// 0.1 pA at about 10 % more time. (With the demo's earlier thresholds, one of which sat on a value
// its candidate took on 16 % of frames, T/40 flipped 3 states of 808 at that threshold: a coin
// toss, not a step too long.)
#include <array>

#include "core/network.hpp"

namespace bmru::core {

struct FrameAxis {
  double period_s = 10e-3;
  double ramp_s = 0.1e-3;  // 1 % of the default period
  double sample_phase = 0.9;

  // A period with the default ramp (1 %) and phase.
  static FrameAxis with_period(double period_s) { return {period_s, period_s / 100, 0.9}; }

  double frame_start(Index k) const { return static_cast<double>(k) * period_s; }
  double ramp_end(Index k) const { return frame_start(k) + ramp_s; }
  double sample_time(Index k) const { return frame_start(k) + sample_phase * period_s; }
  double stop_time(Index frames) const { return static_cast<double>(frames) * period_s; }
  double print_step() const { return period_s / 10; }
  double max_step() const { return period_s / 40; }
  // The breakpoints of frame k in time order: ramp start, ramp end, sample instant.
  std::array<double, 3> breakpoints(Index k) const {
    return {frame_start(k), ramp_end(k), sample_time(k)};
  }
  // The frame that contains time t (t < 0 gives 0).
  Index frame_at(double t) const;
  // Weight of x_k at time t inside frame k: 0 at kT, 1 from kT + ramp on (x = x_{k-1} + w (x_k -
  // x_{k-1})).
  double ramp_weight(double t) const;

  // Throws InputError naming the field unless 0 < ramp < phase T < T.
  void check() const;
  bool operator==(const FrameAxis&) const = default;
};

}  // namespace bmru::core
