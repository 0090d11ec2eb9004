#pragma once
// Runs the built `bmru` binary (and Debian's python3 with h5py) for end-to-end tests.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace bmru::test {

struct Output {
  int status = -1;
  std::string text;  // stdout and stderr together
};

inline Output run(const std::string& command) {
  Output out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.text.append(buf.data(), n);
  const int st = pclose(p);
  out.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

inline Output bmru(const std::string& args) { return run(std::string(BMRU_BINARY) + " " + args); }

// Debian's interpreter, where scripts/setup.sh installs python3-h5py.
inline Output python(const std::string& script_path, const std::string& args) {
  return run("/usr/bin/python3 " + script_path + " " + args);
}

}  // namespace bmru::test
