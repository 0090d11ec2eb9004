#include "core/vote.hpp"

#include <algorithm>
#include <limits>

namespace bmru::core {

void VoteCounter::add(const Eigen::Ref<const Eigen::RowVectorXd>& logits) {
  Index best = 0;
  for (Index i = 1; i < logits.size(); ++i)
    if (logits(i) > logits(best)) best = i;
  ++votes_[static_cast<size_t>(best)];
  ++frames_;
}

Decision VoteCounter::result() const {
  if (frames_ == 0 || votes_.empty()) return {};
  std::vector<long long> sorted = votes_;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const long long top = sorted[0];
  const long long second = sorted.size() > 1 ? sorted[1] : 0;
  Decision d;
  d.margin = static_cast<double>(top - second) / static_cast<double>(frames_);
  if (top == second) return {kTie, 0.0};
  d.decision = static_cast<int>(std::find(votes_.begin(), votes_.end(), top) - votes_.begin());
  return d;
}

Decision apply_tie(Decision d, TiePolicy tie) {
  if (d.decision == kTie && tie == TiePolicy::first) d.decision = 0;
  return d;
}

Decision decide(const Matrix& logits, DecisionRule rule, TiePolicy tie) {
  if (logits.rows() == 0 || logits.cols() == 0) return apply_tie({}, tie);
  if (rule == DecisionRule::last) {
    const Eigen::RowVectorXd y = logits.row(logits.rows() - 1);
    Index best = 0;
    for (Index i = 1; i < y.size(); ++i)
      if (y(i) > y(best)) best = i;
    double second = -std::numeric_limits<double>::infinity();
    for (Index i = 0; i < y.size(); ++i)
      if (i != best) second = std::max(second, y(i));
    const double margin = y.size() > 1 ? y(best) - second : 0.0;
    return {static_cast<int>(best), margin};
  }
  VoteCounter votes(logits.cols());
  for (Index t = 0; t < logits.rows(); ++t) votes.add(logits.row(t));
  return apply_tie(votes.result(), tie);
}

Decision decide_by_time(const Matrix& seconds, TiePolicy tie) {
  if (seconds.rows() == 0 || seconds.cols() == 0) return apply_tie({}, tie);
  const Eigen::RowVectorXd total = seconds.colwise().sum();
  const double all = total.sum();
  Index best = 0;
  for (Index i = 1; i < total.size(); ++i)
    if (total(i) > total(best)) best = i;
  double second = 0;
  bool tied = false;
  for (Index i = 0; i < total.size(); ++i)
    if (i != best) {
      second = std::max(second, total(i));
      tied = tied || total(i) == total(best);
    }
  if (tied || !(all > 0)) return apply_tie({}, tie);
  return {static_cast<int>(best), (total(best) - second) / all};
}

TaskScore task_score(const std::vector<int>& decisions, const std::vector<std::int64_t>& labels,
                     size_t n_classes) {
  TaskScore a;
  a.confusion.assign(n_classes, std::vector<long>(n_classes, 0));
  a.clips = static_cast<long>(decisions.size());
  if (decisions.empty()) return a;
  long right = 0;
  std::vector<long> per_class(n_classes, 0), right_class(n_classes, 0);
  for (size_t k = 0; k < decisions.size(); ++k) {
    const auto label = static_cast<size_t>(labels[k]);
    const int decided = decisions[k];
    if (label < n_classes) ++per_class[label];
    if (decided < 0 || static_cast<size_t>(decided) >= n_classes) {
      ++a.ties;
      continue;
    }
    if (label < n_classes) ++a.confusion[label][static_cast<size_t>(decided)];
    if (static_cast<size_t>(decided) == label) {
      ++right;
      ++right_class[label];
    }
  }
  a.accuracy = static_cast<double>(right) / static_cast<double>(decisions.size());
  double recall = 0;
  long present = 0;
  for (size_t c = 0; c < n_classes; ++c)
    if (per_class[c] > 0) {
      recall += static_cast<double>(right_class[c]) / static_cast<double>(per_class[c]);
      ++present;
    }
  a.balanced_accuracy = present ? recall / static_cast<double>(present) : 0;
  return a;
}

}  // namespace bmru::core
