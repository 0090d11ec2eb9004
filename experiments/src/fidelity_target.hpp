#pragma once
// What a fidelity or validate run simulates: the generated circuit (calibrated in a worker) or a
// user's netlist with its port map (prepared and checked in a worker), with the ports, supplies
// and /config labels the lockstep needs. Private to experiments.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/element_map.hpp"
#include "core/power.hpp"
#include "core/run_file.hpp"
#include "experiments/fidelity.hpp"
#include "experiments/validate.hpp"
#include "models/circuit_model.hpp"
#include "models/continuous_engine.hpp"
#include "pdk/technology.hpp"
#include "spice/pool.hpp"
#include "spice/sim_options.hpp"

namespace bmru::experiments {

// What the lockstep runs: the netlist, its ports and what labels the run in /config.
struct Target {
  std::string lockstep, standalone;
  std::vector<core::ElementRow> map;
  models::PortMap ports;
  std::vector<std::string> sources;  // input sources, (pos, neg) per network input
  bool has_logits = true;
  std::vector<std::pair<core::PowerBlock, std::string>> supplies;  // (block, supply source)
  std::vector<std::string> cell_supplies;  // per cell (layer-major), when the netlist has them
  // Per position (ports.positions) its feed-forward and bias rails' sense sources, when the
  // netlist has them.
  std::vector<std::string> position_supplies;
  // --noise: the caller-driven noise sources in the lockstep netlist, one per cell (layer-major).
  std::vector<std::string> noise_sources;
  std::vector<core::Attr> config;
  spice::SimOptions sim;  // the simulator settings in effect (recorded in /config)
  // The generated circuit's parameters as realised, and what changed (none for a user's netlist).
  std::optional<core::Network> network;
  std::vector<models::ParameterChange> realised, clamped;
  // The die the netlist's own mismatch draws make, for ct (nominal without a mismatch seed, or
  // when the technology's models draw their own).
  models::CtDie ct_die;
};

// The generator's circuit for this network, calibrated in a worker (no ngspice in this process).
Target generated_target(const FidelityOptions& o, const core::Network& net,
                        const pdk::Technology& tech, const pdk::Conditions& k,
                        const core::Matrix& x0, spice::WorkerPool& pool,
                        std::optional<models::CtFacts>& ct_facts, const StageFn& stage);

// A user's netlist and port map (bmru validate): prepared, and checked against the network and
// against an operating point in a worker; every problem is reported at once.
Target user_target(const FidelityOptions& o, const UserPorts& u, const core::Network& net,
                   spice::WorkerPool& pool, const StageFn& stage);

}  // namespace bmru::experiments
