#include "core/vote.hpp"

#include <gtest/gtest.h>

namespace bmru::core {
namespace {

Eigen::RowVectorXd row(std::initializer_list<double> v) {
  Eigen::RowVectorXd r(static_cast<Index>(v.size()));
  Index i = 0;
  for (double x : v) r(i++) = x;
  return r;
}

TEST(Vote, MajorityWinsWithItsMargin) {
  VoteCounter v(2);
  v.add(row({1.0, 0.0}));
  v.add(row({1.0, 0.5}));
  v.add(row({0.0, 2.0}));
  v.add(row({3.0, -1.0}));
  const Decision d = v.result();
  EXPECT_EQ(d.decision, 0);
  EXPECT_DOUBLE_EQ(d.margin, 0.5);  // 3/4 - 1/4
}

TEST(Vote, EqualVotesAreATieWithZeroMargin) {
  VoteCounter v(2);
  v.add(row({1.0, 0.0}));
  v.add(row({0.0, 1.0}));
  EXPECT_EQ(v.result(), (Decision{kTie, 0.0}));
}

TEST(Vote, EqualLogitsVoteForTheLowestClass) {
  VoteCounter v(3);
  v.add(row({0.0, 1.0, 1.0}));
  EXPECT_EQ(v.result().decision, 1);
}

TEST(Vote, RunnerUpIsTheSecondLargestCount) {
  VoteCounter v(3);
  for (int i = 0; i < 5; ++i) v.add(row({0, 0, 1}));
  for (int i = 0; i < 3; ++i) v.add(row({0, 1, 0}));
  for (int i = 0; i < 2; ++i) v.add(row({1, 0, 0}));
  const Decision d = v.result();
  EXPECT_EQ(d.decision, 2);
  EXPECT_DOUBLE_EQ(d.margin, 0.2);
}

TEST(Vote, NoFramesIsATie) {
  EXPECT_EQ(VoteCounter(2).result().decision, kTie);
}

}  // namespace
}  // namespace bmru::core

namespace bmru::core {
namespace {

TEST(Decide, VoteIsTheMajorityAndATieStaysATieUnlessSentToTheFirstClass) {
  Matrix y(4, 2);
  y << 1, 0, 0, 1, 1, 0, 0, 1;  // two frames each
  EXPECT_EQ(decide(y).decision, kTie);
  EXPECT_EQ(decide(y, DecisionRule::vote, TiePolicy::first).decision, 0);
  y(3, 0) = 2;  // three frames for class 0
  EXPECT_EQ(decide(y).decision, 0);
  EXPECT_DOUBLE_EQ(decide(y).margin, 0.5);
  EXPECT_EQ(decide(y, DecisionRule::time_share).decision, 0);  // per-frame values: the vote
}

TEST(Decide, LastTakesTheLastFramesArgmaxWithTheLogitGapAsMargin) {
  Matrix y(3, 3);
  y << 5, 0, 0, 5, 0, 0, 0.5, 2, 1.25;
  const Decision d = decide(y, DecisionRule::last);
  EXPECT_EQ(d.decision, 1);
  EXPECT_DOUBLE_EQ(d.margin, 0.75);
  EXPECT_EQ(decide(y).decision, 0);  // the vote says otherwise
}

TEST(Decide, TimeShareCountsSecondsInTheLeadNotFrames) {
  // Three frames lean to class 0 by a little; one frame is class 1's throughout.
  Matrix seconds(4, 2);
  seconds << 6e-3, 4e-3, 6e-3, 4e-3, 6e-3, 4e-3, 0, 10e-3;
  const Decision d = decide_by_time(seconds);
  EXPECT_EQ(d.decision, 1);  // 22 ms against 18 ms, although class 0 leads in three frames
  EXPECT_NEAR(d.margin, 4e-3 / 40e-3, 1e-12);
  seconds(3, 0) = 2e-3;
  seconds(3, 1) = 8e-3;  // 20 ms each
  EXPECT_EQ(decide_by_time(seconds).decision, kTie);
  EXPECT_EQ(decide_by_time(seconds, TiePolicy::first).decision, 0);
  EXPECT_EQ(decide_by_time(Matrix(0, 2)).decision, kTie);
}

TEST(TaskScore, AccuracyBalancedAccuracyAndConfusionCountTiesAsWrong) {
  // Labels: three of class 0, one of class 1. Decisions: 0, 1, tie | 1.
  const TaskScore s = task_score({0, 1, kTie, 1}, {0, 0, 0, 1}, 2);
  EXPECT_EQ(s.clips, 4);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(s.balanced_accuracy, (1.0 / 3.0 + 1.0) / 2);
  EXPECT_EQ(s.ties, 1);
  EXPECT_EQ(s.confusion, (std::vector<std::vector<long>>{{1, 1}, {0, 1}}));
  // A class absent from the labels does not enter the balanced accuracy.
  EXPECT_DOUBLE_EQ(task_score({0, 0}, {0, 0}, 3).balanced_accuracy, 1.0);
  EXPECT_DOUBLE_EQ(task_score({}, {}, 2).accuracy, 0.0);
}

}  // namespace
}  // namespace bmru::core
