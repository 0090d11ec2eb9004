#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "experiments/simulate.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bmru::experiments {
namespace {

void print(const SimulateOptions& o, const SimulateResult& r) {
  std::printf("simulate: %lld sequences x %lld frames, network %lld-%lldx%lld-%lld, %s\n",
              static_cast<long long>(r.sequences), static_cast<long long>(r.frames),
              static_cast<long long>(r.network.n_in()), static_cast<long long>(r.network.d()),
              static_cast<long long>(r.network.n_layers()),
              static_cast<long long>(r.network.n_out()),
              o.model ? o.model->string().c_str() : "demo network");
  std::printf("share of frames with the cell high:\n");
  for (size_t l = 0; l < r.high_share.size(); ++l) {
    std::printf("  layer%zu:", l + 1);
    for (double s : r.high_share[l]) std::printf(" %6.3f", s);
    std::printf("\n");
  }
  std::printf("decisions (class, vote margin; -1 = tie):\n ");
  for (const auto& d : r.decisions) std::printf(" %d (%.3f)", d.decision, d.margin);
  std::printf("\nwrote %s\n", o.out.string().c_str());
  std::printf("sequences=%lld frames=%lld wall_s=%.6g\n", static_cast<long long>(r.sequences),
              static_cast<long long>(r.frames), r.wall_s);
}

}  // namespace

void add_simulate_command(CLI::App& app, const std::string& command_line) {
  auto opts = std::make_shared<SimulateOptions>();
  opts->command_line = command_line;
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Run the behavioural (discrete reference) model over input sequences");
  cmd->add_option("--model", opts->model, "Model file (HDF5 or JSON); default: the demo network")
      ->check(CLI::ExistingFile);
  auto* inputs = cmd->add_option("--inputs", opts->inputs,
                                 "Input file: HDF5 /inputs [S,N,n_in] or CSV [N,n_in]")
                     ->check(CLI::ExistingFile);
  add_count(cmd, "--random-sequences", opts->random_sequences,
            "Number of random input sequences (default 8)")
      ->excludes(inputs);
  add_count(cmd, "--frames", opts->frames, "Frames per random sequence (default 101)")
      ->excludes(inputs);
  add_count(cmd, "--seed", opts->seed, "Seed of the random inputs (default 1)", 0)
      ->excludes(inputs);
  add_quantity(cmd, "--unit-current", opts->unit_current_a,
               "Amperes per model unit; overrides the model file (e.g. 1n)");
  cmd->add_option("--max-output-gb", opts->max_output_gb,
                  "Refuse a run whose file would be larger than this, in GB (default 20)");
  cmd->add_option("-o,--out", opts->out, "Run file to write (HDF5)")->required();
  cmd->callback([opts] {
    Progress progress("simulate frames");
    const SimulateResult r = run_simulate(
        *opts, [&](core::Index done, core::Index total) { progress.update(done, total); });
    print(*opts, r);
  });
}

}  // namespace bmru::experiments
