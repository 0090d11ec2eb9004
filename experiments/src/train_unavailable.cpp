// `bmru train` in a build without libtorch: the command exists and says how to get it.
#include "commands.hpp"
#include "core/errors.hpp"

namespace bmru::experiments {

void add_train_command(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("train", "Train a BMRU network (needs libtorch: not in this build)");
  cmd->allow_extras();
  cmd->callback([] {
    throw InputError(
        "This bmru was built without libtorch, so it cannot train. Install libtorch-dev "
        "(scripts/setup.sh does) and rebuild.");
  });
}

}  // namespace bmru::experiments
