#include "pdk/technology.hpp"

#include "core/errors.hpp"
#include "core/units.hpp"

namespace bmru::pdk {

void Technology::check_size(const std::string& name, const Device& d) const {
  const SizeLimits s = limits(d.type);
  const auto um = [](double m) { return core::format_number(m * 1e6) + " um"; };
  const std::string dev = "Device '" + name + "' (" + (d.type == Polarity::n ? "n" : "p") +
                          ", W/L " + um(d.w_m) + "/" + um(d.l_m) + ")";
  if (!(d.w_m >= s.w_min_m && d.w_m <= s.w_max_m))
    throw InputError(dev + ": W must lie within [" + um(s.w_min_m) + ", " + um(s.w_max_m) +
                     "] in " + this->name());
  if (!(d.l_m >= s.l_min_m && d.l_m <= s.l_max_m))
    throw InputError(dev + ": L must lie within [" + um(s.l_min_m) + ", " + um(s.l_max_m) +
                     "] in " + this->name());
  if (d.m < 1) throw InputError(dev + ": the multiplier m must be at least 1");
}

}  // namespace bmru::pdk
