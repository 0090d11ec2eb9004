#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <random>
#include <set>

#include "bmru_torch.hpp"
#include "checkpoint.hpp"
#include "core/errors.hpp"
#include "core/units.hpp"
#include "models/ideal_power.hpp"
#include "models/reference_engine.hpp"

namespace bmru::train {
namespace {

using core::Index;

// The initial network: weights ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), alpha 1, the cell
// thresholds placed on each cell's candidate distribution (place_thresholds), cells off. The
// candidate and post-projection biases start slightly positive: with zero biases and every cell
// off, the post-projection's ReLU would sit exactly at 0, where its derivative is 0, and no
// gradient would ever reach the cells.
core::Network initial_network(Index n_in, Index n_out, const TrainOptions& o) {
  std::mt19937_64 rng(o.seed);
  const auto uniform = [&](Index rows, Index cols) {
    std::uniform_real_distribution<double> u(-1 / std::sqrt(double(rows)),
                                             1 / std::sqrt(double(rows)));
    core::Matrix m(rows, cols);
    for (Index i = 0; i < rows; ++i)
      for (Index j = 0; j < cols; ++j) m(i, j) = u(rng);
    return m;
  };
  const Index d = o.d;
  core::Network net;
  net.unit_current_a = o.unit_current_a;
  net.pre_proj = {uniform(n_in, d), core::Vector::Constant(d, 0.5)};
  for (long l = 0; l < o.layers; ++l) {
    core::Layer layer;
    layer.alphas = core::Vector::Ones(d);
    layer.beta1 = core::Vector::Constant(d, 0.05);
    layer.delta = core::Vector::Constant(d, 0.35);
    layer.initial_state = core::Vector::Zero(d);
    layer.candidate = {uniform(d, d), core::Vector::Constant(d, 0.1)};
    layer.post = {uniform(d, d), core::Vector::Constant(d, 0.05)};
    net.layers.push_back(std::move(layer));
  }
  net.fc = {uniform(d, n_out), core::Vector::Zero(n_out)};
  return net;
}

// Layer by layer, each cell's beta_hi at the 90th percentile of its candidate over (up to 256 of)
// the training clips, and beta_lo at half its 5th percentile: at the start every cell switches on
// now and then and, once on, holds through the quiet frames. A cell that sets too high or too
// low gets no gradient worth having, whatever the data's scale.
void place_thresholds(core::Network& net, const core::Dataset& data,
                      const std::vector<Index>& train) {
  const Index B = std::min<Index>(256, Index(train.size())), N = data.frames, F = data.features;
  core::Matrix x(B, F);
  core::Frame frame;
  for (size_t l = 0; l < net.layers.size(); ++l) {
    models::ReferenceEngine engine(net);
    engine.reset(B);
    std::vector<std::vector<double>> c(size_t(net.d()));
    for (Index t = 0; t < N; ++t) {
      data.frame_of(train, t, x);
      engine.step(x, frame);
      for (Index j = 0; j < net.d(); ++j)
        for (Index b = 0; b < B; ++b) c[size_t(j)].push_back(frame.layers[l].candidate(b, j));
    }
    core::Layer& layer = net.layers[l];
    for (Index j = 0; j < net.d(); ++j) {
      std::vector<double>& v = c[size_t(j)];
      std::sort(v.begin(), v.end());
      const auto q = [&](double p) { return v[size_t(p * double(v.size() - 1))]; };
      const double hi = q(0.9) > 0 ? q(0.9) : 0.1;
      const double lo = std::min(0.5 * q(0.05), 0.5 * hi);
      layer.beta1(j) = lo;
      layer.delta(j) = hi - lo;
    }
  }
}

struct Split {
  std::vector<Index> train, val, test;
};

Split split_of(const core::Dataset& data, const std::string& scheme) {
  return {data.select(scheme, "train"), data.select(scheme, "val"), data.select(scheme, "test")};
}

// Clips `which` of the dataset as one tensor [B, N, n_in] and their labels [B].
torch::Tensor clips(const torch::Tensor& all, const std::vector<Index>& which) {
  return all.index_select(
      0, torch::tensor(std::vector<int64_t>(which.begin(), which.end()), torch::kLong));
}

core::Matrix eigen_of(const torch::Tensor& t2) {
  const torch::Tensor c = t2.detach().contiguous();
  core::Matrix m(c.size(0), c.size(1));
  auto a = c.accessor<double, 2>();
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j) m(i, j) = a[i][j];
  return m;
}

// Decisions of a batch's logits [B, N, n_out], counted right against the labels.
long correct(const torch::Tensor& logits, const std::vector<std::int64_t>& labels,
             const TrainOptions& o) {
  long right = 0;
  for (long b = 0; b < logits.size(0); ++b)
    right += core::decide(eigen_of(logits[b]), o.decision, o.tie).decision == labels[size_t(b)];
  return right;
}

// Cross-entropy of every frame's logits against the clip's label, plus power_weight times the
// mean per frame of the currents the network defines (ForwardOut::ideal_*).
struct Loss {
  torch::Tensor weight;  // per class, or undefined
  double power_weight = 0;
  double budget_units = 0;  // per frame
  torch::Tensor operator()(const ForwardOut& f, const torch::Tensor& labels) const {
    const long N = f.logits.size(1), C = f.logits.size(2);
    namespace F = torch::nn::functional;
    auto opts = F::CrossEntropyFuncOptions();
    if (weight.defined()) opts = opts.weight(weight);
    torch::Tensor l =
        F::cross_entropy(f.logits.reshape({-1, C}), labels.repeat_interleave(N), opts);
    if (power_weight > 0)
      l = l +
          power_weight * torch::relu((f.ideal_cells + f.ideal_feedforward).mean() - budget_units);
    return l;
  }
  ForwardOptions options(bool training, const TrainOptions& o) const {
    ForwardOptions f;
    f.training = training;
    f.dropout = training ? o.dropout : 0;
    f.sharpness = o.sharpness;
    f.ideal = power_weight > 0;
    return f;
  }
};

// One pass over `which` without dropout or mismatch: mean loss and accuracy.
std::pair<double, double> evaluate(const TorchNet& net, const torch::Tensor& x,
                                   const std::vector<Index>& which,
                                   const std::vector<std::int64_t>& labels, const Loss& loss,
                                   const TrainOptions& o) {
  torch::NoGradGuard no_grad;
  double total = 0;
  long right = 0;
  for (size_t at = 0; at < which.size(); at += static_cast<size_t>(o.batch)) {
    const size_t end = std::min(which.size(), at + static_cast<size_t>(o.batch));
    const std::vector<Index> part(which.begin() + long(at), which.begin() + long(end));
    std::vector<std::int64_t> y;
    for (Index i : part) y.push_back(labels[size_t(i)]);
    const ForwardOut f = forward(net, clips(x, part), loss.options(false, o));
    total += loss(f, torch::tensor(y, torch::kLong)).item<double>() * double(part.size());
    right += correct(f.logits, y, o);
  }
  const double n = double(std::max<size_t>(which.size(), 1));
  return {total / n, double(right) / n};
}

// The network the circuit realises: with --hardware-aware, every parameter at its nearest
// realisable value (project), else the network as it is.
core::Network realised(const TorchNet& net, const TrainOptions& o) {
  core::Network now = net.to_network();
  if (o.hardware_aware) project(now, o.range);
  return now;
}

// Hardware-aware training keeps the optimizer's own (latent) parameters and runs the forward pass
// on their projection, passing the gradient straight through it. Projecting the latent values
// themselves after each step would trap every weight that reaches the dropped zone (|w| < 0.01):
// Adam moves it by about the learning rate, less than the gap, and the next projection sends it
// back to 0. The result is the projected network, as the circuit realises it.
TorchNet straight_through(const TorchNet& net, const TrainOptions& o) {
  if (!o.hardware_aware) return net;
  const TorchNet p = TorchNet::from_network(realised(net, o));
  TorchNet eff = net;
  for (size_t i = 0; i < eff.params.size(); ++i)
    eff.params[i] = net.params[i] + (p.params[i] - net.params[i]).detach();
  return eff;
}

// Per-batch multiplicative mismatch N(1, sigma^2) on every weight, bias and cell level (the
// initial state is a switch, not a current).
std::vector<torch::Tensor> mismatch_gains(const TorchNet& net, double sigma) {
  std::vector<torch::Tensor> g;
  for (size_t i = 0; i < net.params.size(); ++i) {
    g.push_back(net.fields[i] == "initial_state"
                    ? torch::Tensor()
                    : 1 + sigma * torch::randn_like(net.params[i]).detach());
  }
  return g;
}

// The steepness of the cells' sigmoid steps in this epoch (from 1) of annealed training; 0 once
// the steps are exact.
double soft_steepness(long epoch, const TrainOptions& o) {
  if (epoch > o.anneal_epochs) return 0;
  const double f = o.anneal_epochs > 1 ? double(epoch - 1) / double(o.anneal_epochs - 1) : 1;
  return o.anneal_start * std::pow(o.anneal_end / o.anneal_start, f);
}

}  // namespace

double learning_rate(long epoch, const TrainOptions& o) {
  if (o.lr_schedule == LrSchedule::constant) return o.lr;
  return o.lr * 0.5 * (1 + std::cos(std::numbers::pi * double(epoch - 1) / double(o.epochs)));
}

std::vector<double> class_weights(const core::Dataset& data, const std::vector<Index>& train) {
  std::vector<double> count(data.classes.size(), 0);
  for (Index i : train) ++count[size_t(data.labels[size_t(i)])];
  std::vector<double> w(count.size());
  for (size_t c = 0; c < w.size(); ++c)
    w[c] = count[c] > 0 ? double(train.size()) / (double(w.size()) * count[c]) : 0;
  return w;
}

void check_training_input(const core::Dataset& data, const TrainOptions& o) {
  std::vector<std::string> bad = data.problems();
  if (data.labels.empty())
    bad.push_back("the dataset has no /labels: training needs labelled clips");
  if (data.classes.size() < 2)
    bad.push_back("the dataset has " + std::to_string(data.classes.size()) +
                  " class(es) in /classes; training needs at least 2");
  for (size_t i = 0; i < data.labels.size(); ++i)
    if (data.labels[i] < 0 || data.labels[i] >= std::int64_t(data.classes.size())) {
      bad.push_back("/labels[" + std::to_string(i) + "] = " + std::to_string(data.labels[i]) +
                    " lies outside the " + std::to_string(data.classes.size()) + " classes");
      break;
    }
  const bool has_scheme = std::any_of(data.splits.begin(), data.splits.end(),
                                      [&](const core::Split& s) { return s.scheme == o.scheme; });
  if (!has_scheme)
    bad.push_back("the dataset has no /split_" + o.scheme + " (--scheme " + o.scheme + ")");
  else
    for (const char* part : {"train", "val", "test"}) try {
        data.select(o.scheme, part);
      } catch (const InputError& e) {
        bad.push_back(e.what());
      }
  if (o.d < 1) bad.push_back("--d " + std::to_string(o.d) + ": a network needs d >= 1");
  if (o.hardware_aware && o.d > o.range.d_max)
    bad.push_back("--d " + std::to_string(o.d) + ": the technology's circuits go up to d = " +
                  std::to_string(o.range.d_max) + " (--hardware-aware)");
  if (o.layers < 1) bad.push_back("--layers " + std::to_string(o.layers) + ": at least 1");
  if (o.epochs < 1) bad.push_back("--epochs " + std::to_string(o.epochs) + ": at least 1");
  if (o.anneal_epochs < 0) bad.push_back("--anneal must be zero or positive");
  if (!(o.anneal_start > 0)) bad.push_back("--anneal-start must be positive");
  if (o.anneal_start > o.anneal_end)
    bad.push_back("--anneal-start " + core::format_number(o.anneal_start) + " above --anneal-end " +
                  core::format_number(o.anneal_end));
  if (!(o.sharpness > 0)) bad.push_back("--sharpness must be positive");
  if (o.batch < 1) bad.push_back("--batch " + std::to_string(o.batch) + ": at least 1");
  if (!(o.lr > 0)) bad.push_back("--lr must be positive");
  if (!(o.dropout >= 0 && o.dropout < 1)) bad.push_back("--dropout must lie in [0, 1)");
  if (!(o.input_noise >= 0)) bad.push_back("--input-noise must be zero or positive");
  if (!(o.mismatch_sigma >= 0 && o.mismatch_sigma < 1))
    bad.push_back("--mismatch-sigma must lie in [0, 1)");
  if (!(o.power_weight >= 0)) bad.push_back("--power-weight must be zero or positive");
  if (!(o.power_budget_w >= 0)) bad.push_back("--power-budget must be zero or positive");
  if (o.power_budget_w > 0 && !(o.power_weight > 0))
    bad.push_back("--power-budget weighs nothing without --power-weight");
  if (o.hardware_aware) {
    const double u = o.unit_current_a;
    if (!(u > 0) || o.range.level_min_a / u > 1 || o.range.level_max_a / u < 1)
      bad.push_back("--unit-current " + std::to_string(u) +
                    " A: a cell level of one model unit must lie within the technology's "
                    "realisable levels (" +
                    std::to_string(o.range.level_min_a) + " - " +
                    std::to_string(o.range.level_max_a) + " A) under --hardware-aware");
  }
  if (!bad.empty())
    throw InputError("Cannot train on this dataset with these options:" + problem_list(bad));
}

Accuracy score(const core::Network& net, const core::Dataset& data, const std::vector<Index>& which,
               core::DecisionRule rule, core::TiePolicy tie) {
  const std::vector<core::Matrix> logits = models::dataset_logits(net, data, which);
  std::vector<int> decided;
  std::vector<std::int64_t> labels;
  for (size_t k = 0; k < which.size(); ++k) {
    decided.push_back(core::decide(logits[k], rule, tie).decision);
    labels.push_back(data.labels[size_t(which[k])]);
  }
  return core::task_score(decided, labels, data.classes.size());
}

TrainResult train(const core::Dataset& data, const TrainOptions& o, const Progress& progress) {
  check_training_input(data, o);
  const auto start = std::chrono::steady_clock::now();
  torch::set_num_threads(o.threads);
  const Split split = split_of(data, o.scheme);
  const torch::Tensor x =
      torch::from_blob(const_cast<double*>(data.inputs.data()),
                       {data.sequences, data.frames, data.features}, torch::kDouble);
  const Index C = static_cast<Index>(data.classes.size());

  Loss loss;
  loss.power_weight = o.power_weight;
  loss.budget_units = o.power_budget_w / (o.vdd_v * o.unit_current_a);
  if (o.class_weights)
    loss.weight = torch::tensor(class_weights(data, split.train), torch::kDouble);

  core::Network init = initial_network(data.features, C, o);
  place_thresholds(init, data, split.train);
  init.features = core::feature_settings(data.input_attrs);
  if (o.hardware_aware) project(init, o.range);
  TorchNet net = TorchNet::from_network(init);
  torch::optim::Adam adam(net.params, torch::optim::AdamOptions(o.lr));

  TrainResult result;
  TrainState state;
  state.best = init;
  if (o.checkpoint && o.resume && std::filesystem::exists(*o.checkpoint)) {
    state = load_checkpoint(*o.checkpoint, fingerprint(data, o), net, adam);
    result.history = state.history;
  }
  const long batches = long((split.train.size() + size_t(o.batch) - 1) / size_t(o.batch));
  long run_here = 0;
  for (long epoch = state.epochs_done + 1; epoch <= o.epochs; ++epoch) {
    // Early stopping (also after a resume), never while annealing: the network the steps train
    // changes in kind from epoch to epoch, and the exact network's validation loss with it.
    if (state.stale >= o.patience && epoch > o.anneal_epochs) break;
    const auto epoch_start = std::chrono::steady_clock::now();
    for (auto& group : adam.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(learning_rate(epoch, o));
    const double soft = soft_steepness(epoch, o);
    std::vector<Index> order = split.train;
    std::mt19937_64 shuffle(o.seed * 1000003u + std::uint64_t(epoch));
    std::shuffle(order.begin(), order.end(), shuffle);
    double total = 0;
    long right = 0;
    for (long b = 0; b < batches; ++b) {
      // Dropout masks and mismatch draws from a generator seeded by (seed, epoch, batch), so a
      // resumed run draws what the uninterrupted one would.
      torch::manual_seed(o.seed * 7919u + std::uint64_t(epoch) * 104729u + std::uint64_t(b));
      const size_t at = size_t(b * o.batch), end = std::min(order.size(), at + size_t(o.batch));
      const std::vector<Index> part(order.begin() + long(at), order.begin() + long(end));
      std::vector<std::int64_t> y;
      for (Index i : part) y.push_back(data.labels[size_t(i)]);
      ForwardOptions fo = loss.options(true, o);
      fo.soft = soft;
      if (o.mismatch_sigma > 0) fo.gains = mismatch_gains(net, o.mismatch_sigma);
      torch::Tensor xb = clips(x, part);
      if (o.input_noise > 0) xb = xb + o.input_noise * torch::randn_like(xb);
      const ForwardOut f = forward(straight_through(net, o), xb, fo);
      const torch::Tensor l = loss(f, torch::tensor(y, torch::kLong));
      adam.zero_grad();
      l.backward();
      adam.step();
      total += l.item<double>() * double(part.size());
      right += correct(f.logits, y, o);
      if (progress.batch) progress.batch(epoch, b + 1, batches);
    }
    EpochRecord rec;
    rec.epoch = epoch;
    rec.train_loss = total / double(split.train.size());
    rec.train_accuracy = double(right) / double(split.train.size());
    const core::Network now = realised(net, o);
    std::tie(rec.val_loss, rec.val_accuracy) =
        evaluate(TorchNet::from_network(now), x, split.val, data.labels, loss, o);
    rec.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    result.history.push_back(rec);
    state.history = result.history;
    state.epochs_done = epoch;
    if (rec.val_loss < state.best_val_loss) {
      state.best_val_accuracy = rec.val_accuracy;
      state.best_val_loss = rec.val_loss;
      state.best_epoch = epoch;
      state.best = now;
      state.stale = 0;
    } else {
      ++state.stale;
    }
    if (o.checkpoint) save_checkpoint(*o.checkpoint, fingerprint(data, o), state, net, adam);
    if (progress.epoch) progress.epoch(rec);
    if (o.stop_after > 0 && ++run_here >= o.stop_after) break;
  }
  result.network = state.best;
  result.best_epoch = state.best_epoch;
  result.val = score(result.network, data, split.val, o.decision, o.tie);
  result.test = score(result.network, data, split.test, o.decision, o.tie);
  std::vector<core::Matrix> test_clips;
  for (Index i : split.test) test_clips.push_back(data.clip(i));
  result.test_ideal_power = models::ideal_power(result.network, test_clips, o.vdd_v);
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

double best_val_loss(const TrainResult& r) {
  if (r.best_epoch < 1 || size_t(r.best_epoch) > r.history.size())
    return std::numeric_limits<double>::infinity();
  return r.history[size_t(r.best_epoch - 1)].val_loss;
}

Restarts train_restarts(const core::Dataset& data, const TrainOptions& o, long restarts,
                        const Progress& progress) {
  if (restarts < 1) throw InputError("--restarts must be at least 1");
  Restarts out;
  for (long k = 0; k < restarts; ++k) {
    TrainOptions ok = o;
    ok.seed = o.seed + std::uint64_t(k);
    // The first restart's checkpoint is o.checkpoint itself, so one training is unchanged.
    if (o.checkpoint && k > 0)
      ok.checkpoint = o.checkpoint->string() + ".seed" + std::to_string(ok.seed);
    out.seeds.push_back(ok.seed);
    if (progress.restart) progress.restart(k, ok.seed);
    out.runs.push_back(train(data, ok, progress));
    // Strictly lower: on a tie the earlier seed stays.
    if (best_val_loss(out.runs.back()) < best_val_loss(out.runs[out.kept]))
      out.kept = out.runs.size() - 1;
  }
  return out;
}

TorchForward torch_forward(const core::Network& net, const std::vector<core::Matrix>& clips) {
  const TorchNet t = TorchNet::from_network(net);
  TorchForward out;
  out.states.resize(net.layers.size());
  torch::NoGradGuard no_grad;
  for (const core::Matrix& clip : clips) {
    const torch::Tensor x = to_tensor(clip).unsqueeze(0);
    const ForwardOut f = forward(t, x, {});
    out.logits.push_back(eigen_of(f.logits[0]));
    for (size_t l = 0; l < net.layers.size(); ++l)
      out.states[l].push_back(eigen_of(f.states[l][0]));
  }
  return out;
}

}  // namespace bmru::train
