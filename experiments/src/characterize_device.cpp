#include <cmath>

#include "core/units.hpp"
#include "experiments/characterize.hpp"
#include "pdk/registry.hpp"
#include "spice/session.hpp"

namespace bmru::experiments {

std::string device_bench(const pdk::Technology& tech, const DeviceOptions& o) {
  using core::format_number;
  const double sign = o.device.type == pdk::Polarity::n ? 1.0 : -1.0;
  return "* bmru characterize device\n" + tech.header(o.tech.conditions) +
         tech.device_line("dut", "d", "g", "0", "0", o.device) + "\nVd d 0 " +
         format_number(sign * o.vds_v) + "\nVg g 0 " + format_number(sign * o.vgs_v) + "\n.end\n";
}

double run_characterize_device(const DeviceOptions& o) {
  const auto tech = pdk::open_technology(o.tech.pdk, o.tech.pdk_path);
  spice::Session session;
  spice::Circuit c = session.load(device_bench(*tech, o));
  c.analysis("op");
  return std::abs(c.vector("vd#branch").at(0));
}

}  // namespace bmru::experiments
