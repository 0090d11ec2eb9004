#pragma once
// The options of `bmru fidelity`, shared by the commands built on it (sweep, validate).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "experiments/fidelity.hpp"

namespace bmru::experiments {

// Command-line values that become FidelityOptions only after parsing.
struct FidelityCli {
  std::string mode = "free";
  std::string engines = "sw,hw";
  std::optional<std::filesystem::path> ct_facts;
  std::optional<double> ramp_s;
};

void add_fidelity_options(CLI::App* cmd, FidelityOptions& o, FidelityCli& cli);
void apply_fidelity_cli(const FidelityCli& cli, FidelityOptions& o);
// The compact table of a finished run (per cell, per sequence, latency, power, wall times).
void print_fidelity(const FidelityResult& r, const FidelityOptions& o);
// The running executable (for worker processes).
std::filesystem::path self_binary(const char* argv0);

}  // namespace bmru::experiments
