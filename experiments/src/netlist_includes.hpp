#pragma once
// The files a user's netlist pulls in with .include / .inc / .lib, followed before ngspice sees
// any of them: a user netlist is data, never a script (issue 15).
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace bmru::experiments {

// Netlist text helpers: ASCII lower case, and a line split at white space.
std::string lower_case(std::string s);
std::vector<std::string> split_words(const std::string& line);

// What following a netlist's includes found: each problem as one sentence, and the files read
// (each is read once, however often it is included).
struct IncludeScan {
  std::vector<std::string> problems;
  std::set<std::filesystem::path> seen;
};

// If `line` includes a file (`.include F`, `.inc F`, `.lib F SECTION`), returns it with F made
// absolute (a relative F is read from `base_dir`, the including file's folder, as ngspice reads
// nested includes) and checks that file and everything it includes in turn. Each problem (a
// missing file, a `.control` / `.endc` block, a `shell` or `system` command, an ngspice script)
// is appended to `scan` as one sentence naming the file and line. Other lines come back unchanged.
std::string follow_include(const std::string& line, const std::filesystem::path& base_dir,
                           const std::string& where, IncludeScan& scan);

}  // namespace bmru::experiments
