#include "core/time_axis.hpp"

#include <cmath>

#include "core/errors.hpp"
#include "core/units.hpp"

namespace bmru::core {

Index FrameAxis::frame_at(double t) const {
  if (t <= 0) return 0;
  // A time within a part in 1e9 of a frame start belongs to that frame (breakpoints land there).
  return static_cast<Index>(std::floor(t / period_s + 1e-9));
}

double FrameAxis::ramp_weight(double t) const {
  const double into = t - frame_start(frame_at(t));
  if (into >= ramp_s) return 1.0;
  return into <= 0 ? 0.0 : into / ramp_s;
}

void FrameAxis::check() const {
  // A circuit of pA-level lines settles in tens of microseconds; an hour-long frame is a typo.
  if (!(period_s >= 1e-6 && period_s <= 3600))
    throw InputError("--frame-period must lie between 1 us and 3600 s (got " +
                     format_number(period_s) + " s)");
  if (!(ramp_s > 0))
    throw InputError("--ramp must be a positive time (got " + std::to_string(ramp_s) + ")");
  if (!(sample_phase > 0 && sample_phase < 1))
    throw InputError("--sample-phase must lie strictly between 0 and 1 (got " +
                     std::to_string(sample_phase) + ")");
  if (!(ramp_s < sample_phase * period_s))
    throw InputError("--ramp (" + std::to_string(ramp_s) +
                     " s) must end before the sample instant (--sample-phase x --frame-period = " +
                     std::to_string(sample_phase * period_s) + " s)");
}

}  // namespace bmru::core
