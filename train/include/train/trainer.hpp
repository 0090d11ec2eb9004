#pragma once
// Hardware-aware training of first-quadrant BMRU networks on libtorch (`bmru train`). The forward
// pass is DESIGN.md section 1 exactly, batched over clips and frames; the Heaviside steps are
// exact going forward and use the arctan surrogate derivative 1 / (1 + (pi a x)^2) going back.
// Nothing here exposes libtorch types: networks and data cross as core values.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset_file.hpp"
#include "core/network.hpp"
#include "core/power.hpp"
#include "core/vote.hpp"
#include "models/realisable_range.hpp"

namespace bmru::train {

enum class LrSchedule { constant, cosine };

struct TrainOptions {
  std::string scheme = "speaker";  // the dataset's split (/split_<scheme>)
  long d = 4;
  long layers = 2;
  long epochs = 60;
  // 32 clips at 3e-3: on FSDD "zero" (2000 training clips) 256 at 1e-3 made 8 steps an epoch and
  // stopped early near chance (test 54 %); 32 at 3e-3 reaches 82 % in 2 min (README).
  long batch = 32;
  double lr = 3e-3;
  double dropout = 0.2;
  std::uint64_t seed = 1;
  double sharpness = 1.0;  // a of the surrogate derivative
  // The learning rate over the epochs: constant, or lr (1 + cos(pi (epoch - 1) / epochs)) / 2,
  // which settles the late epochs' swings of annealed training (README).
  LrSchedule lr_schedule = LrSchedule::constant;
  // Annealed training: for the first anneal_epochs epochs the cells' steps are logistic sigmoids
  // sigmoid(k x) whose steepness k grows geometrically from anneal_start to anneal_end (per model
  // unit); then exact steps with the surrogate derivative. Validation, the best epoch and the
  // result are always the exact network; early stopping waits for the anneal's end. 0: exact from
  // the start.
  long anneal_epochs = 0;
  double anneal_start = 3, anneal_end = 100;
  long patience = 15;  // epochs without a better validation result before stopping
  double unit_current_a = 1e-9;
  bool hardware_aware = false;
  // Additive N(0, sigma^2) noise on every input feature of every training frame (augmentation;
  // the features are per-utterance normalised, so sigma is relative to their spread).
  double input_noise = 0;
  double mismatch_sigma = 0;  // multiplicative N(1, sigma^2) noise on weights and biases per batch
  // Loss per model unit of the currents the network itself defines, per frame (the ideal power's,
  // models::ideal_power, over VDD and the unit current): training for energy. 0: none.
  // Only the part above power_budget_w (the ideal power at vdd_v, W) is weighed: 0, all of it.
  double power_weight = 0;
  double power_budget_w = 0;
  double vdd_v = 1.8;
  bool class_weights = true;  // weight the loss by inverse class frequency (keyword vs rest)
  core::DecisionRule decision = core::DecisionRule::vote;
  core::TiePolicy tie = core::TiePolicy::none;
  int threads = 1;  // libtorch intra-op threads (fixed, so a seed gives the same run)
  models::RealisableRange range;
  // Where checkpoints go (one per epoch, replaced atomically) and whether to resume from one.
  std::optional<std::filesystem::path> checkpoint;
  bool resume = false;
  // Stop after this many epochs of this invocation (0: none), as an interruption would; for tests
  // of resuming.
  long stop_after = 0;
};

struct EpochRecord {
  long epoch = 0;  // from 1
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;
  double seconds = 0;
};

using Accuracy = core::TaskScore;

struct TrainResult {
  core::Network network;  // the best epoch's: the lowest validation loss
  std::vector<EpochRecord> history;
  long best_epoch = 0;
  Accuracy test;                        // by the reference engine on the test part
  Accuracy val;                         // by the reference engine on the val part
  core::PowerByBlock test_ideal_power;  // models::ideal_power of the network on the test part (W)
  double wall_s = 0;
};

// Called after every batch: (epoch, batch in epoch, batches per epoch) and after every epoch.
struct Progress {
  std::function<void(long, long, long)> batch;
  std::function<void(const EpochRecord&)> epoch;
  std::function<void(long, std::uint64_t)> restart;  // (restart from 0, its seed) as it begins
};

// Checks the dataset and options before any training: labels present and within the classes,
// the split and its train/val/test parts present, d and the levels realisable under
// --hardware-aware. Every problem at once (InputError).
void check_training_input(const core::Dataset& data, const TrainOptions& o);

TrainResult train(const core::Dataset& data, const TrainOptions& o, const Progress& progress = {});

// Restarts: `restarts` trainings of the same options with seeds o.seed, o.seed + 1, ..., and the
// one whose best epoch has the lowest validation loss (the criterion that picks the epoch) kept.
// Model selection on the validation part only: the test part never chooses. Training runs of the
// same task and size can end far apart from one seed to the next (README). With o.checkpoint, each
// restart has its own: the first o.checkpoint, the others "<o.checkpoint>.seed<seed>", so that
// o.resume continues an interrupted series (finished restarts return at once).
struct Restarts {
  std::vector<std::uint64_t> seeds;
  std::vector<TrainResult> runs;  // in seed order
  size_t kept = 0;                // index into runs
  const TrainResult& best() const { return runs.at(kept); }
};
Restarts train_restarts(const core::Dataset& data, const TrainOptions& o, long restarts,
                        const Progress& progress = {});
// The validation loss of a result's best epoch.
double best_val_loss(const TrainResult& r);

// Adam's learning rate in `epoch` (from 1) under o.lr_schedule.
double learning_rate(long epoch, const TrainOptions& o);

// The loss's per-class weights: inverse class frequency over the clips `train` (0 for a class
// with none), so every class weighs the same in all.
std::vector<double> class_weights(const core::Dataset& data, const std::vector<core::Index>& train);

// Decisions of `net` on the clips `which` by the reference engine, scored against the labels.
Accuracy score(const core::Network& net, const core::Dataset& data,
               const std::vector<core::Index>& which, core::DecisionRule rule, core::TiePolicy tie);

// The network projected onto the realisable range (nearest realisable value of each parameter:
// weights in {0} u [w_min, w_max], bias currents in {0} u [b_min, b_max], cell levels within the
// calibration's, bands between the narrowest and band_rel_max of beta_hi). Returns how many values
// moved.
long project(core::Network& net, const models::RealisableRange& range);

// libtorch's forward pass of `net` over clips [S][N, n_in], for checking it against the
// reference engine: states per layer [S][N, d] and logits [S][N, n_out].
struct TorchForward {
  std::vector<std::vector<core::Matrix>> states;  // [layer][clip]
  std::vector<core::Matrix> logits;               // [clip]
};
TorchForward torch_forward(const core::Network& net, const std::vector<core::Matrix>& clips);

}  // namespace bmru::train
