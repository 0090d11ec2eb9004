#pragma once
// The one lockstep driver of `bmru fidelity` (DESIGN.md section 4), in two halves:
//  - Followers: the frame engines that run beside the leading one (the circuit in a SPICE run, ct
//    in a models-only run), stepped frame by frame, with resync as a policy: before frame k each
//    follower's cell states become the leader's, sampled at k-1, as the levels they stand for.
//  - LockstepSinks: where every frame goes, whoever produced it: each engine's traces, first
//    crossings and votes (EngineStream), the comparators of the engine pairs, the decisions.
// The SPICE run's worker (fidelity_jobs.cpp) and the models-only run (fidelity_ct.cpp) both use
// Followers; the SPICE run's parent (fidelity.cpp) and the models-only run both use the sinks.
#include <optional>
#include <vector>

#include "core/comparator.hpp"
#include "core/frame.hpp"
#include "core/network.hpp"
#include "core/noise.hpp"
#include "core/run_file.hpp"
#include "core/time_axis.hpp"
#include "experiments/fidelity.hpp"
#include "models/continuous_engine.hpp"
#include "models/reference_engine.hpp"

#include "engine_stream.hpp"

namespace bmru::experiments {

using CrossingRows = core::Comparator::CrossingRows;

// The discrete states that sampled cell currents [1, d] (model units) stand for: alpha where above
// alpha / 2, else 0.
core::Matrix discrete_states(const core::Matrix& sampled, const core::Vector& alpha);

// The crossings of alpha/2 the ct engine saw in its last frame in one lane, [layer][cell].
CrossingRows crossing_rows(const models::ContinuousEngine& ct, core::Index lane = 0);

class Followers {
 public:
  // sw always; ct when `ct` is given (it starts from its operating point at x0).
  // `ct_net`: the network as the circuit realises it, which ct models (default: `net`); `die`:
  // the circuit's mismatch (default nominal).
  Followers(const core::Network& net, Mode mode, const std::optional<models::CtFacts>& ct,
            const core::FrameAxis& axis, const core::Matrix& x0,
            const core::Network* ct_net = nullptr, const models::CtDie* die = nullptr);

  // Frame k at inputs x_k [1, n_in]. `leader_states`: per layer the leader's sampled cell state
  // currents of frame k-1 in model units [1, d] (read only when resyncing and k > 0).
  void step(core::Index k, const core::Matrix& x_k, const std::vector<core::Matrix>& leader_states);

  // Noise currents (A) into every cell's candidate (layer-major; candidate_noise()): sw adds each
  // one's value at the sample instant, ct integrates it. With NoiseAt::lines, into every line of
  // the circuit (line_noise()): ct integrates them; sw, which has no lines, runs without.
  void set_noise(
      std::vector<core::NoiseTrack> tracks,
      models::ContinuousEngine::NoiseAt at = models::ContinuousEngine::NoiseAt::candidates);
  // Every cell of sw (and ct) the leaky baseline h = a h + (1 - a) c.
  void set_leaky(double a);

  core::Frame sw;
  core::Frame ct;
  bool has_ct() const { return ct_engine_.has_value(); }
  CrossingRows ct_crossings() const;
  double ct_seconds = 0;  // wall seconds ct took for the last frame

 private:
  const core::Network& net_;
  bool resync_;
  std::vector<core::Vector> alpha_;
  models::ReferenceEngine sw_engine_;
  std::optional<models::ContinuousEngine> ct_engine_;
  core::FrameAxis axis_;
  std::vector<core::NoiseTrack> noise_;
};

// The noise currents (A) into every cell's candidate line (layer-major) over one sequence x
// [N, n_in]: each line's amplitude in frame k from its noiseless current (the discrete model's
// candidate) when the amplitude is relative or shot noise; `sequence` picks the generators.
std::vector<core::NoiseTrack> candidate_noise(const core::NoiseSpec& spec, const core::Network& net,
                                              const core::Matrix& x, const core::FrameAxis& axis,
                                              std::uint64_t sequence);

// The noise currents (A) into every line of the circuit of `circuit_net` (the network as the
// circuit realises it), one per CircuitGraph line but the held logit nodes, in the graph's order
// (CircuitModel::line_noise_sources): each line's amplitude in frame k from its current in the
// ideal circuit (models::ideal_line_currents, the cells as the discrete model has them).
std::vector<core::NoiseTrack> line_noise(const core::NoiseSpec& spec,
                                         const core::Network& circuit_net, const core::Matrix& x,
                                         const core::FrameAxis& axis, std::uint64_t sequence);

// candidate_noise() or line_noise() (on `circuit_net`), as `at` says.
std::vector<core::NoiseTrack> noise_tracks(const core::NoiseSpec& spec,
                                           models::ContinuousEngine::NoiseAt at,
                                           const core::Network& net,
                                           const core::Network& circuit_net, const core::Matrix& x,
                                           const core::FrameAxis& axis, std::uint64_t sequence);

// One frame of every engine that ran, in model units (the SPICE adapter converted the circuit's).
struct LockstepFrame {
  core::Frame sw;
  std::optional<core::Frame> ct;
  CrossingRows ct_crossings;
  std::optional<core::Frame> hw;  // model units, for the comparators and the votes
  core::Frame hw_amps;            // as measured (A), for /hw
  CrossingRows hw_crossings;
};

struct LockstepMetrics {
  core::Metrics metrics;  // hw vs sw, or ct vs sw in a models-only run
  std::optional<core::Metrics> ct_vs_sw, hw_vs_ct;
};

class LockstepSinks {
 public:
  // Engines: sw always, and hw, ct or both. `hw_logits`: the circuit has logit probes (a user's
  // netlist may not), so its frames vote.
  LockstepSinks(core::RunFile& file, const core::Network& net, const core::TraceShape& shape,
                bool hw, bool ct, bool hw_logits = true);

  void add(core::Index s, core::Index k, LockstepFrame f);
  // Sequence s has ended: its pending frames are written; a sequence that did not run to its end
  // decides nothing and its decisions are not compared.
  void end_sequence(core::Index s, bool complete);
  // Writes every engine's decisions and returns the comparisons.
  LockstepMetrics finish();
  core::Index block() const { return sw_.block(); }

 private:
  const core::Network& net_;
  bool hw_logits_;
  std::vector<core::Vector> alpha_;
  EngineStream sw_;
  std::optional<EngineStream> hw_, ct_;
  core::Comparator primary_;  // hw vs sw, else ct vs sw
  std::optional<core::Comparator> ct_sw_, hw_ct_;
  std::vector<core::Decision> sw_dec_, hw_dec_, ct_dec_;
};

}  // namespace bmru::experiments
