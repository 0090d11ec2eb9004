#include "models/demo_network.hpp"

#include <gtest/gtest.h>

#include "core/driver.hpp"
#include "models/realisable_range.hpp"
#include "models/reference_engine.hpp"

namespace bmru::models {
namespace {

TEST(DemoNetwork, HasTheKeywordSpottingShape) {
  const core::Network net = demo_network();
  EXPECT_EQ(net.n_in(), 13);
  EXPECT_EQ(net.d(), 4);
  EXPECT_EQ(net.n_layers(), 2);
  EXPECT_EQ(net.n_out(), 2);
  EXPECT_DOUBLE_EQ(net.unit_current_a, 1e-9);
}

TEST(DemoNetwork, IsDeterministicPerSeed) {
  EXPECT_EQ(demo_network(), demo_network());
  EXPECT_FALSE(demo_network(1) == demo_network(2));
}

TEST(DemoNetwork, LiesInsideTheRealisableRange) {
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto problems = range_problems(demo_network(seed));
    EXPECT_TRUE(problems.empty()) << "seed " << seed << ": " << problems.front();
  }
}

TEST(DemoNetwork, ExercisesEveryCellOnTheDefaultInputs) {
  const core::Network net = demo_network();
  auto inputs = core::random_stimuli(demo_inputs());
  const DemoTargets targets;
  const auto ex = exercise(net, *inputs);
  for (size_t l = 0; l < ex.size(); ++l)
    for (size_t i = 0; i < ex[l].size(); ++i) {
      SCOPED_TRACE("layer" + std::to_string(l + 1) + " cell " + std::to_string(i));
      EXPECT_GE(ex[l][i].band_share, targets.band_share_min);
      EXPECT_GE(ex[l][i].lo_crossings_per_100, targets.crossings_min_per_100);
      EXPECT_GE(ex[l][i].hi_crossings_per_100, targets.crossings_min_per_100);
      EXPECT_GT(ex[l][i].state_changes_per_100, 1.0);  // the cells do switch
      // No threshold on a point mass of its candidate (a quantile on c = bias): those frames would
      // be decided by sub-percent analog error in any comparison with the circuit.
      EXPECT_LE(ex[l][i].near_threshold_share, targets.near_threshold_max);
    }
}

TEST(DemoNetwork, NodeCurrentsStayWithinTheCircuitLimit) {
  const core::Network net = demo_network();
  auto inputs = core::random_stimuli(demo_inputs());
  ReferenceEngine engine(net);
  double peak = 0;
  core::run_batch(
      engine, *inputs, 64,
      [&](core::Index, const std::vector<core::Matrix>&, const std::vector<core::Frame>& fs) {
        for (const auto& f : fs)
          for (const auto& l : f.layers)
            peak =
                std::max({peak, l.candidate.cwiseAbs().maxCoeff(), l.output.cwiseAbs().maxCoeff()});
      });
  EXPECT_LE(peak * net.unit_current_a, RealisableRange{}.node_max_a);
}

TEST(Exercise, CountsBandAndCrossingsOnAKnownTrace) {
  // One cell, c = max(x, 0), band [1, 2]; x alternates 0.5, 1.5, 2.5, 1.5 (held 1 frame each).
  core::Network net;
  net.pre_proj = {core::Matrix::Constant(1, 1, 1.0), core::Vector::Zero(1)};
  core::Layer layer;
  layer.alphas = core::Vector::Constant(1, 1.0);
  layer.beta1 = core::Vector::Constant(1, 1.0);
  layer.delta = core::Vector::Constant(1, 1.0);
  layer.initial_state = core::Vector::Zero(1);
  layer.candidate = {core::Matrix::Constant(1, 1, 1.0), core::Vector::Zero(1)};
  layer.post = {core::Matrix::Constant(1, 1, 1.0), core::Vector::Zero(1)};
  net.layers.push_back(layer);
  net.fc = {core::Matrix::Constant(1, 1, 1.0), core::Vector::Zero(1)};
  struct Fixed final : core::StimulusSource {
    core::Index sequences() const override { return 1; }
    core::Index frames() const override { return 8; }
    core::Index n_in() const override { return 1; }
    std::string describe() const override { return "fixed"; }
    void read(core::Index k0, core::Index count, std::vector<core::Matrix>& out) override {
      out.clear();
      for (core::Index k = k0; k < k0 + count; ++k)
        out.push_back(core::Matrix::Constant(1, 1, v[k % 4]));
    }
    core::Matrix read_sequence(core::Index, core::Index, core::Index) override { return {}; }
    double v[4] = {0.5, 1.5, 2.5, 1.5};
  } src;
  const auto ex = exercise(net, src);
  EXPECT_DOUBLE_EQ(ex[0][0].band_share, 0.5);  // 1.5 twice in every 4 frames
  // 7 frame pairs: [c < 1] changes 3 times, [c > 2] 4 times, the state (0 0 1 1 0 0 1 1) 3 times.
  EXPECT_DOUBLE_EQ(ex[0][0].lo_crossings_per_100, 3.0 / 8 * 100);
  EXPECT_DOUBLE_EQ(ex[0][0].hi_crossings_per_100, 4.0 / 8 * 100);
  EXPECT_DOUBLE_EQ(ex[0][0].state_changes_per_100, 3.0 / 8 * 100);
}

}  // namespace
}  // namespace bmru::models
