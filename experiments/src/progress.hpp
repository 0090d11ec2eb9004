#pragma once
// Progress with ETA on stderr, only when stderr is a terminal (DESIGN.md section 8).
#include <chrono>
#include <string>

namespace bmru::experiments {

class Progress {
 public:
  explicit Progress(std::string what);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void update(long long done, long long total);

 private:
  std::string what_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace bmru::experiments
