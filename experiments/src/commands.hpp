#pragma once
// Registration of each subcommand on the `bmru` app (one function per command).
#include <CLI/CLI.hpp>
#include <string>

namespace bmru::experiments {

void add_simulate_command(CLI::App& app, const std::string& command_line);
void add_demo_model_command(CLI::App& app);

}  // namespace bmru::experiments
