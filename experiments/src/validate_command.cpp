#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "experiments/fidelity.hpp"
#include "fidelity_cli.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bmru::experiments {

void add_validate_command(CLI::App& app, const std::string& command_line, const char* argv0) {
  auto o = std::make_shared<FidelityOptions>();
  o->command_line = command_line;
  o->binary = self_binary(argv0);
  auto cli = std::make_shared<FidelityCli>();
  CLI::App* cmd = app.add_subcommand("validate",
                                     "Run a netlist someone else wrote (with its JSON port map) in "
                                     "lockstep with the model and compare");
  cmd->add_option("--netlist", o->user_netlist,
                  "The netlist (its analyses and .control blocks are removed)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--ports", o->user_ports, "Port map (JSON, DESIGN.md section 6)")
      ->required()
      ->check(CLI::ExistingFile);
  add_fidelity_options(cmd, *o, *cli);
  cmd->callback([o, cli] {
    apply_fidelity_cli(*cli, *o);
    Progress bar("validate frames (all sequences)");
    const FidelityResult r = run_fidelity(
        *o, [&](long long done, long long total) { bar.update(done, total); },
        [&](const std::string& text) { bar.stage(text); });
    bar.clear();
    print_fidelity(r, *o);
  });
}

}  // namespace bmru::experiments
