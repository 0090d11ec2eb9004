// `bmru train`: hardware-aware training on libtorch (train/), when this build has it.
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "core/file_lock.hpp"
#include "core/model_file.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "train/trainer.hpp"

namespace bmru::experiments {
namespace {

struct TrainCommand {
  std::filesystem::path data, out, history;
  train::TrainOptions train;
  long restarts = 1;
};

void write_history(const std::filesystem::path& path, const std::vector<train::EpochRecord>& h) {
  std::string text = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds\n";
  char line[256];
  for (const auto& r : h) {
    std::snprintf(line, sizeof line, "%ld,%.9g,%.9g,%.9g,%.9g,%.6g\n", r.epoch, r.train_loss,
                  r.train_accuracy, r.val_loss, r.val_accuracy, r.seconds);
    text += line;
  }
  core::write_text_atomically(path, text);
}

void print_accuracy(const char* part, const train::Accuracy& a,
                    const std::vector<std::string>& classes) {
  std::printf("%-5s accuracy %.2f %%, balanced %.2f %%, ties %ld\n", part, 100 * a.accuracy,
              100 * a.balanced_accuracy, a.ties);
  if (classes.size() > 12) return;
  std::printf("      confusion (rows: true class, columns: decided)\n      %10s", "");
  for (const auto& c : classes) std::printf(" %7.7s", c.c_str());
  std::printf("\n");
  for (size_t i = 0; i < classes.size(); ++i) {
    std::printf("      %10.10s", classes[i].c_str());
    for (long n : a.confusion[i]) std::printf(" %7ld", n);
    std::printf("\n");
  }
}

void run(const TrainCommand& c) {
  // One training per output: a second one would share (and overwrite) the checkpoint.
  const core::FileLock lock(c.out.string() + ".lock", "The output '" + c.out.string() + "'", true);
  const core::Dataset data = core::read_dataset(c.data);
  train::TrainOptions o = c.train;
  o.checkpoint = c.out.string() + ".ckpt";
  Progress progress("training batches");
  train::Progress p;
  long restart = 0;
  p.batch = [&](long epoch, long b, long batches) {
    progress.update((restart * o.epochs + epoch - 1) * batches + b,
                    c.restarts * o.epochs * batches);
  };
  p.restart = [&](long k, std::uint64_t seed) {
    restart = k;
    if (c.restarts > 1)
      progress.note("restart " + std::to_string(k + 1) + " of " + std::to_string(c.restarts) +
                    ": seed " + std::to_string(seed));
  };
  p.epoch = [&](const train::EpochRecord& r) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "epoch %ld: train loss %.4f acc %.1f %% | val loss %.4f acc %.1f %% | %.1f s",
                  r.epoch, r.train_loss, 100 * r.train_accuracy, r.val_loss, 100 * r.val_accuracy,
                  r.seconds);
    progress.note(line);
  };
  const train::Restarts all = train::train_restarts(data, o, c.restarts, p);
  const train::TrainResult& r = all.best();
  double wall_s = 0;
  for (const auto& a : all.runs) wall_s += a.wall_s;
  progress.clear();
  if (c.restarts > 1) {
    std::printf("restarts (kept: the lowest validation loss of its best epoch)\n");
    std::printf("  %6s %6s %6s %10s %8s %8s %9s\n", "seed", "epochs", "best", "val loss", "val %",
                "test %", "balanced");
    for (size_t k = 0; k < all.runs.size(); ++k) {
      const train::TrainResult& a = all.runs[k];
      std::printf("  %6llu %6zu %6ld %10.4f %8.1f %8.1f %9.1f%s\n",
                  static_cast<unsigned long long>(all.seeds[k]), a.history.size(), a.best_epoch,
                  train::best_val_loss(a), 100 * a.val.accuracy, 100 * a.test.accuracy,
                  100 * a.test.balanced_accuracy, k == all.kept ? "  kept" : "");
    }
  }
  core::write_model(r.network, c.out);
  const std::filesystem::path history =
      c.history.empty() ? std::filesystem::path(c.out).replace_extension(".history.csv")
                        : c.history;
  write_history(history, r.history);
  std::printf("trained %ld epochs (best %ld, seed %llu) on %s, split %s: d = %ld, %ld layers%s\n",
              long(r.history.size()), r.best_epoch,
              static_cast<unsigned long long>(all.seeds[all.kept]), c.data.string().c_str(),
              o.scheme.c_str(), o.d, o.layers, o.hardware_aware ? ", hardware-aware" : "");
  print_accuracy("val", r.val, data.classes);
  print_accuracy("test", r.test, data.classes);
  const core::PowerByBlock& w = r.test_ideal_power;
  std::printf("ideal power on the test clips at %.2f V: %.1f nW (cells %.1f, feed-forward %.1f)\n",
              o.vdd_v, 1e9 * w[core::PowerBlock::total], 1e9 * w[core::PowerBlock::cells],
              1e9 * w[core::PowerBlock::feedforward]);
  std::printf("wrote %s and %s\n", c.out.string().c_str(), history.string().c_str());
  std::printf(
      "test_accuracy=%.9g test_balanced_accuracy=%.9g val_accuracy=%.9g test_ideal_power_w=%.6g "
      "epochs=%ld best_epoch=%ld seed=%llu wall_s=%.6g\n",
      r.test.accuracy, r.test.balanced_accuracy, r.val.accuracy, w[core::PowerBlock::total],
      long(r.history.size()), r.best_epoch, static_cast<unsigned long long>(all.seeds[all.kept]),
      wall_s);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto c = std::make_shared<TrainCommand>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a BMRU network on a labelled dataset (libtorch), optionally hardware-aware");
  cmd->add_option("--data", c->data, "Labelled dataset (bmru dataset)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--scheme", c->train.scheme, "Split scheme: speaker, own or voice")
      ->capture_default_str();
  add_count(cmd, "--d", c->train.d, "State dimension (default 4)");
  add_count(cmd, "--layers", c->train.layers, "Recurrent layers (default 2)");
  add_count(cmd, "--epochs", c->train.epochs, "Most epochs (default 60; early stopping)");
  add_count(cmd, "--batch", c->train.batch, "Clips per batch (default 32)");
  add_quantity(cmd, "--lr", c->train.lr, "Adam's learning rate (default 3e-3)");
  add_quantity(cmd, "--dropout", c->train.dropout, "Dropout on the cell outputs (default 0.2)");
  add_count(cmd, "--seed", c->train.seed, "Seed of every random draw (default 1)", 0);
  add_count(cmd, "--restarts", c->restarts,
            "Train with seeds --seed, --seed + 1, ... this many times and keep the network whose "
            "best epoch has the lowest validation loss (default 1)");
  cmd->add_option("--lr-schedule", c->train.lr_schedule,
                  "constant (default) or cosine (the rate falls to 0 over --epochs; with --anneal)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, train::LrSchedule>{{"cosine", train::LrSchedule::cosine},
                                                   {"constant", train::LrSchedule::constant}},
          CLI::ignore_case))
      ->type_name("cosine|constant");
  add_quantity(cmd, "--sharpness", c->train.sharpness,
               "a of the surrogate derivative 1 / (1 + (pi a x)^2), x in model units (default 1)");
  add_count(cmd, "--anneal", c->train.anneal_epochs,
            "Epochs of annealed training: the cells' steps are sigmoids that steepen from "
            "--anneal-start to --anneal-end, then exact (default 0: exact from the start)",
            0);
  add_quantity(cmd, "--anneal-start", c->train.anneal_start,
               "First steepness of the annealed steps, per model unit (default 3)");
  add_quantity(cmd, "--anneal-end", c->train.anneal_end,
               "Last steepness of the annealed steps, per model unit (default 100)");
  add_count(cmd, "--patience", c->train.patience,
            "Epochs without a better validation result before stopping (default 15)");
  add_quantity(cmd, "--unit-current", c->train.unit_current_a,
               "Amperes per model unit, recorded in the model (default 1n)");
  cmd->add_flag("--hardware-aware", c->train.hardware_aware,
                "Project the parameters onto the circuit's realisable range after every step");
  add_quantity(cmd, "--input-noise", c->train.input_noise,
               "Gaussian noise of this sigma on every input feature while training (default 0)");
  add_quantity(cmd, "--mismatch-sigma", c->train.mismatch_sigma,
               "Multiplicative Gaussian noise on weights, biases and cell levels per batch");
  add_quantity(cmd, "--power-weight", c->train.power_weight,
               "Loss per model unit of the currents the network defines per frame (its ideal "
               "power over VDD and the unit current): trades accuracy for energy (default 0)");
  add_quantity(cmd, "--power-budget", c->train.power_budget_w,
               "With --power-weight: weigh only the ideal power above this (W, e.g. 60n; "
               "default 0: all of it)");
  add_decision_options(cmd, c->train.decision, c->train.tie);
  add_count(cmd, "--threads", c->train.threads, "libtorch threads (default 1; fixed per seed)");
  cmd->add_flag("--resume", c->train.resume,
                "Continue from <out>.ckpt (written after every epoch) when it exists");
  cmd->add_flag("!--no-class-weights", c->train.class_weights,
                "Do not weight the loss by inverse class frequency");
  cmd->add_option("--history", c->history,
                  "Per-epoch CSV (default: the model's name with .history.csv)");
  cmd->add_option("-o,--out", c->out, "Model file to write (.h5 or .json)")->required();
  cmd->callback([c] { run(*c); });
}

}  // namespace bmru::experiments
