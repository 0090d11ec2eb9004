#pragma once
// `bmru netlist`: the generated circuit of a network as netlist text (for lockstep, or standalone
// for `ngspice -b`), its parameter-to-element map and its port map (JSON, DESIGN.md section 6).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/time_axis.hpp"
#include "experiments/characterize.hpp"
#include "models/circuit_model.hpp"
#include "spice/session.hpp"

namespace bmru::experiments {

// The calibrated options for these conditions: cell tables from the cache (built when missing),
// mirror gains measured (one operating point, about 0.1 s, so they are not cached).
struct Calibrated {
  models::CircuitOptions options;
  bool cell_from_cache = false;
  double cell_build_s = 0;
  std::vector<std::string> notes;  // from the calibration cache
};
Calibrated calibrated_options(spice::Session& session, const pdk::Technology& tech,
                              const pdk::Conditions& conditions);

// Netlist text for a lockstep run: inputs as `external` sources, initial conditions, no analysis.
std::string lockstep_netlist(const models::CircuitModel& circuit, const pdk::Technology& tech,
                             const pdk::Conditions& conditions);

// The circuit with its inputs as PWL of `inputs` [N, n_in] on the frame axis, and its initial
// conditions; no analysis, no .end.
std::string driven_netlist(const models::CircuitModel& circuit, const pdk::Technology& tech,
                           const pdk::Conditions& conditions, const core::Matrix& inputs,
                           const core::FrameAxis& axis);

// A netlist `ngspice -b` runs as is: inputs as PWL of `inputs` [N, n_in] on the frame axis, the
// transient of DESIGN.md section 4, and a control block that writes every probe with wrdata to
// `data_file` and quits.
std::string standalone_netlist(const models::CircuitModel& circuit, const pdk::Technology& tech,
                               const pdk::Conditions& conditions, const core::Matrix& inputs,
                               const core::FrameAxis& axis, const std::string& data_file);

// The port map as JSON; with `parameters`, the network the netlist realises rides along, so that
// `bmru validate` needs no --model.
std::string port_map_json(const models::PortMap& ports, const core::Network* parameters = nullptr);
std::string map_table(const std::vector<models::MapEntry>& map);

}  // namespace bmru::experiments
