#pragma once
// The parent's side of the SPICE lockstep: each frame record a worker sends (core/frame_record.hpp)
// is checked against the run's shape, converted once from the circuit's probe currents to a frame
// in amperes and in model units (the SPICE adapter), and handed to the lockstep sinks; the supply
// integrals become power per block and per cell, and the dense samples /hw/waveforms.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/frame_record.hpp"
#include "core/power.hpp"
#include "core/run_file.hpp"
#include "experiments/fidelity.hpp"
#include "spice/pool.hpp"

#include "fidelity_target.hpp"
#include "lockstep.hpp"

namespace bmru::experiments {

// Probe order of a sequence job: per layer d candidates, d states, d (pos, neg) outputs; then the
// logits as (pos, neg).
std::vector<std::string> probe_list(const models::PortMap& p);

class HardwareSink {
 public:
  HardwareSink(core::RunFile& file, const core::Network& net, const core::TraceShape& shape,
               const FidelityOptions& o, const Target& target, double vdd_v);

  // One record of sequence s's job; a rerun's repeats of frames already taken are skipped.
  void on_record(core::Index s, const std::string& bytes);
  // The frames sequence s has delivered so far.
  core::Index frames_received(core::Index s) const;
  // Sequence s has ended; `complete`: it delivered every frame and its job succeeded.
  void end_sequence(core::Index s, bool complete);
  LockstepMetrics finish() { return sinks_.finish(); }

  core::PowerByBlock mean_power() const;  // over every frame received, in sequence order
  // The same per position (ports.positions), when the netlist measures them (else empty).
  std::vector<double> mean_position_power() const;
  double spice_s = 0, ct_s = 0;  // with the ct engine: seconds each spent, per frame

 private:
  struct Sequence {
    std::array<std::vector<double>, 4> power;  // by core::PowerBlock, the pending block's frames
    core::Index next_k = 0;                    // first frame of the pending power block
    core::Index received = 0;
    core::PowerByBlock power_sum;      // this sequence's power by block, summed over its frames
    std::vector<double> position_sum;  // and by position
    long long power_frames = 0;
  };
  void check_shape(const core::FrameRecord& rec) const;
  LockstepFrame convert(core::FrameRecord& rec) const;
  void add_power(core::Index s, core::Index k, const std::vector<double>& charge);
  void flush_power(core::Index s);

  const core::Network& net_;
  const FidelityOptions& o_;
  const Target& target_;
  double vdd_v_;
  size_t probes_, cells_;
  LockstepSinks sinks_;
  std::vector<core::SeriesWriter> power_;
  std::optional<core::SeriesWriter> cell_power_, position_power_, waves_, lead_;
  std::vector<Sequence> seq_;
};

}  // namespace bmru::experiments
