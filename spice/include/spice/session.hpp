#pragma once
// The ngspice adapter: the one process-global thing in bmru-cosim. libngspice keeps all its state
// in globals and cannot be initialised twice, so at most one Session exists per process, ever;
// parallel work runs in worker processes (pool.hpp). Loading a netlist gives a Circuit; a Circuit
// runs analyses; its destructor cleans up (destroy all, remcirc) so memory stays flat over many
// runs. ngspice holds one circuit at a time: a later load makes an earlier Circuit stale (its calls
// throw Error, its destructor leaves the new circuit alone).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "spice/errors.hpp"
#include "spice/lockstep.hpp"

namespace bmru::spice {

struct Transient {
  double step_s = 0;      // print step (TSTEP)
  double stop_s = 0;      // TSTOP
  double max_step_s = 0;  // largest internal step (TMAX); 0 = ngspice's default
};

struct RunSummary {
  double time_reached_s = 0;
  Index samples = 0;  // lockstep frames sampled
  long long accepted_points = 0;
  bool stopped_early = false;         // the handler asked to stop
  std::vector<std::string> warnings;  // ngspice warning lines (not failures)
};

class Circuit;

class Session {
 public:
  // Loads and initialises libngspice hermetically (own spinit via SPICE_SCRIPTS with code models by
  // absolute path, num_threads=1, C numeric locale, no .spiceinit from the working folder or HOME).
  // Throws Error if a Session was ever created in this process.
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Loads a netlist from memory after `setseed seed`. An abort source is appended for early stops.
  // Throws SimulationError quoting ngspice when the netlist does not load cleanly.
  Circuit load(const std::string& netlist, std::uint64_t seed = 1);

  const std::string& version() const;  // e.g. "39.3"
  bool usable() const;                 // false after ngspice's ControlledExit
  std::uint64_t seed() const;          // of the last load
  // Every line ngspice printed since the last load (or since init), prefixed "stdout "/"stderr ".
  std::vector<std::string> log() const;

  struct Impl;

 private:
  friend class Circuit;
  std::unique_ptr<Impl> impl_;
};

class Circuit {
 public:
  Circuit(Circuit&&) noexcept;
  Circuit& operator=(Circuit&&) = delete;
  Circuit(const Circuit&) = delete;
  ~Circuit();

  // A transient in the foreground. `saves` limits the kept vectors (empty = ngspice's default,
  // every node). Throws SimulationError on any failure, quoting ngspice.
  RunSummary transient(const Transient& tran, const std::vector<std::string>& saves = {});
  // A lockstep transient (DESIGN.md section 4): sources driven from spec.frame_values, probes
  // pushed to the handler at each sample instant. Only the lockstep vectors are kept.
  RunSummary lockstep(const Transient& tran, const LockstepSpec& spec, LockstepHandler& handler);
  // Any other analysis command ("op", "dc vin 0 1.8 0.01"), checked like a transient.
  void analysis(const std::string& command);
  // A vector of the last analysis (copied). Throws SimulationError naming it if absent.
  std::vector<double> vector(const std::string& name) const;
  // The names of every vector of the last analysis, lower case ("v(out)" style names as ngspice
  // lists them, e.g. "out", "vdd#branch", "v.x1.vs#branch").
  std::vector<std::string> vector_names() const;

 private:
  friend class Session;
  Circuit(Session& s, std::uint64_t generation) : session_(&s), generation_(generation) {}
  // The session's state, after checking that this circuit is still the loaded one (Error if a later
  // load replaced it) and that ngspice is usable.
  Session::Impl& live() const;
  Session* session_;
  std::uint64_t generation_ = 0;
};

}  // namespace bmru::spice
