// A reference for `bmru train`'s accuracy targets (issue 18): a conventional recurrent network of
// the same size (a GRU of d units per layer, `layers` layers, and a linear readout per frame)
// trained on the same dataset, split, loss and decision as `bmru train` uses: Adam, batch 32,
// learning rate 3e-3 falling on a cosine over the epochs, the per-frame cross-entropy weighted by
// inverse class frequency, the majority vote over frames (a tie counts wrong), and the epoch with
// the lowest validation loss (patience 15). What it reaches is what the features and the split
// allow a small recurrent network; what `bmru train` reaches beside it is the BMRU cell's share.
//
// usage: bmru_bench_train_reference DATASET.h5 SCHEME D [LAYERS=2] [EPOCHS=60] [SEED=1]
// Ends with a key=value line: test_accuracy test_balanced_accuracy val_accuracy best_epoch
// train_accuracy (all at the best epoch) and wall_s.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/dataset_file.hpp"
#include "core/errors.hpp"
#include "core/vote.hpp"
#include "train/trainer.hpp"

namespace {

using bmru::core::Index;

struct Net : torch::nn::Module {
  torch::nn::GRU gru{nullptr};
  torch::nn::Linear out{nullptr};
  Net(long in, long d, long layers, long classes) {
    gru = register_module(
        "gru", torch::nn::GRU(torch::nn::GRUOptions(in, d).num_layers(layers).batch_first(true)));
    out = register_module("out", torch::nn::Linear(d, classes));
  }
  torch::Tensor forward(const torch::Tensor& x) { return out(std::get<0>(gru(x))); }
};

torch::Tensor rows(const torch::Tensor& all, const std::vector<Index>& which) {
  return all.index_select(
      0, torch::tensor(std::vector<int64_t>(which.begin(), which.end()), torch::kLong));
}

struct Score {
  double loss = 0;
  bmru::core::TaskScore task;
};

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s DATASET.h5 SCHEME D [LAYERS=2] [EPOCHS=60] [SEED=1]\n",
                 argv[0]);
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const bmru::core::Dataset data = bmru::core::read_dataset(argv[1]);
  const std::string scheme = argv[2];
  const long d = std::stol(argv[3]), layers = argc > 4 ? std::stol(argv[4]) : 2;
  const long epochs = argc > 5 ? std::stol(argv[5]) : 60, seed = argc > 6 ? std::stol(argv[6]) : 1;
  // bmru train's defaults, with the cosine rate.
  bmru::train::TrainOptions o;
  o.epochs = epochs;
  o.lr_schedule = bmru::train::LrSchedule::cosine;
  torch::manual_seed(static_cast<uint64_t>(seed));
  torch::set_num_threads(1);

  const long S = data.sequences, N = data.frames, F = data.features;
  const long C = static_cast<long>(data.classes.size());
  const torch::Tensor x =
      torch::from_blob(const_cast<double*>(data.inputs.data()), {S, N, F}, torch::kDouble)
          .to(torch::kFloat);
  const torch::Tensor y = torch::tensor(data.labels, torch::kLong);
  const std::vector<Index> train = data.select(scheme, "train"), val = data.select(scheme, "val"),
                           test = data.select(scheme, "test");
  const torch::Tensor weight =
      torch::tensor(bmru::train::class_weights(data, train), torch::kDouble).to(torch::kFloat);
  namespace Fn = torch::nn::functional;
  const auto loss_of = [&](const torch::Tensor& logits, const torch::Tensor& labels) {
    return Fn::cross_entropy(logits.reshape({-1, C}), labels.repeat_interleave(N),
                             Fn::CrossEntropyFuncOptions().weight(weight));
  };

  Net net(F, d, layers, C);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(o.lr));
  const auto score = [&](const std::vector<Index>& which) {
    torch::NoGradGuard no_grad;
    net.eval();
    Score s;
    std::vector<int> decided;
    std::vector<std::int64_t> labels;
    for (size_t at = 0; at < which.size(); at += 256) {
      const std::vector<Index> part(which.begin() + long(at),
                                    which.begin() + long(std::min(which.size(), at + 256)));
      const torch::Tensor logits = net.forward(rows(x, part));
      s.loss += loss_of(logits, rows(y, part)).item<double>() * double(part.size());
      const torch::Tensor all = logits.to(torch::kDouble).contiguous();
      const auto a = all.accessor<double, 3>();
      for (size_t k = 0; k < part.size(); ++k) {
        bmru::core::Matrix m(N, C);
        for (long t = 0; t < N; ++t)
          for (long c = 0; c < C; ++c) m(t, c) = a[long(k)][t][c];
        decided.push_back(
            bmru::core::decide(m, bmru::core::DecisionRule::vote, bmru::core::TiePolicy::none)
                .decision);
        labels.push_back(data.labels[static_cast<size_t>(part[k])]);
      }
    }
    s.loss /= double(std::max<size_t>(which.size(), 1));
    s.task = bmru::core::task_score(decided, labels, data.classes.size());
    net.train();
    return s;
  };

  double best_loss = INFINITY;
  long best_epoch = 0, stale = 0;
  Score best_val, best_test, best_train;
  for (long epoch = 1; epoch <= epochs && stale < o.patience; ++epoch) {
    for (auto& g : adam.param_groups())
      static_cast<torch::optim::AdamOptions&>(g.options()).lr(bmru::train::learning_rate(epoch, o));
    const torch::Tensor order =
        torch::tensor(std::vector<int64_t>(train.begin(), train.end()), torch::kLong)
            .index_select(0, torch::randperm(long(train.size())));
    for (long at = 0; at < order.size(0); at += o.batch) {
      const torch::Tensor ids = order.slice(0, at, std::min(order.size(0), at + o.batch));
      const torch::Tensor l = loss_of(net.forward(x.index_select(0, ids)), y.index_select(0, ids));
      adam.zero_grad();
      l.backward();
      adam.step();
    }
    const Score v = score(val);
    std::fprintf(stderr, "epoch %ld: val loss %.4f acc %.1f %%\n", epoch, v.loss,
                 100 * v.task.accuracy);
    if (v.loss < best_loss) {
      best_loss = v.loss;
      best_epoch = epoch;
      best_val = v;
      best_test = score(test);
      best_train = score(train);
      stale = 0;
    } else {
      ++stale;
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "GRU d = %ld, %ld layers, %s split %s: best epoch %ld\n"
      "test_accuracy=%.6g test_balanced_accuracy=%.6g val_accuracy=%.6g best_epoch=%ld "
      "train_accuracy=%.6g wall_s=%.4g\n",
      d, layers, argv[1], scheme.c_str(), best_epoch, best_test.task.accuracy,
      best_test.task.balanced_accuracy, best_val.task.accuracy, best_epoch,
      best_train.task.accuracy, wall);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bmru_bench_train_reference: %s\n", e.what());
  return 1;
}
