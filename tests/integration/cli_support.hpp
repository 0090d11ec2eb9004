#pragma once
// Runs the built `bmru` binary (and Debian's python3 with h5py) for end-to-end tests.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

namespace bmru::test {

// The Free Spoken Digit Dataset's recordings in shared/ beside the clone; tests that need them
// skip with REQUIRE_FSDD() when they are absent.
inline const std::filesystem::path kFsdd =
    std::filesystem::path(BMRU_SOURCE_DIR) / ".." / "shared" / "data" / "fsdd" / "recordings";
#define REQUIRE_FSDD()                                                   \
  if (!std::filesystem::exists(bmru::test::kFsdd / "0_george_0.wav"))    \
    GTEST_SKIP() << "FSDD recordings not found at " << bmru::test::kFsdd \
                 << " (shared/ beside the clone)";

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

inline Output bmru(const std::string& args) {
  return run(std::string(BMRU_BINARY) + " " + args);
}

// The calibration cache of the tests: a folder of this build (never the user's cache, never one
// fixed folder shared between checkouts), kept between tests so that each calibrates once.
inline std::filesystem::path cache_dir() {
  return std::filesystem::path(BMRU_BUILD_DIR) / "test-cache";
}
inline std::string cache_env() {
  return "XDG_CACHE_HOME=" + cache_dir().string();
}

// bmru with the tests' calibration cache.
inline Output bmru_cached(const std::string& args) {
  return run(cache_env() + " " + BMRU_BINARY + " " + args);
}

// Debian's interpreter, where scripts/setup.sh installs python3-h5py.
inline Output python(const std::string& script_path, const std::string& args) {
  return run("/usr/bin/python3 " + script_path + " " + args);
}

// Width and height of a PNG image from its IHDR chunk; {0, 0} when the file is not a PNG.
inline std::pair<int, int> png_size(const std::filesystem::path& path) {
  std::ifstream png(path, std::ios::binary);
  unsigned char head[24] = {};
  if (!png.read(reinterpret_cast<char*>(head), 24) ||
      std::string(reinterpret_cast<char*>(head + 1), 3) != "PNG")
    return {0, 0};
  const auto be32 = [&](int at) {
    return (head[at] << 24) | (head[at + 1] << 16) | (head[at + 2] << 8) | head[at + 3];
  };
  return {be32(16), be32(20)};
}

}  // namespace bmru::test
