#include "core/comparator.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include <cmath>

#include "core/stimuli.hpp"
#include "models/reference_engine.hpp"
#include "test_support.hpp"

namespace bmru::core {
namespace {

// S sequences x N frames of the reference engine on a random network (batch-1 frames).
struct Traces {
  Network net;
  std::vector<std::vector<Frame>> frames;
};

Traces traces(Index S, Index N) {
  Traces t{test::random_network(5, 3, 2, 2, 31), {}};
  auto src = random_stimuli({S, N, 5, 3});
  for (Index s = 0; s < S; ++s)
    t.frames.push_back(models::run_sequence(t.net, src->read_sequence(s, 0, N)));
  return t;
}

Metrics compare(const Traces& t, const std::function<void(Index, Index, Frame&)>& perturb) {
  const auto S = static_cast<Index>(t.frames.size());
  Comparator c(t.net, S);
  for (Index s = 0; s < S; ++s)
    for (Index k = 0; k < static_cast<Index>(t.frames[0].size()); ++k) {
      Frame hw = t.frames[static_cast<size_t>(s)][static_cast<size_t>(k)];
      perturb(s, k, hw);
      c.add(s, k, hw, t.frames[static_cast<size_t>(s)][static_cast<size_t>(k)]);
    }
  return c.result();
}

TEST(Comparator, IdenticalTracesAgreeEverywhere) {
  const Traces t = traces(3, 40);
  const Metrics m = compare(t, [](Index, Index, Frame&) {});
  EXPECT_EQ(m.state_agreement, 1.0);
  EXPECT_EQ(m.candidate_nrmse, 0.0);
  EXPECT_EQ(m.logit_nrmse, 0.0);
  EXPECT_EQ(m.first_divergence, -1);
  EXPECT_EQ(m.decision_agreement, 1.0);
  EXPECT_NEAR(m.logits[0].correlation, 1.0, 1e-12);
}

TEST(Comparator, CandidateOffsetGivesItsNrmseAtThatCellOnly) {
  const Traces t = traces(2, 50);
  const double e = 0.01;
  const Metrics m = compare(t, [&](Index, Index, Frame& f) { f.layers[1].candidate(0, 2) += e; });
  const double beta_hi = cell_constants(t.net.layers[1]).beta_hi(2);
  EXPECT_NEAR(m.cells[1][2].candidate.nrmse, e / beta_hi, 1e-12);
  EXPECT_EQ(m.cells[0][0].candidate.nrmse, 0.0);
  // Pooled = RMS over the 6 cells of the per-cell figures.
  EXPECT_NEAR(m.candidate_nrmse, e / beta_hi / std::sqrt(6.0), 1e-12);
  EXPECT_EQ(m.state_agreement, 1.0);
}

TEST(Comparator, OneFlippedStateCountsOnceAndSetsTheFirstDivergence) {
  const Traces t = traces(3, 30);
  const Metrics m = compare(t, [&](Index s, Index k, Frame& f) {
    if (s == 1 && (k == 7 || k == 20)) {
      const double alpha = std::abs(t.net.layers[0].alphas(1));
      f.layers[0].state(0, 1) = f.layers[0].state(0, 1) > 0 ? 0.0 : alpha;
    }
  });
  EXPECT_NEAR(m.state_agreement, 1.0 - 2.0 / (3 * 30 * 2 * 3), 1e-12);
  EXPECT_NEAR(m.cells[0][1].state_agreement, 1.0 - 2.0 / (3 * 30), 1e-12);
  EXPECT_EQ(m.sequences[1].first_divergence, 7);
  EXPECT_EQ(m.sequences[0].first_divergence, -1);
  EXPECT_EQ(m.first_divergence, 7);
  // A hardware level just above alpha/2 counts as high.
  const Metrics half = compare(t, [&](Index, Index, Frame& f) {
    for (Index i = 0; i < 3; ++i)
      if (f.layers[1].state(0, i) > 0)
        f.layers[1].state(0, i) = 0.51 * std::abs(t.net.layers[1].alphas(i));
  });
  EXPECT_EQ(half.state_agreement, 1.0);
}

TEST(Comparator, OutputNrmseIsRelativeToTheReferenceRms) {
  const Traces t = traces(2, 40);
  const Metrics m = compare(t, [](Index, Index, Frame& f) { f.layers[0].output(0, 0) *= 1.1; });
  // hw - sw = 0.1 sw, so RMS(hw - sw) / RMS(sw) = 0.1 exactly; the correlation stays 1.
  EXPECT_NEAR(m.cells[0][0].output.nrmse, 0.1, 1e-12);
  EXPECT_NEAR(m.cells[0][0].output.correlation, 1.0, 1e-12);
}

TEST(Comparator, ConstantTracesGiveNaNCorrelationsThatAreCounted) {
  const Traces t = traces(1, 20);
  const Metrics m = compare(t, [](Index, Index, Frame& f) { f.logits(0, 1) = 0.5; });
  EXPECT_TRUE(std::isnan(m.logits[1].correlation));
  EXPECT_GE(m.constant_traces, 1);
}

TEST(Comparator, SwitchingLatencyMatchesSoftwareTransitionsWithHardwareCrossings) {
  // One cell: software states 0, alpha, alpha, 0 over four frames (h_init = 0).
  Network net = test::single_cell(1.0, 2.0, 1.0, 0.0);
  Comparator c(net, 1);
  const std::vector<double> h{0, 1, 1, 0};
  const std::vector<Crossings> crossings{{0, -1}, {1, 0.004}, {2, 0.001}, {0, -1}};
  for (Index k = 0; k < 4; ++k) {
    Frame f;
    f.layers.resize(1);
    f.layers[0].candidate = Matrix::Constant(1, 1, 1.5);
    f.layers[0].state = Matrix::Constant(1, 1, h[static_cast<size_t>(k)]);
    f.layers[0].output = Matrix::Constant(1, 1, 1.0);
    f.logits = Matrix::Constant(1, 1, 1.0);
    const std::vector<std::vector<Crossings>> frame{{crossings[static_cast<size_t>(k)]}};
    c.add(0, k, f, f, &frame);
  }
  const Metrics m = c.result();
  // Frame 1: transition matched at 4 ms. Frame 2: no transition, 2 extra crossings (a glitch).
  // Frame 3: transition without a crossing.
  EXPECT_EQ(m.latency.matched, 1);
  EXPECT_DOUBLE_EQ(m.latency.median_s, 0.004);
  EXPECT_DOUBLE_EQ(m.latency.max_s, 0.004);
  EXPECT_EQ(m.latency.unmatched, 1);
  EXPECT_EQ(m.latency.extra_crossings, 2);
}

TEST(Comparator, DecisionsAgreeOnEqualClassesAndTieAgainstTie) {
  const Traces t = traces(3, 5);
  Comparator c(t.net, 3);
  c.set_decisions(0, {1, 0.2}, {1, 0.4});
  c.set_decisions(1, {kTie, 0}, {kTie, 0});
  c.set_decisions(2, {kTie, 0}, {0, 0.1});
  const Metrics m = c.result();
  EXPECT_NEAR(m.decision_agreement, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(m.sequences[2].sw.decision, 0);
}

// Issue 15: a sequence that failed part-way counts its simulated frames, not its decision.
TEST(Comparator, IncompleteSequencesAreLeftOutOfDecisionAgreement) {
  const Traces t = traces(2, 4);
  Comparator c(t.net, 2);
  for (Index k = 0; k < 4; ++k)
    c.add(0, k, t.frames[0][static_cast<size_t>(k)], t.frames[0][static_cast<size_t>(k)]);
  for (Index k = 0; k < 2; ++k)
    c.add(1, k, t.frames[1][static_cast<size_t>(k)], t.frames[1][static_cast<size_t>(k)]);
  c.set_decisions(0, {1, 0.2}, {1, 0.2});
  c.set_decisions(1, {0, 0.2}, {1, 0.2});  // a partial vote that would disagree
  c.set_incomplete(1);
  Metrics m = c.result();
  EXPECT_EQ(m.decision_agreement, 1.0);
  EXPECT_EQ(m.state_agreement, 1.0);
  EXPECT_EQ(m.sequences[1].state_agreement, 1.0);  // over its two simulated frames
  Comparator none(t.net, 1);
  none.set_incomplete(0);
  m = none.result();
  EXPECT_TRUE(std::isnan(m.decision_agreement));
  EXPECT_TRUE(std::isnan(m.state_agreement));  // no frame at all
}

// Issue 16: the figures do not depend on the order frames arrive in (workers interleave
// sequences), and the accumulation is stable for signals far from zero.
TEST(Comparator, FiguresAreTheSameInAnyArrivalOrderAndStableFarFromZero) {
  const Traces t = traces(3, 40);
  const auto run = [&](bool interleaved) {
    Comparator c(t.net, 3);
    const auto add = [&](Index s, Index k) {
      Frame hw = t.frames[static_cast<size_t>(s)][static_cast<size_t>(k)];
      hw.layers[0].candidate(0, 1) += 1e-3 * std::sin(static_cast<double>(7 * k + s));
      hw.logits(0, 0) += 1e-3 * std::cos(static_cast<double>(3 * k + s));
      c.add(s, k, hw, t.frames[static_cast<size_t>(s)][static_cast<size_t>(k)]);
    };
    if (interleaved) {
      for (Index k = 0; k < 40; ++k)
        for (Index s = 2; s >= 0; --s) add(s, k);
    } else {
      for (Index s = 0; s < 3; ++s)
        for (Index k = 0; k < 40; ++k) add(s, k);
    }
    return c.result();
  };
  const Metrics a = run(false), b = run(true);
  EXPECT_EQ(a.candidate_nrmse, b.candidate_nrmse);
  EXPECT_EQ(a.logit_nrmse, b.logit_nrmse);
  for (size_t l = 0; l < a.cells.size(); ++l)
    for (size_t i = 0; i < a.cells[l].size(); ++i)
      for (const auto& [x, y] : {std::pair{a.cells[l][i].candidate, b.cells[l][i].candidate},
                                 {a.cells[l][i].output, b.cells[l][i].output}}) {
        EXPECT_EQ(std::memcmp(&x.nrmse, &y.nrmse, sizeof(double)), 0)
            << l << " " << i;  // NaN == NaN too
        EXPECT_EQ(std::memcmp(&x.correlation, &y.correlation, sizeof(double)), 0) << l << " " << i;
      }
  // A signal of 1e8 +- 1 against itself + 1e-3: a naive sum of squares loses every digit of the
  // correlation; the merged moments keep it (1 within 1e-6).
  core::Network one = test::single_cell(0.5, 1.0);
  Comparator c(one, 2);
  for (Index s = 0; s < 2; ++s)
    for (Index k = 0; k < 1000; ++k) {
      Frame sw, hw;
      sw.layers.resize(1);
      const double v = 1e8 + std::sin(0.1 * static_cast<double>(k) + static_cast<double>(s));
      for (Matrix* m : {&sw.layers[0].candidate, &sw.layers[0].state, &sw.layers[0].output})
        *m = Matrix::Constant(1, 1, v);
      sw.logits = Matrix::Constant(1, 1, v);
      hw = sw;
      hw.layers[0].candidate(0, 0) += 1e-3;
      c.add(s, k, hw, sw);
    }
  const Metrics m = c.result();
  EXPECT_NEAR(m.cells[0][0].candidate.correlation, 1.0, 1e-6);
  // RMS 1e-3 over beta_hi = 1, to the resolution of doubles near 1e8 (1.5e-8 per value).
  EXPECT_NEAR(m.cells[0][0].candidate.nrmse, 1e-3, 1e-7);
}

}  // namespace
}  // namespace bmru::core
