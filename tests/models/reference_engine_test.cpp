#include "models/reference_engine.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.hpp"
#include "core/stimuli.hpp"
#include "test_support.hpp"

namespace bmru::models {
namespace {

using core::Frame;
using core::Network;

std::vector<double> states(const Network& net, const std::vector<double>& xs) {
  Matrix x(static_cast<Index>(xs.size()), 1);
  for (size_t k = 0; k < xs.size(); ++k) x(static_cast<Index>(k), 0) = xs[k];
  std::vector<double> h;
  for (const Frame& f : run_sequence(net, x)) h.push_back(f.layers[0].state(0, 0));
  return h;
}

TEST(ReferenceEngine, HoldsInsideTheBandSetsAboveResetsBelow) {
  // beta_lo = 1, beta_hi = 2, alpha = 0.5, starting low.
  const Network net = test::single_cell(1.0, 2.0, 0.5, 0.0);
  const std::vector<double> x{0.5, 1.5, 2.5, 1.5, 1.0, 2.0, 0.99, 1.99, 2.01};
  const std::vector<double> want{0, 0, 0.5, 0.5, 0.5, 0.5, 0, 0, 0.5};
  EXPECT_EQ(states(net, x), want);
}

TEST(ReferenceEngine, ExactlyAtTheThresholdsTheCellHolds) {
  const Network low = test::single_cell(1.0, 2.0, 1.0, 0.0);
  const Network high = test::single_cell(1.0, 2.0, 1.0, 1.0);
  EXPECT_EQ(states(low, {2.0, 1.0}), (std::vector<double>{0, 0}));
  EXPECT_EQ(states(high, {1.0, 2.0}), (std::vector<double>{1, 1}));
}

TEST(ReferenceEngine, EqualThresholdsMakeAComparatorThatHoldsAtBeta) {
  const Network net = test::single_cell(1.0, 1.0, 1.0, 0.0);
  EXPECT_EQ(states(net, {1.0, 1.0 + 1e-12, 1.0, 1.0 - 1e-12, 1.0}),
            (std::vector<double>{0, 1, 1, 0, 0}));
}

TEST(ReferenceEngine, NegativeStoredConstantsAreTakenAsMagnitudes) {
  Network net = test::single_cell(1.0, 2.0, 1.0, 0.0);
  net.layers[0].alphas << -0.8;
  net.layers[0].beta1 << -1.0;
  net.layers[0].delta << -1.0;
  net.layers[0].initial_state << -0.9;  // starts high
  EXPECT_EQ(states(net, {1.5, 0.5, 2.5}), (std::vector<double>{0.8, 0, 0.8}));
}

TEST(ReferenceEngine, LayerOutputAndLogitsFollowThePostProjectionAndSkip) {
  Network net = test::single_cell(1.0, 2.0, 0.5, 0.0);
  net.layers[0].post = {Matrix::Constant(1, 1, 2.0), core::Vector::Constant(1, -0.25)};
  net.fc = {Matrix::Constant(1, 1, -3.0), core::Vector::Constant(1, 0.5)};
  Matrix x(2, 1);
  x << 0.5, 3.0;
  const auto frames = run_sequence(net, x);
  // frame 0: h = 0: u1 = ReLU(0 - 0.25) + 0.5 = 0.5; y = -1.5 + 0.5
  EXPECT_DOUBLE_EQ(frames[0].layers[0].output(0, 0), 0.5);
  EXPECT_DOUBLE_EQ(frames[0].logits(0, 0), -1.0);
  // frame 1: h = 0.5: u1 = ReLU(1 - 0.25) + 3 = 3.75; y = -11.25 + 0.5
  EXPECT_DOUBLE_EQ(frames[1].layers[0].output(0, 0), 3.75);
  EXPECT_DOUBLE_EQ(frames[1].logits(0, 0), -10.75);
}

// An independent scalar implementation of DESIGN.md section 1, loop by loop.
std::vector<std::vector<double>> oracle_logits(const Network& net, const Matrix& x) {
  const Index d = net.d();
  std::vector<std::vector<double>> h(net.layers.size());
  for (size_t l = 0; l < net.layers.size(); ++l)
    for (Index i = 0; i < d; ++i)
      h[l].push_back(
          std::abs(net.layers[l].initial_state(i)) > 0.5 ? std::abs(net.layers[l].alphas(i)) : 0.0);
  std::vector<std::vector<double>> out;
  for (Index k = 0; k < x.rows(); ++k) {
    std::vector<double> u(static_cast<size_t>(d));
    for (Index j = 0; j < d; ++j) {
      double s = net.pre_proj.bias(j);
      for (Index i = 0; i < net.n_in(); ++i) s += x(k, i) * net.pre_proj.kernel(i, j);
      u[static_cast<size_t>(j)] = s;
    }
    for (size_t l = 0; l < net.layers.size(); ++l) {
      const auto& L = net.layers[l];
      for (Index j = 0; j < d; ++j) {
        double c = L.candidate.bias(j);
        for (Index i = 0; i < d; ++i)
          c += std::max(0.0, u[static_cast<size_t>(i)]) * L.candidate.kernel(i, j);
        c = std::max(0.0, c);
        const double lo = std::abs(L.beta1(j)), hi = lo + std::abs(L.delta(j));
        if (c > hi) h[l][static_cast<size_t>(j)] = std::abs(L.alphas(j));
        if (c < lo) h[l][static_cast<size_t>(j)] = 0.0;
      }
      std::vector<double> next(static_cast<size_t>(d));
      for (Index j = 0; j < d; ++j) {
        double p = L.post.bias(j);
        for (Index i = 0; i < d; ++i) p += h[l][static_cast<size_t>(i)] * L.post.kernel(i, j);
        next[static_cast<size_t>(j)] = std::max(0.0, p) + u[static_cast<size_t>(j)];
      }
      u = next;
    }
    std::vector<double> y;
    for (Index o = 0; o < net.n_out(); ++o) {
      double s = net.fc.bias(o);
      for (Index i = 0; i < d; ++i) s += u[static_cast<size_t>(i)] * net.fc.kernel(i, o);
      y.push_back(s);
    }
    out.push_back(y);
  }
  return out;
}

TEST(ReferenceEngine, MatchesAnIndependentScalarImplementation) {
  const Network net = test::random_network(7, 5, 3, 3, 21);
  const Matrix x = core::random_stimuli({1, 200, 7, 4})->read_sequence(0, 0, 200);
  const auto frames = run_sequence(net, x);
  const auto want = oracle_logits(net, x);
  for (size_t k = 0; k < frames.size(); ++k)
    for (Index o = 0; o < net.n_out(); ++o)
      EXPECT_NEAR(frames[k].logits(0, o), want[k][static_cast<size_t>(o)], 1e-12) << "frame " << k;
}

TEST(ReferenceEngine, StatesAreZeroOrAlphaAndCandidatesNonNegative) {
  const Network net = test::random_network(13, 8, 2, 2, 22);
  const Matrix x = core::random_stimuli({1, 300, 13, 5})->read_sequence(0, 0, 300);
  for (const Frame& f : run_sequence(net, x))
    for (size_t l = 0; l < f.layers.size(); ++l) {
      EXPECT_GE(f.layers[l].candidate.minCoeff(), 0.0);
      for (Index i = 0; i < net.d(); ++i) {
        const double h = f.layers[l].state(0, i);
        EXPECT_TRUE(h == 0.0 || h == std::abs(net.layers[l].alphas(i))) << h;
      }
    }
}

TEST(ReferenceEngine, BatchEqualsOneByOne) {
  const Network net = test::random_network(6, 4, 2, 3, 23);
  auto src = core::random_stimuli({5, 40, 6, 6});
  const auto seqs = core::read_all(*src);
  ReferenceEngine batch(net);
  batch.reset(5);
  std::vector<Matrix> x;
  src->read(0, 40, x);
  std::vector<std::vector<Frame>> single;
  for (const auto& s : seqs) single.push_back(run_sequence(net, s));
  Frame f;
  for (Index k = 0; k < 40; ++k) {
    batch.step(x[static_cast<size_t>(k)], f);
    for (Index s = 0; s < 5; ++s) {
      const Frame& one = single[static_cast<size_t>(s)][static_cast<size_t>(k)];
      // Batched matrix products may round differently from single rows; states must agree exactly.
      EXPECT_LT((f.logits.row(s) - one.logits.row(0)).cwiseAbs().maxCoeff(), 1e-12);
      for (size_t l = 0; l < f.layers.size(); ++l)
        EXPECT_EQ(f.layers[l].state.row(s), one.layers[l].state.row(0));
    }
  }
}

TEST(ReferenceEngine, SetStateOverridesTheNextHold) {
  ReferenceEngine e(test::single_cell(1.0, 2.0, 1.0, 0.0));
  e.reset(1);
  e.set_state(0, Matrix::Constant(1, 1, 1.0));  // resync to a high hardware state
  Frame f;
  e.step(Matrix::Constant(1, 1, 1.5), f);  // inside the band: holds the resynced state
  EXPECT_EQ(f.layers[0].state(0, 0), 1.0);
  EXPECT_THROW(e.set_state(0, Matrix::Constant(2, 1, 1.0)), InputError);
}

TEST(ReferenceEngine, WrongInputWidthAndInvalidNetworkAreRejected) {
  ReferenceEngine e(test::single_cell(1.0, 2.0));
  Frame f;
  EXPECT_THROW(e.step(Matrix::Zero(1, 3), f), InputError);
  Network bad = test::single_cell(1.0, 2.0);
  bad.layers[0].alphas << 0.0;
  EXPECT_THROW(ReferenceEngine{bad}, InputError);
}

}  // namespace
}  // namespace bmru::models
