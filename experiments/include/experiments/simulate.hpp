#pragma once
// `bmru simulate`: the behavioural (discrete reference engine) run of a network over input
// sequences, written to a run file in the layout of DESIGN.md section 6.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/vote.hpp"

namespace bmru::experiments {

struct SimulateOptions {
  std::optional<std::filesystem::path> model;   // default: the demo network
  std::optional<std::filesystem::path> inputs;  // default: random sequences below
  core::Index random_sequences = 8;
  core::Index frames = 101;
  std::uint64_t seed = 1;
  std::optional<double> unit_current_a;  // overrides the model file's unit_current
  double max_output_gb = 20;             // a larger run file is refused before it starts
  std::filesystem::path out;
  std::string command_line;
};

struct SimulateResult {
  core::Network network;
  core::Index sequences = 0;
  core::Index frames = 0;
  std::vector<core::Decision> decisions;
  std::vector<std::vector<double>> high_share;  // [layer][cell] share of frames with h > 0
  double wall_s = 0;
};

// Frames done and frames in all, for progress reporting.
using ProgressFn = std::function<void(core::Index done, core::Index total)>;

SimulateResult run_simulate(const SimulateOptions& options, const ProgressFn& progress = {});

// The network the options name: the model file, else the demo; with unit_current applied.
core::Network load_network(const std::optional<std::filesystem::path>& model,
                           const std::optional<double>& unit_current_a);

}  // namespace bmru::experiments
