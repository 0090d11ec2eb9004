#pragma once
// The options of `bmru fidelity`, shared by the commands built on it (sweep, validate).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "experiments/evaluate.hpp"
#include "experiments/fidelity.hpp"

namespace bmru::experiments {

// Command-line values that become FidelityOptions only after parsing.
struct FidelityCli {
  std::string mode = "free";
  std::string engines = "sw,hw";
  std::optional<std::filesystem::path> ct_facts;
  std::optional<double> ramp_s;
  std::string noise = "none", noise_at = "candidates";
  std::string cell = "bmru";
  double leak = 0.8;
};

void add_fidelity_options(CLI::App* cmd, FidelityOptions& o, FidelityCli& cli);
void apply_fidelity_cli(const FidelityCli& cli, FidelityOptions& o);
// The compact table of a finished run (per cell, per sequence, latency, power, wall times).
void print_fidelity(const FidelityResult& r, const FidelityOptions& o);
// --noise: a line per engine's median suppression factor (`over` says what it was taken over),
// and the circuit's (the last engine: hw, else ct, else sw) as the key=value line's tail
// (" suppression_factor=... suppression_is_bound=..."; empty without noise).
std::string print_suppression(const std::vector<FidelityResult::Suppression>& s,
                              const std::string& over);
// The task options of an evaluation (--data --scheme --part --limit --decision --tie --chunk), for
// evaluate (`required`: --data must be given) and sweep (the others need --data). Returns --data.
CLI::Option* add_evaluate_options(CLI::App* cmd, EvaluateOptions& o, bool required);
// Throws InputError naming the first of fidelity's own input options given with --data.
void refuse_own_inputs(const CLI::App* cmd);
// The running executable (for worker processes).
std::filesystem::path self_binary(const char* argv0);

}  // namespace bmru::experiments
