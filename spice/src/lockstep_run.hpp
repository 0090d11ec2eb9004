#pragma once
// The state of one lockstep transient: source values as a pure function of time, incremental
// breakpoints, sampling at the sample instants (interpolated if a step straddles one), per-frame
// integrals and dense capture. Driven by ngspice's callbacks.
#include <ngspice/sharedspice.h>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "spice/lockstep.hpp"

namespace bmru::spice {

class LockstepRun {
 public:
  LockstepRun(const LockstepSpec& spec, LockstepHandler& handler, double stop_s);

  // GetVSRCData / GetISRCData: the value of source `name` at time t. Pure in t.
  double source_value(const char* name, double t);
  // SendInitData: a new plot; vector indices are mapped at its first data point.
  void on_plot();
  // SendData: one accepted point.
  void on_data(pvecvaluesall values);
  // Breakpoints to queue before the transient starts.
  void queue_initial_breakpoints();

  Index samples() const { return next_sample_; }
  long long accepted() const { return accepted_; }
  bool stop_requested() const { return abort_after_ >= 0; }
  // Ends the transient at the next accepted point (after a failure in the caller's handler).
  void abort() {
    if (abort_after_ < 0) abort_after_ = std::max(t_prev_, 0.0);
  }
  double last_time() const { return t_prev_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  const std::vector<double>& frame(Index k);
  void map_vectors(pvecvaluesall values);
  void schedule_breakpoints(double t);
  void sample(double t, const std::vector<double>& now);
  void integrate(double t, const std::vector<double>& now);

  const LockstepSpec& spec_;
  LockstepHandler& handler_;
  double stop_s_;
  double eps_;
  std::unordered_map<std::string, size_t> source_index_, signal_index_;
  // Frame value cache: frames k-1 and k are all the ramp ever needs.
  Index cached_k_[2] = {-1, -1};
  std::vector<double> cached_[2];
  size_t next_cache_ = 0;
  // Vector positions in SendData, per probe / integral / dense vector, and the scale.
  bool mapped_ = false;
  int time_index_ = -1;
  std::vector<int> probe_index_, integral_index_, dense_index_;
  std::vector<double> now_probes_, prev_probes_, now_int_, prev_int_, acc_int_, dense_;
  double t_prev_ = -1;
  Index next_sample_ = 0;
  Index integral_frame_ = 0;
  size_t next_bkpt_ = 0;  // index into the flat list (frame, corner)
  long long accepted_ = 0;
  double abort_after_ = -1;
  std::vector<std::string> problems_;
};

}  // namespace bmru::spice
