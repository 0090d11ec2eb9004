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
  // A long step without frames to count: shown in place of the bar (terminal only).
  void stage(const std::string& text);
  // A line that stays (a finished sweep run): printed on stderr whether or not it is a terminal,
  // so that a log file gets a line per run; the bar, if shown, is redrawn below it.
  void note(const std::string& line);
  // Removes the bar before a report is printed.
  void clear();

 private:
  std::string what_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace bmru::experiments
