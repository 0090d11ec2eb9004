#pragma once
// `bmru bench lockstep`: the cost of lockstep over a free-running transient, and over ngspice's
// own batch mode, on a fixture of about 100 subthreshold MOSFETs (a chain of current mirrors).
#include <filesystem>
#include <string>
#include <vector>

#include "core/network.hpp"

namespace bmru::experiments {

struct BenchLockstepOptions {
  core::Index frames = 1000;
  double frame_period_s = 10e-3;
  int pairs = 5;
  int stages = 25;                  // 4 MOSFETs each
  std::string ngspice = "ngspice";  // the batch executable
};

struct BenchLockstepResult {
  std::vector<double> free_s, lockstep_s;  // wall time per run, in the order they alternated
  std::vector<double> free_cpu_s, lockstep_cpu_s;  // CPU time per run
  double overhead_ratio = 0;      // median of lockstep / free wall time over the pairs
  double overhead_cpu_ratio = 0;  // the same with CPU time
  double batch_s = 0;
  double batch_ratio = 0;  // median lockstep / ngspice -b
  int mosfets = 0;
  long long accepted_points = 0;
  double chain_gain = 0;  // output / input current at the last frame (information)
};

BenchLockstepResult run_bench_lockstep(const BenchLockstepOptions& options);

// The fixture netlist: `stages` mirror stages driven by `Iin` (external, or a PWL of the inputs).
std::string mirror_chain(int stages, const std::string& input_source_line);

}  // namespace bmru::experiments
