#pragma once
// `bmru export`: a run file's traces for designers' own tools (issue 15).
//   raw: an ngspice binary raw file. Per sequence one plot of the dense waveforms (time, every
//        cell's output current, amperes) when the run kept them, and one plot of the per-frame
//        traces at the sample instants (time = (k + sample_phase) T; every /sw, /hw, /ct trace, one
//        vector per column). ngspice's `load`, gaw and xschem read it.
//   csv: one CSV per trace, with a header row: sequence, frame (or time), then one column per cell,
//        class or block.
#include <filesystem>
#include <string>

namespace bmru::experiments {

struct ExportOptions {
  std::filesystem::path run;
  std::filesystem::path out;
  std::string format = "raw";  // raw | csv
};

struct ExportResult {
  int plots = 0;  // raw: plots written
  int files = 0;  // csv: files written
  long long vectors = 0, points = 0;
};

ExportResult run_export(const ExportOptions& options);

}  // namespace bmru::experiments
