#pragma once
// Characterization experiments: ngspice runs on test benches of a technology.
#include <filesystem>
#include <optional>
#include <string>

#include "pdk/technology.hpp"

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

}  // namespace bmru::experiments
