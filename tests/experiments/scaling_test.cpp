// The power-scaling study's parts without SPICE: the power-law fit on synthetic figures with known
// exponents, and the random networks of each family.
#include "experiments/scaling.hpp"

#include <gtest/gtest.h>

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>

#include "core/stimuli.hpp"
#include "models/demo_network.hpp"
#include "models/realisable_range.hpp"
#include "models/scaling_network.hpp"

namespace bmru::experiments {
namespace {

const std::vector<double> kD{4, 8, 16, 32, 64, 128};

TEST(PowerLaw, AnExactLawGivesItsExponentAndPrefactorWithANullInterval) {
  for (const double k : {1.0, 2.0, 1.5}) {
    std::vector<double> p;
    for (double d : kD) p.push_back(3e-9 * std::pow(d, k));
    const PowerLaw f = fit_power_law(kD, p);
    EXPECT_NEAR(f.exponent, k, 1e-12);
    EXPECT_NEAR(f.prefactor, 3e-9, 1e-20);
    EXPECT_NEAR(f.ci_high - f.ci_low, 0, 1e-9);
    EXPECT_NEAR(f.r2, 1, 1e-12);
    EXPECT_EQ(f.points, 6);
    EXPECT_NEAR(f.at(10), 3e-9 * std::pow(10, k), 1e-18);
  }
}

TEST(PowerLaw, NoisyFiguresGiveAnIntervalHoldingTheTrueExponentAtItsRate) {
  // 10 % log-normal scatter on P = c d^2: the 95 % interval holds 2 in about 95 % of draws.
  boost::random::mt19937_64 rng(7);
  boost::random::normal_distribution<double> n(0.0, 0.1);
  int hits = 0;
  const int draws = 400;
  for (int j = 0; j < draws; ++j) {
    std::vector<double> p;
    for (double d : kD) p.push_back(1e-9 * d * d * std::exp(n(rng)));
    const PowerLaw f = fit_power_law(kD, p);
    ASSERT_LT(f.ci_low, f.exponent);
    ASSERT_GT(f.ci_high, f.exponent);
    hits += f.ci_low <= 2 && 2 <= f.ci_high;
  }
  EXPECT_GT(hits, draws * 0.90);
  EXPECT_LT(hits, draws * 0.99);
}

TEST(PowerLaw, TwoPointsHaveNoIntervalAndUnusablePointsAreLeftOut) {
  const PowerLaw two = fit_power_law({4, 8}, {1, 4});
  EXPECT_NEAR(two.exponent, 2, 1e-12);
  EXPECT_TRUE(std::isnan(two.ci_low));
  // NaN, zero and negative figures are left out: the law of the rest.
  const PowerLaw f = fit_power_law({4, 8, 16, 32, 64}, {16, std::nan(""), 256, 0, -1});
  EXPECT_EQ(f.points, 2);
  EXPECT_NEAR(f.exponent, 2, 1e-12);
  EXPECT_TRUE(std::isnan(fit_power_law({4}, {1}).exponent));
}

core::Network network(core::Index d, models::ScalingFamily family, std::uint64_t seed = 1) {
  const auto inputs = core::random_stimuli({2, 20, 13, 1});
  models::ScalingShape shape;
  shape.d = d;
  return models::scaling_network(shape, family, seed, *inputs);
}

TEST(ScalingNetwork, FixedHasDenseWeightsFromTheSameRangeAtEveryD) {
  for (const core::Index d : {4, 16}) {
    const core::Network net = network(d, models::ScalingFamily::fixed);
    ASSERT_EQ(net.d(), d);
    EXPECT_TRUE(core::problems(net).empty());
    for (const core::Matrix* k : {&net.pre_proj.kernel, &net.layers[0].candidate.kernel,
                                  &net.layers[1].post.kernel, &net.fc.kernel}) {
      EXPECT_GE(k->cwiseAbs().minCoeff(), 0.1);
      EXPECT_LE(k->cwiseAbs().maxCoeff(), 1.0);
    }
    EXPECT_GT((net.layers[0].post.kernel.array() < 0).count(), 0);  // random signs
  }
  // The same seed, the same network; another seed, another one.
  EXPECT_EQ(network(8, models::ScalingFamily::fixed).layers[0].candidate.kernel,
            network(8, models::ScalingFamily::fixed).layers[0].candidate.kernel);
  EXPECT_NE(network(8, models::ScalingFamily::fixed, 2).layers[0].candidate.kernel,
            network(8, models::ScalingFamily::fixed).layers[0].candidate.kernel);
}

TEST(ScalingNetwork, ScaledShrinksTheWeightsOfFanInDAsOneOverSqrtD) {
  const core::Network n4 = network(4, models::ScalingFamily::scaled);
  const core::Network n64 = network(64, models::ScalingFamily::scaled);
  const double s = std::sqrt(4.0 / 64.0);
  EXPECT_LE(n64.layers[0].candidate.kernel.cwiseAbs().maxCoeff(), s);
  EXPECT_GE(n64.layers[0].candidate.kernel.cwiseAbs().minCoeff(), 0.1 * s);
  EXPECT_LE(n64.fc.kernel.cwiseAbs().maxCoeff(), s);
  // The pre-projection's fan-in is n_in at every d: not shrunk.
  EXPECT_GT(n64.pre_proj.kernel.cwiseAbs().maxCoeff(), 0.9);
  // At d = 4 the families are one.
  EXPECT_EQ(n4.layers[0].candidate.kernel,
            network(4, models::ScalingFamily::fixed).layers[0].candidate.kernel);
  // Every weight realisable down to d = 128 (|w| >= 0.01).
  EXPECT_GE(network(128, models::ScalingFamily::scaled).layers[0].post.kernel.cwiseAbs().minCoeff(),
            models::RealisableRange{}.weight_min);
}

TEST(ScalingNetwork, ItsCellsSwitchOnTheStudysInputs) {
  for (const auto family : {models::ScalingFamily::fixed, models::ScalingFamily::scaled}) {
    const core::Network net = network(16, family);
    const auto inputs = core::random_stimuli({2, 20, 13, 1});
    int switching = 0;
    for (const auto& layer : models::exercise(net, *inputs))
      for (const auto& cell : layer) switching += cell.state_changes_per_100 > 0;
    EXPECT_GT(switching, 16) << "of 32 cells";
  }
}

TEST(ScalingNetwork, DevicesGrowTowardsTheSquareOfD) {
  const auto devices = [](core::Index d) {
    return static_cast<double>(circuit_devices(network(d, models::ScalingFamily::fixed)));
  };
  // Per layer 2 d^2 weight copies against O(d) lines, cells and biases: the ratio of d = 128 to
  // d = 64 nears 4 (the pre-projection's 13 d pairs and 12 devices per cell still count).
  const double r = devices(128) / devices(64);
  EXPECT_GT(r, 3.2);
  EXPECT_LT(r, 4.0);
  EXPECT_GT(devices(64) / devices(16), 6);
}

}  // namespace
}  // namespace bmru::experiments
