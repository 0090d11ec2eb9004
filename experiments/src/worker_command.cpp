#include "commands.hpp"
#include "experiments/worker_jobs.hpp"

namespace bmru::experiments {

void add_worker_command(CLI::App& app, int& exit_code) {
  // Hidden: started by the worker pool, which talks to it over file descriptors 3 and 4.
  CLI::App* cmd = app.add_subcommand("worker", "Run jobs for a parent bmru process");
  cmd->group("");
  cmd->callback([&exit_code] { exit_code = spice::worker_main(worker_handlers()); });
}

}  // namespace bmru::experiments
