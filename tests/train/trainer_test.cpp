// Issue 18: training on libtorch. libtorch's forward pass against the reference engine, the
// surrogate derivative, the projection, and short training runs (never the full targets).
#include "train/trainer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "bmru_torch.hpp"
#include "core/errors.hpp"
#include "models/ideal_power.hpp"
#include "models/reference_engine.hpp"
#include "test_support.hpp"

namespace bmru::train {
namespace {

using core::Index;
using core::Matrix;

std::vector<Matrix> random_clips(Index n, Index frames, Index features, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 1);
  std::vector<Matrix> out;
  for (Index s = 0; s < n; ++s)
    out.push_back(Matrix::NullaryExpr(frames, features, [&] { return g(rng); }));
  return out;
}

TEST(TorchForward, StatesAreIdenticalAndLogitsWithin1e6OfTheReferenceEngine) {
  const core::Network net = test::random_network(5, 4, 2, 3, 31);
  const auto clips = random_clips(6, 40, 5, 32);
  const TorchForward t = torch_forward(net, clips);
  long switched = 0;
  for (size_t s = 0; s < clips.size(); ++s) {
    const auto frames = models::run_sequence(net, clips[s]);
    for (Index k = 0; k < 40; ++k) {
      for (size_t l = 0; l < net.layers.size(); ++l) {
        const Eigen::RowVectorXd ref = frames[size_t(k)].layers[l].state.row(0);
        ASSERT_EQ(ref, Eigen::RowVectorXd(t.states[l][s].row(k))) << "clip " << s << " frame " << k;
        if (k > 0) switched += (t.states[l][s].row(k) != t.states[l][s].row(k - 1));
      }
      EXPECT_LT((frames[size_t(k)].logits.row(0) - t.logits[s].row(k)).cwiseAbs().maxCoeff(), 1e-6);
    }
  }
  EXPECT_GT(switched, 10);  // the comparison covers cells that switch, not only idle ones
}

TEST(TorchForward, ItsIdealCurrentsAreTheIdealPowerAndReachEveryParameterKind) {
  core::Network net = test::random_network(5, 4, 2, 3, 33);
  net.unit_current_a = 2e-9;
  const auto clips = random_clips(3, 30, 5, 34);
  const double vdd = 1.7;
  const core::PowerByBlock want = models::ideal_power(net, clips, vdd);
  const TorchNet t = TorchNet::from_network(net);
  torch::Tensor x = torch::stack({to_tensor(clips[0]), to_tensor(clips[1]), to_tensor(clips[2])});
  ForwardOptions o;
  o.ideal = true;
  const ForwardOut f = forward(t, x, o);
  const double scale = vdd * net.unit_current_a;
  EXPECT_NEAR(f.ideal_cells.mean().item<double>() * scale, want[core::PowerBlock::cells],
              1e-12 * want[core::PowerBlock::cells]);
  EXPECT_NEAR(f.ideal_feedforward.mean().item<double>() * scale,
              want[core::PowerBlock::feedforward], 1e-12 * want[core::PowerBlock::feedforward]);
  // The forward pass itself is unchanged by also giving the currents.
  const ForwardOut plain = forward(t, x, {});
  EXPECT_LT((f.logits - plain.logits).abs().max().item<double>(), 1e-12);
  // Every kind of parameter moves the currents: kernels and biases, and the cells' levels.
  const std::vector<torch::Tensor> g =
      torch::autograd::grad({(f.ideal_cells + f.ideal_feedforward).mean()}, t.params, {}, {}, true);
  for (size_t i = 0; i < g.size(); ++i) {
    if (t.fields[i] == "initial_state") continue;  // a switch, not a current
    EXPECT_GT(g[i].abs().sum().item<double>(), 0) << "parameter " << i << " " << t.fields[i];
  }
}

TEST(Surrogate, ForwardIsTheExactStepAndBackwardTheArctanDerivative) {
  const torch::Tensor x =
      torch::tensor({-2.0, -0.1, 0.0, 1e-12, 0.3}, torch::kDouble).set_requires_grad(true);
  for (double a : {1.0, 2.5}) {
    const torch::Tensor y = heaviside(x, a);
    EXPECT_TRUE(torch::equal(y, torch::tensor({0.0, 0.0, 0.0, 1.0, 1.0}, torch::kDouble)));
    const torch::Tensor g = torch::autograd::grad({y.sum()}, {x})[0];
    for (long i = 0; i < 5; ++i) {
      const double v = x[i].item<double>(), pax = std::numbers::pi * a * v;
      EXPECT_NEAR(g[i].item<double>(), a / (1 + pax * pax), 1e-15);
    }
  }
}

TEST(Surrogate, AnnealedStepsAreTheLogisticSigmoidBothWays) {
  const torch::Tensor x =
      torch::tensor({-2.0, -0.1, 0.0, 0.3}, torch::kDouble).set_requires_grad(true);
  for (double k : {3.0, 40.0}) {
    const torch::Tensor y = heaviside(x, 1.0, k);
    const torch::Tensor g = torch::autograd::grad({y.sum()}, {x})[0];
    for (long i = 0; i < 4; ++i) {
      const double v = x[i].item<double>(), sig = 1 / (1 + std::exp(-k * v));
      EXPECT_NEAR(y[i].item<double>(), sig, 1e-15);
      EXPECT_NEAR(g[i].item<double>(), k * sig * (1 - sig), 1e-12);
    }
  }
}

TEST(Projection, EachParameterMovesToItsNearestRealisableValue) {
  core::Network net = test::single_cell(0.5, 0.6);
  net.unit_current_a = 1e-9;
  net.pre_proj.kernel(0, 0) = 0.004;              // below half the smallest weight: dropped
  net.layers[0].candidate.kernel(0, 0) = -0.006;  // nearer 0.01 than 0: -0.01
  net.layers[0].post.kernel(0, 0) = 7;            // 4
  net.fc.bias(0) = 1e-3;                          // 1 pA: dropped (5 pA the smallest bias)
  net.layers[0].post.bias(0) = -0.004;            // 4 pA: -5 pA
  net.layers[0].beta1(0) = 0.59;                  // band 10 pA < 3 % of 600 pA + 5 pA
  net.layers[0].delta(0) = 0.01;
  net.layers[0].alphas(0) = -0.01;  // 10 pA below the cell's 70 pA; the sign is kept
  const models::RealisableRange r;
  EXPECT_GT(project(net, r), 0);
  EXPECT_EQ(net.pre_proj.kernel(0, 0), 0);
  EXPECT_EQ(net.layers[0].candidate.kernel(0, 0), -0.01);
  EXPECT_EQ(net.layers[0].post.kernel(0, 0), 4);
  EXPECT_EQ(net.fc.bias(0), 0);
  EXPECT_DOUBLE_EQ(net.layers[0].post.bias(0), -0.005);
  EXPECT_DOUBLE_EQ(net.layers[0].alphas(0), -0.07);
  const auto k = core::cell_constants(net.layers[0]);
  EXPECT_DOUBLE_EQ(k.beta_hi(0), 0.6);  // beta_hi kept
  EXPECT_NEAR(k.beta_hi(0) - k.beta_lo(0), 0.03 * 0.6 + 0.005, 1e-12);
  EXPECT_TRUE(models::range_problems(net, r).empty());
  EXPECT_EQ(project(net, r), 0);  // a realisable network stays as it is
}

// A task that needs memory: class 1 clips carry a pulse (up on feature 0, down on feature 1) in
// their first frames and nothing after it; class 0 clips carry none. Most frames of a class 1
// clip look like class 0, so only a cell that latches at the pulse can win the vote.
core::Dataset memory_task(Index clips, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.1);
  std::uniform_int_distribution<int> onset(0, 4);
  core::Dataset ds;
  ds.classes = {"quiet", "pulse"};
  core::Split split{"own", {}};
  for (Index s = 0; s < clips; ++s) {
    const int label = int(s % 2);
    Matrix x = Matrix::NullaryExpr(24, 3, [&] { return noise(rng); });
    if (label) {
      const int at = onset(rng);
      x.block(at, 0, 2, 1).array() += 2.0;
      x.block(at, 1, 2, 1).array() -= 2.0;
    }
    ds.append_clip(x);
    ds.labels.push_back(label);
    ds.name.push_back("clip" + std::to_string(s));
    split.part.push_back(s % 10 < 6 ? "train" : s % 10 < 8 ? "val" : "test");
  }
  ds.splits.push_back(split);
  ds.input_attrs = {{"feature_kind", std::string("synthetic")}};
  return ds;
}

TrainOptions tiny_options() {
  TrainOptions o;
  o.scheme = "own";
  o.d = 8;
  o.layers = 1;
  o.epochs = 30;
  o.batch = 32;
  o.lr = 1e-2;
  o.dropout = 0;
  o.patience = 1000;
  return o;
}

TEST(Train, TheLossFallsAndTheTestAccuracyRisesAboveChance) {
  const core::Dataset ds = memory_task(400, 41);
  const TrainResult r = train(ds, tiny_options());
  ASSERT_EQ(r.history.size(), 30u);
  EXPECT_LT(r.history.back().train_loss, 0.8 * r.history.front().train_loss);
  EXPECT_GT(r.test.accuracy, 0.75) << "chance is 0.5";
  EXPECT_GT(r.test.balanced_accuracy, 0.75);
  EXPECT_EQ(r.network.features, ds.input_attrs);  // the dataset's settings are recorded
  // The reported test accuracy is the reference engine's on the written network.
  EXPECT_EQ(score(r.network, ds, ds.select("own", "test"), core::DecisionRule::vote,
                  core::TiePolicy::none)
                .accuracy,
            r.test.accuracy);
}

TEST(Train, ASeedGivesTheSameNetworkAndAResumedRunEndsAsTheUninterruptedOne) {
  const core::Dataset ds = memory_task(80, 42);
  TrainOptions o = tiny_options();
  o.epochs = 4;
  o.dropout = 0.2;
  o.mismatch_sigma = 0.1;  // the random draws of both kinds must be reproduced too
  o.anneal_epochs = 3;     // and the epoch's steepness and learning rate
  o.lr_schedule = LrSchedule::cosine;
  const TrainResult a = train(ds, o), b = train(ds, o);
  EXPECT_EQ(a.network, b.network);

  test::TempDir dir;
  o.checkpoint = dir / "ckpt";
  o.stop_after = 2;  // interrupted after two epochs
  const TrainResult first = train(ds, o);
  EXPECT_EQ(first.history.size(), 2u);
  o.stop_after = 0;
  o.resume = true;
  const TrainResult resumed = train(ds, o);
  ASSERT_EQ(resumed.history.size(), 4u);
  EXPECT_EQ(resumed.network, a.network);
  EXPECT_EQ(resumed.history.back().train_loss, a.history.back().train_loss);
  o.lr = 1e-3;  // another run's checkpoint is refused, naming the file
  EXPECT_THROW(train(ds, o), FileError);
}

TEST(Train, RestartsKeepTheSeedWhoseBestEpochHasTheLowestValidationLoss) {
  const core::Dataset ds = memory_task(80, 47);
  TrainOptions o = tiny_options();
  o.epochs = 3;
  o.seed = 5;
  test::TempDir dir;
  o.checkpoint = dir / "ckpt";
  const Restarts r = train_restarts(ds, o, 3);
  ASSERT_EQ(r.seeds, (std::vector<std::uint64_t>{5, 6, 7}));
  ASSERT_EQ(r.runs.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_GE(best_val_loss(r.runs[k]), best_val_loss(r.best()));
  // The seeds led to different networks (else the choice would be vacuous), and each restart is
  // the single training of its seed.
  EXPECT_NE(r.runs[0].network, r.runs[1].network);
  TrainOptions single = o;
  single.checkpoint.reset();
  single.seed = r.seeds[r.kept];
  EXPECT_EQ(r.best().network, train(ds, single).network);
  // Each restart has its own checkpoint, and resuming the series gives the same choice at once.
  EXPECT_TRUE(std::filesystem::exists(dir / "ckpt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "ckpt.seed6"));
  EXPECT_TRUE(std::filesystem::exists(dir / "ckpt.seed7"));
  o.resume = true;
  const Restarts again = train_restarts(ds, o, 3);
  EXPECT_EQ(again.kept, r.kept);
  EXPECT_EQ(again.best().network, r.best().network);
  EXPECT_THROW(train_restarts(ds, o, 0), InputError);
}

TEST(Train, AnnealedTrainingLearnsTheTaskAndWritesTheExactNetwork) {
  const core::Dataset ds = memory_task(400, 46);
  TrainOptions o = tiny_options();
  o.anneal_epochs = o.epochs;  // sigmoid steps in every epoch
  const TrainResult r = train(ds, o);
  EXPECT_LT(r.history.back().train_loss, 0.8 * r.history.front().train_loss);
  EXPECT_GT(r.test.accuracy, 0.75) << "chance is 0.5";
  // Validation scores the exact network, whatever the training steps: the best epoch's
  // validation accuracy is the reference engine's on the written network.
  EXPECT_EQ(
      score(r.network, ds, ds.select("own", "val"), core::DecisionRule::vote, core::TiePolicy::none)
          .accuracy,
      r.history[size_t(r.best_epoch - 1)].val_accuracy);
  o.anneal_epochs = 0;
  o.epochs = 1;
  // The first epoch's training loss is the sigmoid network's, not the exact one's.
  EXPECT_NE(r.history.front().train_loss, train(ds, o).history.front().train_loss);
  // Early stopping waits for the anneal to end: with no patience at all, the anneal's epochs run.
  o.epochs = 10;
  o.patience = 0;
  o.anneal_epochs = 3;
  EXPECT_EQ(train(ds, o).history.size(), 3u);
}

TEST(Train, HardwareAwareTrainingEndsInsideTheRealisableRange) {
  const core::Dataset ds = memory_task(80, 43);
  TrainOptions o = tiny_options();
  o.epochs = 5;
  o.hardware_aware = true;
  o.mismatch_sigma = 0.1;
  const TrainResult r = train(ds, o);
  EXPECT_TRUE(models::range_problems(r.network, o.range).empty());
  core::Network again = r.network;
  EXPECT_EQ(project(again, o.range), 0);
}

TEST(Train, APowerBudgetHoldsTheNetworksIdealPowerNearItAtATaskItCanStillLearn) {
  const core::Dataset ds = memory_task(400, 45);
  const TrainResult free = train(ds, tiny_options());
  const double p0 = free.test_ideal_power[core::PowerBlock::total];
  ASSERT_GT(p0, 0);
  TrainOptions o = tiny_options();
  o.power_weight = 0.1;
  o.power_budget_w = 0.5 * p0;
  const TrainResult held = train(ds, o);
  const double p = held.test_ideal_power[core::PowerBlock::total];
  EXPECT_LT(p, 0.6 * p0) << "free " << p0 << " W, budget " << o.power_budget_w << " W";
  EXPECT_GT(held.test.accuracy, 0.75) << "chance is 0.5";
}

TEST(Train, BadDatasetsAndOptionsAreNamedBeforeTraining) {
  core::Dataset ds = memory_task(40, 44);
  TrainOptions o = tiny_options();
  const auto expect = [&](const core::Dataset& d, const TrainOptions& opt, const char* text) {
    try {
      check_training_input(d, opt);
      ADD_FAILURE() << "no error for " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  core::Dataset unlabelled = ds;
  unlabelled.labels.clear();
  unlabelled.classes.clear();
  expect(unlabelled, o, "no /labels");
  core::Dataset beyond = ds;
  beyond.labels[3] = 2;
  expect(beyond, o, "/labels[3] = 2 lies outside the 2 classes");
  TrainOptions wide = o;
  wide.hardware_aware = true;
  wide.d = 1000;
  expect(ds, wide, "--d 1000");
  TrainOptions scheme = o;
  scheme.scheme = "voice";
  expect(ds, scheme, "/split_voice");
  TrainOptions power = o;
  power.power_weight = -1;
  expect(ds, power, "--power-weight");
  power.power_weight = 0;
  power.power_budget_w = 1e-9;
  expect(ds, power, "--power-budget weighs nothing without --power-weight");
  TrainOptions anneal = o;
  anneal.anneal_start = 10;
  anneal.anneal_end = 5;
  expect(ds, anneal, "--anneal-start 10 above --anneal-end 5");
}

}  // namespace
}  // namespace bmru::train
