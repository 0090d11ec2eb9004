#include "run_limits.hpp"

#include <cmath>
#include <cstdio>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "core/units.hpp"

namespace bmru::experiments {

void check_supply(const pdk::Technology& tech, double vdd_v, const std::string& option) {
  if (!(vdd_v >= tech.min_vdd() && vdd_v <= tech.max_vdd()))
    throw InputError(option + ": " + core::format_number(vdd_v) + " V is outside what " +
                     tech.name() + "'s devices are rated for (" +
                     core::format_number(tech.min_vdd()) + "-" +
                     core::format_number(tech.max_vdd()) + " V)");
}

void check_output_size(const std::filesystem::path& out, double bytes, double max_gb) {
  if (bytes > max_gb * 1e9) {
    char text[200];
    std::snprintf(
        text, sizeof text,
        "The run file would take about %.3g GB, above --max-output-gb %g: fewer sequences, "
        "frames or --waveforms, or raise the limit.",
        bytes / 1e9, max_gb);
    throw InputError(text);
  }
  core::require_space(out.string() + ".part", bytes);
}

void check_input_currents(const std::vector<core::Matrix>& x, double unit_current_a,
                          const std::string& source) {
  const double max_units = kMaxInputCurrentA / unit_current_a;
  for (size_t s = 0; s < x.size(); ++s)
    for (core::Index k = 0; k < x[s].rows(); ++k)
      for (core::Index i = 0; i < x[s].cols(); ++i)
        if (!(std::abs(x[s](k, i)) <= max_units))
          throw InputError(
              "Input " + std::to_string(i) + " of sequence " + std::to_string(s) + ", frame " +
              std::to_string(k) + " in " + source + " is " + core::format_number(x[s](k, i)) +
              " model units = " + core::format_number(x[s](k, i) * unit_current_a) +
              " A; the circuit's nodes take up to " + core::format_number(kMaxInputCurrentA) +
              " A (" + core::format_number(max_units) + " units at --unit-current " +
              core::format_number(unit_current_a) + " A).");
}

}  // namespace bmru::experiments
