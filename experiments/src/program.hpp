#pragma once
// Runs another program from an argument vector (never through a shell, so no file name is ever
// parsed as shell text) and waits for it.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bmru::experiments {

struct ProgramRun {
  std::vector<std::string> argv;             // argv[0] is the program (a path, or a name on PATH)
  std::optional<std::filesystem::path> cwd;  // working folder of the child
  std::optional<std::filesystem::path> output;  // stdout and stderr to this file (else inherited)
};

// The exit status (0-255), or 128 + the signal that ended it; throws Error when it cannot start.
int run_program(const ProgramRun& run);

}  // namespace bmru::experiments
