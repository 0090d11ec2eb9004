// Speech features, clips per second per core (issue 17 target: >= 500 clips/s for 1 s clips).
// Run by `cmake --build build --target bench`; items_per_second is clips per second.
#include <benchmark/benchmark.h>

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <filesystem>

#include "audio/features.hpp"

namespace {

bmru::audio::Clip noise_clip(double rate, double seconds) {
  boost::random::mt19937_64 rng(1);
  boost::random::normal_distribution<double> g(0.0, 0.1);
  bmru::audio::Clip c;
  c.sample_rate = rate;
  c.samples.resize(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < c.samples.size(); ++i)
    c.samples[i] = static_cast<float>(g(rng) + 0.3 * std::sin(0.05 * static_cast<double>(i)));
  return c;
}

// A 1 s clip already at 16 kHz: framing, FFT, mel, dB, DCT, normalisation.
void BM_Mfcc16k(benchmark::State& state) {
  const bmru::audio::FeatureExtractor fx(bmru::audio::FeatureSettings{});
  const auto clip = noise_clip(16000, 1.0);
  for (auto _ : state) benchmark::DoNotOptimize(fx.compute(clip));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Mfcc16k)->Unit(benchmark::kMicrosecond);

// A 1 s clip at 8 kHz (FSDD's rate): soxr HQ resampling to 16 kHz first.
void BM_Mfcc8kResampled(benchmark::State& state) {
  const bmru::audio::FeatureExtractor fx(bmru::audio::FeatureSettings{});
  const auto clip = noise_clip(8000, 1.0);
  for (auto _ : state) benchmark::DoNotOptimize(fx.compute(clip));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Mfcc8kResampled)->Unit(benchmark::kMicrosecond);

// From a real FSDD recording on disk (read, resample, features), when shared/ is beside the tree.
void BM_MfccFsddFile(benchmark::State& state) {
  const std::filesystem::path f =
      std::filesystem::path(BMRU_SOURCE_DIR) / "../shared/data/fsdd/recordings/7_jackson_32.wav";
  if (!std::filesystem::exists(f)) {
    state.SkipWithError("FSDD recordings not found beside the source tree");
    return;
  }
  const bmru::audio::FeatureExtractor fx(bmru::audio::FeatureSettings{});
  for (auto _ : state) benchmark::DoNotOptimize(fx.compute(f));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MfccFsddFile)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
