#pragma once
// Training checkpoints (private to train): the parameters, Adam's state, the best network so far
// and the history, after every epoch, so that `bmru train --resume` continues where an
// interrupted run stopped and ends exactly as the uninterrupted one would.
#include <torch/torch.h>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "bmru_torch.hpp"
#include "train/trainer.hpp"

namespace bmru::train {

struct TrainState {
  long epochs_done = 0;
  long best_epoch = 0;
  double best_val_accuracy = -1;
  double best_val_loss = std::numeric_limits<double>::infinity();
  long stale = 0;  // epochs since the best
  core::Network best;
  std::vector<EpochRecord> history;
};

// What must match for a checkpoint to be resumed: the dataset's content and every option that
// changes the run (not the epoch limit, which a resume may raise).
std::string fingerprint(const core::Dataset& data, const TrainOptions& o);

// Written to "<path>.part" and renamed over `path`.
void save_checkpoint(const std::filesystem::path& path, const std::string& fingerprint,
                     const TrainState& state, const TorchNet& net, const torch::optim::Adam& adam);

// Restores `net` and `adam` in place. FileError naming the file when it is not a checkpoint or
// was made by another run (another dataset or options).
TrainState load_checkpoint(const std::filesystem::path& path, const std::string& fingerprint,
                           TorchNet& net, torch::optim::Adam& adam);

}  // namespace bmru::train
