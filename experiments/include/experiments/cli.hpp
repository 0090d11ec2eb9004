#pragma once
// The `bmru` command line: parses argv, runs one subcommand, maps errors to exit codes
// (0 success; 1 a usage, input or environment error (a full disk too) with one clear message;
// 2 an internal error; 3 a run that finished, file written, with failed sequences or runs).
namespace bmru::experiments {

int run_cli(int argc, char** argv);

}  // namespace bmru::experiments
