// Seeded noise currents and the suppression metrics of issue 21, without SPICE: the samples are a
// function of (seed, sequence, source) alone, amplitudes are as specified, and the metrics give
// the known answers on constructed cases.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/array_file.hpp"
#include "core/errors.hpp"
#include "core/noise.hpp"
#include "lockstep.hpp"
#include "models/demo_network.hpp"
#include "models/reference_engine.hpp"
#include "noise_metrics.hpp"
#include "test_support.hpp"

namespace bmru::experiments {
namespace {

const core::FrameAxis kAxis{10e-3, 0.1e-3, 0.9};

double rms(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s / static_cast<double>(v.size()));
}

TEST(Noise, ParsesEveryAmplitudeAndRefusesOthersNamingTheOption) {
  EXPECT_EQ(core::parse_noise("shot").amplitude, core::NoiseSpec::Amplitude::shot);
  EXPECT_DOUBLE_EQ(core::parse_noise("rel:5%").value, 0.05);
  EXPECT_DOUBLE_EQ(core::parse_noise("rel:0.05").value, 0.05);
  EXPECT_DOUBLE_EQ(core::parse_noise("abs:2p").value, 2e-12);
  EXPECT_FALSE(core::parse_noise("none").active());
  EXPECT_FALSE(core::parse_noise("abs:0").active());
  for (const char* bad : {"loud", "rel:", "rel:-1", "abs:1", "rel:x"}) {
    try {
      core::parse_noise(bad);
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--noise"), std::string::npos) << e.what();
    }
  }
}

TEST(Noise, SamplesDependOnSeedSequenceAndSourceAloneWithTheGivenSigma) {
  core::NoiseSpec n = core::parse_noise("abs:2p");
  const std::vector<double> sigma(100, 2e-12);
  const core::NoiseTrack a(n, kAxis, 3, 5, sigma), b(n, kAxis, 3, 5, sigma);
  EXPECT_EQ(a.samples(), b.samples());  // bit for bit
  EXPECT_NE(a.samples(), core::NoiseTrack(n, kAxis, 3, 6, sigma).samples());
  EXPECT_NE(a.samples(), core::NoiseTrack(n, kAxis, 4, 5, sigma).samples());
  n.seed = 2;
  EXPECT_NE(a.samples(), core::NoiseTrack(n, kAxis, 3, 5, sigma).samples());
  // 100 frames x 100 samples: the sample deviation within 3 % of sigma, the mean near zero.
  EXPECT_NEAR(rms(a.samples()), 2e-12, 0.06e-12);
  EXPECT_EQ(a.dt(), 1e-4);
  // Linear between samples, zero outside the sequence.
  const auto& v = a.samples();
  EXPECT_DOUBLE_EQ(a.at(2.5e-4), (v[2] + v[3]) / 2);
  EXPECT_EQ(a.at(-1), 0);
  EXPECT_EQ(a.at(10), 0);
}

TEST(Noise, RelativeAndShotAmplitudesFollowTheLinesCurrentFrameByFrame) {
  const core::NoiseSpec rel = core::parse_noise("rel:0.1"), shot = core::parse_noise("shot");
  EXPECT_DOUBLE_EQ(rel.sigma(2e-9, kAxis), 2e-10);
  // sqrt(2 q I B), B = 1 / (2 dt) = 5 kHz at T/100 of 10 ms.
  EXPECT_NEAR(shot.sigma(1e-9, kAxis), std::sqrt(2 * 1.602176634e-19 * 1e-9 * 5e3), 1e-20);
  // A frame whose line carries nothing has no noise.
  const core::NoiseTrack t(rel, kAxis, 0, 0, {1e-9, 0.0, 1e-9});
  for (double s = 10.5e-3; s < 19.9e-3; s += 0.1e-3) EXPECT_EQ(t.at(s), 0) << s;
  EXPECT_NE(t.at(5e-3), 0);
}

TEST(Noise, AOneOverFCornerAddsSlowPower) {
  core::NoiseSpec white = core::parse_noise("abs:1p"), pink = white;
  pink.corner_hz = 1000;
  const std::vector<double> sigma(200, 1e-12);
  // Power in 10 ms averages (below 50 Hz): far more with the flicker part than without.
  const auto slow = [&](const core::NoiseSpec& n) {
    double p = 0;
    int count = 0;
    for (std::uint64_t src = 0; src < 8; ++src) {
      const core::NoiseTrack track(n, kAxis, 0, src, sigma);
      const auto& v = track.samples();
      for (size_t i = 0; i + 100 <= v.size(); i += 100, ++count) {
        const double m = std::accumulate(v.begin() + static_cast<long>(i),
                                         v.begin() + static_cast<long>(i + 100), 0.0) /
                         100;
        p += m * m;
      }
    }
    return p / count;
  };
  EXPECT_GT(slow(pink), 10 * slow(white));
}

TEST(Suppression, ZeroNoiseGivesZeroDeviationAndNoFactor) {
  const std::vector<double> c{0.5, 0.7, 0.2, 0.9}, h{0, 1, 1, 1};
  const CellSuppression s = suppression(c, c, h, h, 1.0, 1.0, true);
  EXPECT_EQ(s.candidate_deviation, 0);
  EXPECT_EQ(s.state_deviation, 0);
  EXPECT_TRUE(std::isnan(s.factor));
  EXPECT_FALSE(s.is_bound);
}

TEST(Suppression, FlipsGiveTheRatioAndNoFlipTheRunLengthsBound) {
  // 100 frames, candidate off by 0.1 beta_hi everywhere: relative deviation 0.1.
  const size_t M = 100;
  std::vector<double> c0(M, 0.5), c1(M, 0.55), h0(M, 0.0), h1(M, 0.0);
  CellSuppression s = suppression(c0, c1, h0, h1, 0.5, 1.0, true);
  EXPECT_NEAR(s.candidate_deviation, 0.1, 1e-12);
  EXPECT_TRUE(s.is_bound);
  EXPECT_NEAR(s.factor, 0.1 * std::sqrt(100.0), 1e-9);  // one flipped frame: deviation 1/10
  // Four flipped frames of alpha = 2: state deviation sqrt(4/100) = 0.2, factor 0.5.
  for (size_t k : {3u, 40u, 41u, 90u}) h1[k] = 2.0;
  s = suppression(c0, c1, h0, h1, 0.5, 2.0, true);
  EXPECT_EQ(s.flips, 4);
  EXPECT_FALSE(s.is_bound);
  EXPECT_NEAR(s.state_deviation, 0.2, 1e-12);
  EXPECT_NEAR(s.factor, 0.5, 1e-12);
  // Frames a run never reached (NaN) are left out.
  c1.push_back(std::nan(""));
  c0.push_back(0.5);
  h0.push_back(0);
  h1.push_back(0);
  EXPECT_EQ(suppression(c0, c1, h0, h1, 0.5, 2.0, true).frames, 100);
  const auto [median, bound] = median_suppression(
      {{0, 0, 3.0, false}, {0, 0, 50.0, true}, {0, 0, std::nan(""), false}, {0, 0, 7.0, false}});
  EXPECT_DOUBLE_EQ(median, 7.0);
  EXPECT_FALSE(bound);
}

// A network whose cells never switch (thresholds far above every candidate), with noise reaching
// only the candidates: its states never move, so the factor is a lower bound.
TEST(Suppression, CellsThatNeverSwitchGiveALowerBound) {
  core::Network net = models::demo_network();
  for (auto& layer : net.layers) {
    layer.beta1.setConstant(50);
    layer.delta.setConstant(1);
  }
  const auto x = core::read_all(*core::random_stimuli({2, 30, 13, 3}));
  const core::NoiseSpec spec = core::parse_noise("rel:0.05");
  std::vector<double> c0, c1, h0, h1;
  for (size_t s = 0; s < x.size(); ++s) {
    const auto tracks = candidate_noise(spec, net, x[s], kAxis, s);
    ASSERT_EQ(tracks.size(), 8u);
    Followers clean(net, Mode::free, std::nullopt, kAxis, x[s].row(0));
    Followers noisy(net, Mode::free, std::nullopt, kAxis, x[s].row(0));
    noisy.set_noise(tracks);
    for (core::Index k = 0; k < x[s].rows(); ++k) {
      clean.step(k, x[s].row(k), {});
      noisy.step(k, x[s].row(k), {});
      c0.push_back(clean.sw.layers[0].candidate(0, 1));
      c1.push_back(noisy.sw.layers[0].candidate(0, 1));
      h0.push_back(clean.sw.layers[0].state(0, 1));
      h1.push_back(noisy.sw.layers[0].state(0, 1));
      // The discrete model adds each noise current's value at the sample instant.
      EXPECT_NEAR(c1.back() - c0.back(),
                  std::max(-c0.back(), tracks[1].at(kAxis.sample_time(k)) / 1e-9), 1e-12);
    }
  }
  const CellSuppression r = suppression(c0, c1, h0, h1, 51, net.layers[0].alphas(1), true);
  EXPECT_GT(r.candidate_deviation, 0);
  EXPECT_EQ(r.flips, 0);
  EXPECT_TRUE(r.is_bound);
  EXPECT_NEAR(r.factor, r.candidate_deviation * std::sqrt(60.0), 1e-12);
}

// An evaluation's chunks: each cell's deviations pooled over every frame of every run (root mean
// square weighted by frames), flips summed; a cell that never flipped in any run keeps the bound
// of the whole length; runs without noise metrics are skipped.
TEST(Suppression, PoolsChunksFrameWeighted) {
  test::TempDir dir;
  const auto run = [&](const std::string& name, std::vector<double> cdev, std::vector<double> sdev,
                       std::vector<double> flips, std::vector<double> frames) {
    const auto f = dir / name;
    const std::string m = "metrics/noise/hw/";
    core::write_arrays(f,
                       {{m + "candidate_deviation", {1, 2}, cdev, ""},
                        {m + "state_deviation", {1, 2}, sdev, ""},
                        {m + "state_flips", {1, 2}, flips, ""},
                        {m + "state_frames", {1, 2}, frames, ""}},
                       {});
    return f;
  };
  const auto a = run("a.h5", {0.1, 0.2}, {0.5, 0}, {2, 0}, {10, 10});
  const auto b = run("b.h5", {0.3, 0.2}, {0.2, 0}, {1, 0}, {30, 30});
  const auto none = dir / "none.h5";
  core::write_arrays(none, {{"hw/layer1/state", {1}, {0.0}, ""}}, {});
  std::vector<core::NamedArray> arrays;
  std::vector<std::pair<std::string, core::Attr>> attrs;
  const auto q = pooled_suppression({a, none, b}, true, arrays, attrs);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].engine, "hw");
  const auto find = [&](const std::string& name) {
    for (const auto& x : arrays)
      if (x.name == "metrics/noise/hw/" + name) return x.data;
    ADD_FAILURE() << name;
    return std::vector<double>{};
  };
  const double c0 = std::sqrt((10 * 0.01 + 30 * 0.09) / 40),
               s0 = std::sqrt((10 * 0.25 + 30 * 0.04) / 40);
  EXPECT_NEAR(find("candidate_deviation")[0], c0, 1e-12);
  EXPECT_NEAR(find("state_deviation")[0], s0, 1e-12);
  EXPECT_EQ(find("state_flips")[0], 3);
  EXPECT_EQ(find("state_frames")[1], 40);
  EXPECT_NEAR(find("suppression_factor")[0], c0 / s0, 1e-12);
  EXPECT_NEAR(find("suppression_factor")[1], 0.2 * std::sqrt(40.0), 1e-12);  // never flipped
  EXPECT_EQ(find("suppression_is_bound")[1], 1);
  // The median of the two cells, a bound since one of them is.
  EXPECT_NEAR(q[0].factor, (c0 / s0 + 0.2 * std::sqrt(40.0)) / 2, 1e-12);
  EXPECT_TRUE(q[0].is_bound);
  // Runs of different networks do not pool.
  const auto c = dir / "c.h5";
  core::write_arrays(c,
                     {{"metrics/noise/hw/candidate_deviation", {1, 3}, {0.1, 0.1, 0.1}, ""},
                      {"metrics/noise/hw/state_deviation", {1, 3}, {0.1, 0.1, 0.1}, ""},
                      {"metrics/noise/hw/state_flips", {1, 3}, {1, 1, 1}, ""},
                      {"metrics/noise/hw/state_frames", {1, 3}, {5, 5, 5}, ""}},
                     {});
  EXPECT_THROW(pooled_suppression({a, c}, true, arrays, attrs), FileError);
}

TEST(LeakyCell, IntegratesItsCandidateWithoutHysteresis) {
  const core::Network net = models::demo_network();
  models::ReferenceEngine bmru(net), leaky(net);
  leaky.set_leaky(0.75);
  bmru.reset(1);
  leaky.reset(1);
  const auto x = core::read_all(*core::random_stimuli({1, 20, 13, 1}));
  core::Frame fb, fl;
  core::Matrix h = core::Matrix::Zero(1, net.d());
  for (core::Index i = 0; i < net.d(); ++i) h(0, i) = core::cell_constants(net.layers[0]).h_init(i);
  for (core::Index k = 0; k < 20; ++k) {
    leaky.step(x[0].row(k), fl);
    h = 0.75 * h + 0.25 * fl.layers[0].candidate;
    EXPECT_LT((fl.layers[0].state - h).cwiseAbs().maxCoeff(), 1e-12) << k;
  }
  EXPECT_THROW(leaky.set_leaky(1.0), InputError);
}

}  // namespace
}  // namespace bmru::experiments
