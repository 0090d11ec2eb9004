#pragma once
// An RC low-pass driven by a caller-driven source, and its exact response to the frame axis's
// ramp-and-hold input: the independent oracle for the lockstep engine.
#include <cmath>
#include <string>
#include <vector>

#include "core/time_axis.hpp"

namespace bmru::test {

inline constexpr double kR = 1e3;
inline constexpr double kC = 0.3e-6;  // RC = 0.3 ms

inline std::string rc_netlist(const std::string& source_line) {
  return "rc low-pass\n" + source_line + "\nR1 in out 1k\nC1 out 0 0.3u\n.end\n";
}

// v(out) at each sample instant for frame values x (x_{-1} = x_0; the operating point at t = 0
// has out = x_0).
inline std::vector<double> rc_samples(const core::FrameAxis& axis, const std::vector<double>& x) {
  const double tau = kR * kC;
  // Exact response over a linear input segment u = a + b (t - t0) of length dt from v0.
  const auto segment = [tau](double v0, double a, double b, double dt) {
    return a + b * dt - b * tau + (v0 - a + b * tau) * std::exp(-dt / tau);
  };
  std::vector<double> out;
  double v = x.front();
  for (size_t k = 0; k < x.size(); ++k) {
    const double prev = k ? x[k - 1] : x[0];
    v = segment(v, prev, (x[k] - prev) / axis.ramp_s, axis.ramp_s);
    const double hold_to_sample = axis.sample_phase * axis.period_s - axis.ramp_s;
    out.push_back(segment(v, x[k], 0.0, hold_to_sample));
    v = segment(v, x[k], 0.0, axis.period_s - axis.ramp_s);
  }
  return out;
}

inline std::vector<double> random_levels(size_t n, unsigned seed) {
  std::vector<double> x;
  unsigned s = seed;
  for (size_t k = 0; k < n; ++k) {
    s = s * 1103515245u + 12345u;
    x.push_back(static_cast<double>((s >> 8) % 2001) / 1000.0 - 1.0);  // -1 .. 1 V
  }
  return x;
}

}  // namespace bmru::test
