#include "core/vote.hpp"

#include <algorithm>

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

}  // namespace bmru::core
