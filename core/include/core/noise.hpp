#pragma once
// Seeded analog noise currents (issue 21), the same samples for every engine: the SPICE run drives
// them through caller-driven sources (ngspice 39's trnoise is not repeatable), the ct engine adds
// them to the same lines, and the behavioural engine adds each one's value at the sample instant.
//
// A noise current lives on a fixed grid t_j = j dt (--noise-dt, default T/100; bandwidth
// B = 1 / (2 dt)) and is linear between its samples. Sample j is sigma(frame of t_j) z_j: z is
// unit-variance white noise, plus with a 1/f corner f_c a flicker part whose spectrum equals the
// white one's at f_c (a bank of first-order processes an octave apart, from 1 / duration up to
// f_c). Every (seed, sequence, source) has its own generator, so a sample does not depend on which
// engine, worker or lane asks for it: the same seed gives the same run, bit for bit.
#include <cstdint>
#include <string>
#include <vector>

#include "core/time_axis.hpp"

namespace bmru::core {

struct NoiseSpec {
  // shot: sqrt(2 q I B) of the line's own current I; rel: value x I; abs: value (A).
  enum class Amplitude { none, shot, rel, abs };
  Amplitude amplitude = Amplitude::none;
  double value = 0;
  double dt_s = 0;       // 0: the frame period / 100
  double corner_hz = 0;  // 1/f corner (0: white)
  std::uint64_t seed = 1;
  bool active() const {
    return amplitude != Amplitude::none && !(amplitude != Amplitude::shot && value == 0);
  }
  double grid_s(const FrameAxis& axis) const { return dt_s > 0 ? dt_s : axis.period_s / 100; }
  // The amplitude of a line carrying `current_a` (A): sigma in A.
  double sigma(double current_a, const FrameAxis& axis) const;
  std::string describe() const;  // as --noise spells it: "shot", "rel:0.05", "abs:2e-12", "none"
};

// --noise: "shot", "rel:0.05" (or "rel:5%"), "abs:2p", "none" or "0". InputError naming the option
// otherwise.
NoiseSpec parse_noise(const std::string& text, const std::string& option = "--noise");

// One noise current over a sequence of `frames` frames.
class NoiseTrack {
 public:
  NoiseTrack() = default;
  // sigma_a[k]: the amplitude (A) in frame k; `sequence` and `source` pick the generator.
  NoiseTrack(const NoiseSpec& spec, const FrameAxis& axis, std::uint64_t sequence,
             std::uint64_t source, const std::vector<double>& sigma_a);
  double at(double t) const;  // A, linear between samples; 0 outside the sequence
  double dt() const { return dt_; }
  const std::vector<double>& samples() const { return v_; }

 private:
  double dt_ = 0;
  std::vector<double> v_;
};

}  // namespace bmru::core
