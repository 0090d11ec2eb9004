#pragma once
#include <cstdint>
// Private state of the Session and the callbacks ngspice calls. Only this folder sees
// sharedspice.h.
#include <ngspice/sharedspice.h>

#include <atomic>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "lockstep_run.hpp"
#include "spice/session.hpp"

namespace bmru::spice {

struct Session::Impl {
  std::string version = "unknown";
  std::filesystem::path scripts_dir;
  std::vector<std::string> lines;  // since the last load, "stdout ..." / "stderr ..."
  size_t mark = 0;                 // lines before this index belong to earlier commands
  bool dead = false;               // ControlledExit seen
  int exit_status = 0;
  bool circuit_loaded = false;
  std::uint64_t generation = 0;  // of the loaded circuit: a Circuit of an earlier load is stale
  std::uint64_t seed = 1;
  LockstepRun* run = nullptr;  // the lockstep transient under way, if any
  // An exception thrown in a callback (a handler's); it cannot unwind through ngspice's C frames,
  // so it is kept here and rethrown after the run.
  std::exception_ptr pending;

  // Runs one interpreter command; returns false if ngspice reported a ControlledExit.
  bool command(const std::string& cmd);
  // Lines since `from` that report a failure (errors, missing models, singular matrix, ...).
  std::vector<std::string> failures(size_t from) const;
  std::vector<std::string> warnings(size_t from) const;
  void require_usable() const;
  void cleanup();
};

}  // namespace bmru::spice
