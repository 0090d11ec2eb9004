#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace bmru::experiments {

Progress::Progress(std::string what)
    : what_(std::move(what)),
      enabled_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() {
  clear();
}

void Progress::clear() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  shown_ = false;
}

void Progress::stage(const std::string& text) {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K%s: %s ...", what_.c_str(), text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void Progress::note(const std::string& line) {
  clear();
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void Progress::update(long long done, long long total) {
  if (!enabled_ || total <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta =
      done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0;
  std::fprintf(stderr, "\r\033[K%s: %lld/%lld (%.0f %%), ETA %.0f s", what_.c_str(), done, total,
               100.0 * static_cast<double>(done) / static_cast<double>(total), eta);
  std::fflush(stderr);
  shown_ = true;
}

}  // namespace bmru::experiments
