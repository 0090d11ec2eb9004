#pragma once
// `bmru evaluate`: task-level co-simulation. Every clip of one part of a dataset's split runs
// through the engines in lockstep (the fidelity run, its workers and checks), and the clips'
// decisions are scored against their labels: accuracy per engine, decision agreement between
// engines, state agreement, and energy per inference on the circuit by power block.
//
// Resumable like the sweep: clips run in chunks, each chunk a fidelity run written to the journal
// folder `<out>.clips/` (`runs/<id>.h5`), then one row per clip (`clip_<index>.json`, by rename).
// The same command resumes, skipping clips with a row; a journal made with other options is
// refused. The evaluation file `<out>` is rebuilt from the journal at the end:
//
//   /config                attrs: kind "evaluate", data, scheme, part, decision, tie, engines, ...
//   /model                 the network
//   /clips                 one row per clip: index (in the dataset), name, label, status, error,
//                          run and sequence (where its traces are), per engine decision and
//                          margin, state agreements, energy per block (J)
//   /metrics               attrs: per engine accuracy, balanced accuracy and ties; decision and
//                          state agreements; mean power and energy per inference by block; failed
//   /metrics/confusion_<engine>   [classes, classes] clip counts, [true][decided]
//   /runs/<id>             the chunks' fidelity runs (traces, netlists, metrics)
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/power.hpp"
#include "core/vote.hpp"
#include "experiments/fidelity.hpp"

namespace bmru::experiments {

struct EvaluateOptions {
  FidelityOptions base;  // the run options; base.out is the evaluation file, base.inputs unused
  std::filesystem::path data;
  std::string scheme = "speaker", part = "test";
  std::optional<core::Index> limit;  // N clips evenly spaced over the part (in its order)
  core::DecisionRule decision = core::DecisionRule::vote;
  core::TiePolicy tie = core::TiePolicy::none;
  core::Index chunk = 0;      // clips per fidelity run (0: four per worker, at least 8)
  bool retry_failed = false;  // rerun clips the journal records as failed
};

// One engine's view of a clip: its decision (core::kTie for a tie or nothing decided) and margin.
struct EngineDecision {
  bool run = false;  // the engine ran this clip to its end
  core::Decision decision;
};

struct ClipResult {
  core::Index clip = 0;  // index in the dataset
  std::string name;
  std::int64_t label = 0;
  std::string status = "ok", error;  // "failed": a circuit engine did not finish the clip
  std::string run;                   // the chunk's run id (/runs/<run>) and the clip's sequence
  core::Index sequence = 0;
  EngineDecision sw, ct, hw;
  // sw vs hw (sw vs ct without SPICE), ct vs sw and hw vs ct; NaN where not run.
  double state_agreement = 0, ct_sw_state_agreement = 0, hw_ct_state_agreement = 0;
  core::PowerByBlock energy_j;   // mean power x clip duration (NaN without SPICE)
  double spice_s = 0, ct_s = 0;  // wall seconds spent on the clip (its chunk's share)
};

struct EngineScore {
  bool run = false;
  core::TaskScore score;
};

struct EvaluateResult {
  bool root = true;  // false on an MPI rank other than 0 (it holds nothing)
  std::vector<std::string> classes;
  std::vector<ClipResult> clips;  // in dataset order
  EngineScore sw, ct, hw;
  // hw vs sw (ct vs sw without SPICE), and the other pairs; NaN where an engine did not run.
  double decision_agreement = 0, ct_sw_decision_agreement = 0, hw_ct_decision_agreement = 0;
  double state_agreement = 0, ct_sw_state_agreement = 0, hw_ct_state_agreement = 0;
  core::PowerByBlock mean_power_w, energy_j;  // means over the clips that finished
  double spice_s_per_clip = 0, ct_s_per_clip = 0, clip_duration_s = 0;
  long failed = 0;
  // With --noise: per engine the suppression pooled over every clip (pooled_suppression).
  std::vector<FidelityResult::Suppression> suppression;
  int ran = 0, skipped = 0;
  std::filesystem::path journal;
  double wall_s = 0;
};

class MpiWorld;  // experiments/src/distribute.hpp
// `progress(done, total)` counts frames of the clips to run; `finished` gets a line per chunk.
// Under `mpirun -np N` the chunks are spread over the ranks (issue 20): every rank calls this with
// the same options; only rank 0's result holds the clips.
EvaluateResult run_evaluate(const EvaluateOptions& o,
                            const std::function<void(long long, long long)>& progress = {},
                            const std::function<void(const std::string&)>& finished = {},
                            const MpiWorld* world = nullptr);

// The scores of journal rows (what run_evaluate returns, without running anything).
EvaluateResult score_clips(std::vector<ClipResult> clips, std::vector<std::string> classes, bool ct,
                           bool hw);

std::filesystem::path evaluate_journal(const std::filesystem::path& out);

// The clips an evaluation would run, after every check of the dataset against the model
// (InputError naming each problem): dataset indices, frames per clip, and a hash of their inputs
// and labels.
struct EvaluateSelection {
  std::vector<core::Index> clips;
  core::Index frames = 0;
  std::string sha256;
};
EvaluateSelection evaluate_selection(const EvaluateOptions& o, const core::Network& net);

}  // namespace bmru::experiments
