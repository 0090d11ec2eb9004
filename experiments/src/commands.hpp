#pragma once
// Registration of each subcommand on the `bmru` app (one function per command).
#include <CLI/CLI.hpp>
#include <string>

namespace bmru::experiments {

void add_simulate_command(CLI::App& app, const std::string& command_line);
void add_demo_model_command(CLI::App& app);
void add_features_command(CLI::App& app, const std::string& command_line);
void add_dataset_command(CLI::App& app, const std::string& command_line);
void add_pdk_command(CLI::App& app);
void add_characterize_command(CLI::App& app);
void add_bench_command(CLI::App& app, const std::string& command_line, const char* argv0);
void add_bench_accuracy(CLI::App* bench, const std::string& command_line, const char* argv0);
void add_bench_ct_throughput(CLI::App* bench, const std::string& command_line, const char* argv0);
void add_netlist_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_fidelity_command(CLI::App& app, const std::string& command_line, const char* argv0);
void add_evaluate_command(CLI::App& app, const std::string& command_line, const char* argv0);
void add_validate_command(CLI::App& app, const std::string& command_line, const char* argv0);
void add_model_command(CLI::App& app);
// `bmru train` (libtorch); without libtorch, a command that says how to get it.
void add_train_command(CLI::App& app);
void add_sweep_command(CLI::App& app, const std::string& command_line, const char* argv0);
void add_scaling_command(CLI::App& app, const std::string& command_line, const char* argv0);
void add_noise_study_command(CLI::App& app, const std::string& command_line);
struct TechnologyOptions;
void add_technology_options(CLI::App* cmd, TechnologyOptions& t);
// Sets `exit_code` to the worker loop's exit code.
void add_worker_command(CLI::App& app, int& exit_code);

}  // namespace bmru::experiments
