#pragma once
// The `bmru` command line: parses argv, runs one subcommand, maps errors to exit codes
// (0 success, 1 a user or file error with one clear message, 2 an internal error).
namespace bmru::experiments {

int run_cli(int argc, char** argv);

}  // namespace bmru::experiments
