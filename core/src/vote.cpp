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

}  // namespace bmru::core
