#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "experiments/bench.hpp"
#include "options.hpp"

namespace bmru::experiments {

void add_bench_command(CLI::App& app, const std::string& command_line, const char* argv0) {
  CLI::App* cmd = app.add_subcommand("bench", "Benchmarks that print measured ratios");
  cmd->require_subcommand(1);
  auto o = std::make_shared<BenchLockstepOptions>();
  CLI::App* lock = cmd->add_subcommand(
      "lockstep", "Lockstep vs free-running transient vs ngspice -b on a ~100-MOSFET mirror chain");
  add_count(lock, "--frames", o->frames, "Frames (default 1000)");
  add_quantity(lock, "--frame-period", o->frame_period_s, "Frame period (default 10m)");
  add_count(lock, "--pairs", o->pairs, "Alternating free/lockstep pairs (default 5)");
  lock->callback([o] {
    const BenchLockstepResult r = run_bench_lockstep(*o);
    std::printf("fixture: %d MOSFETs, %lld frames of %g s, %lld accepted points per run\n",
                r.mosfets, static_cast<long long>(o->frames), o->frame_period_s, r.accepted_points);
    for (size_t i = 0; i < r.free_s.size(); ++i)
      std::printf(
          "pair %zu: free %.3f s (cpu %.3f), lockstep %.3f s (cpu %.3f), ratio %.4f (cpu %.4f)\n",
          i + 1, r.free_s[i], r.free_cpu_s[i], r.lockstep_s[i], r.lockstep_cpu_s[i],
          r.lockstep_s[i] / r.free_s[i], r.lockstep_cpu_s[i] / r.free_cpu_s[i]);
    std::printf("ngspice -b (PWL sources): %.3f s\n", r.batch_s);
    std::printf("chain gain (output / input current, 50 mirrors): %.3g\n", r.chain_gain);
    std::printf(
        "lockstep_overhead_ratio=%.6g\nlockstep_overhead_cpu_ratio=%.6g\nbatch_ratio=%.6g\n",
        r.overhead_ratio, r.overhead_cpu_ratio, r.batch_ratio);
  });
  add_bench_accuracy(cmd, command_line, argv0);
  add_bench_ct_throughput(cmd, command_line, argv0);
}

}  // namespace bmru::experiments
