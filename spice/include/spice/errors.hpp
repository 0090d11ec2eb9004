#pragma once
// ngspice failures as exceptions with fields: the ngspice lines that caused them, and how far the
// simulation got. Translated once, in the adapter; nothing above it sees ngspice conventions.
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace bmru::spice {

class SimulationError : public Error {
 public:
  SimulationError(const std::string& what, std::vector<std::string> lines, double time_reached = -1,
                  double stop_time = -1)
      : Error(compose(what, lines)),
        lines_(std::move(lines)),
        time_reached_(time_reached),
        stop_time_(stop_time) {}

  // The ngspice messages (stderr and error lines) that explain the failure.
  const std::vector<std::string>& lines() const { return lines_; }
  double time_reached() const { return time_reached_; }  // -1 when no transient ran
  double stop_time() const { return stop_time_; }

 private:
  static std::string compose(const std::string& what, const std::vector<std::string>& lines) {
    std::string s = what;
    const size_t shown = lines.size() < 12 ? lines.size() : 12;
    if (shown) s += "\n  ngspice said:";
    for (size_t i = 0; i < shown; ++i) s += "\n    " + lines[i];
    if (lines.size() > shown) s += "\n    ... (" + std::to_string(lines.size() - shown) + " more)";
    return s;
  }
  std::vector<std::string> lines_;
  double time_reached_;
  double stop_time_;
};

// ngspice called ControlledExit: the library cannot be used again in this process.
class SessionLost : public SimulationError {
 public:
  using SimulationError::SimulationError;
};

}  // namespace bmru::spice
