// Throughput of the discrete reference engine: cell-frames per second (cells x frames x sequences
// advanced per second of wall time) for d = 4, 64, 512 at batch 1 and 256.
// Run: cmake --build build --target bench
#include <benchmark/benchmark.h>

#include <random>

#include "core/network.hpp"
#include "core/stimuli.hpp"
#include "models/reference_engine.hpp"

namespace {

using namespace bmru;

// A random 13-input, 2-layer network of width d whose cells switch (thresholds near the median).
core::Network network(core::Index d) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> w(-1.0, 1.0);
  auto m = [&](core::Index r, core::Index c, double scale) {
    return core::Matrix(core::Matrix::NullaryExpr(r, c, [&] { return w(rng) * scale; }));
  };
  core::Network net;
  const double fan = 1.0 / std::sqrt(static_cast<double>(d));
  net.pre_proj = {m(13, d, 0.5), core::Vector::Zero(d)};
  for (int l = 0; l < 2; ++l) {
    core::Layer layer;
    layer.alphas = core::Vector::Ones(d);
    layer.beta1 = core::Vector::Constant(d, 0.2);
    layer.delta = core::Vector::Constant(d, 0.2);
    layer.initial_state = core::Vector::Zero(d);
    layer.candidate = {m(d, d, fan), core::Vector::Constant(d, 0.3)};
    layer.post = {m(d, d, fan), core::Vector::Zero(d)};
    net.layers.push_back(layer);
  }
  net.fc = {m(d, 2, fan), core::Vector::Zero(2)};
  return net;
}

void BM_ReferenceEngine(benchmark::State& state) {
  const auto d = static_cast<core::Index>(state.range(0));
  const auto batch = static_cast<core::Index>(state.range(1));
  const core::Network net = network(d);
  models::ReferenceEngine engine(net);
  engine.reset(batch);
  std::vector<core::Matrix> x;
  core::random_stimuli({batch, 64, 13, 1})->read(0, 64, x);
  core::Frame frame;
  size_t k = 0;
  for (auto _ : state) {
    engine.step(x[k++ % x.size()], frame);
    benchmark::DoNotOptimize(frame.logits.data());
  }
  const double cell_frames = static_cast<double>(state.iterations()) * static_cast<double>(batch) *
                             static_cast<double>(d * net.n_layers());
  state.counters["cell_frames_per_s"] =
      benchmark::Counter(cell_frames, benchmark::Counter::kIsRate);
  state.counters["seq_frames_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_ReferenceEngine)
    ->ArgNames({"d", "batch"})
    ->ArgsProduct({{4, 64, 512}, {1, 256}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
