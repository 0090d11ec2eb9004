#pragma once
// `bmru validate`: a netlist someone else wrote, with its port map (DESIGN.md section 6), run in
// lockstep with the behavioural model exactly like `bmru fidelity`.
#include <optional>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "models/circuit_model.hpp"
#include "spice/sim_options.hpp"

namespace bmru::experiments {

// A port map read from JSON: the ports, and the model parameters it carries (if any).
struct UserPorts {
  models::PortMap ports;
  bool has_logits = false;
  std::vector<bool> has_supply = {false, false, false};  // cells, feedforward, bias
  std::optional<core::Network> parameters;
};
// Throws InputError naming the file and the field.
UserPorts read_port_map(const std::string& text, const std::string& file);

// Every disagreement between a port map and the network it should realise (counts of inputs,
// layers, cells, logits), one sentence each, naming the port.
std::vector<std::string> port_count_problems(const UserPorts& p, const core::Network& net);

// The user's netlist made ready for lockstep: `.control` blocks, analyses, output commands and
// `.end` removed; each input source of the port map rewritten as a caller-driven `external`
// current source; our transient options placed after the title (the netlist's own win).
// `problems` lists input sources that are missing or are not current sources. Every .include /
// .lib is followed (relative paths from the including file's folder, written absolute into `text`);
// `refused` lists what makes the netlist unusable before any simulation: an included file that is
// missing, or that holds a `.control` block, a `shell` / `system` command or an ngspice script.
// A user netlist is data, never a script.
struct PreparedNetlist {
  std::string text;
  spice::SimOptions sim;  // in effect: ours, then the netlist's own .option lines
  std::vector<std::string> problems;
  std::vector<std::string> refused;
};
PreparedNetlist prepare_netlist(const std::string& netlist, const std::string& file,
                                const models::PortMap& ports);

// Resolves a probe against the vectors of an operating point: "<name>#branch" (or the ngspice
// form "v.<x>.<name>#branch" of a hierarchical "x.name"). Returns the probe to use, or the
// problem ("not found", "is a node voltage, not a current").
// The simulator settings a user's netlist starts from (its own .option lines win).
spice::SimOptions validate_sim_options();

struct ProbeLookup {
  std::optional<std::string> resolved;
  std::string problem;
};
ProbeLookup resolve_probe(const std::string& name, const std::vector<std::string>& vectors);

}  // namespace bmru::experiments
