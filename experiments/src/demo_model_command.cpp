#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "core/model_file.hpp"
#include "models/demo_network.hpp"
#include "options.hpp"

namespace bmru::experiments {

void add_demo_model_command(CLI::App& app) {
  struct Options {
    std::uint64_t seed = models::kDemoSeed;
    std::filesystem::path out;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "demo-model", "Write the built-in demo network (13-4x2-2) to a model file (.json or .h5)");
  add_count(cmd, "--seed", opts->seed, "Seed of the demo network (default 1)", 0);
  cmd->add_option("-o,--out", opts->out, "Model file to write; .json gives JSON, else HDF5")
      ->required();
  cmd->callback([opts] {
    core::write_model(models::demo_network(opts->seed), opts->out);
    std::printf("wrote %s\n", opts->out.string().c_str());
  });
}

}  // namespace bmru::experiments
