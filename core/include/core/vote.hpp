#pragma once
// The network's decision (DESIGN.md section 1): a majority vote over frames of argmax y_t.
#include <cstdint>
#include <vector>

#include "core/network.hpp"

namespace bmru::core {

inline constexpr int kTie = -1;

struct Decision {
  int decision = kTie;  // winning class, or kTie when the two best classes have equal votes
  double margin = 0;    // share of frames for the top class minus share for the runner-up
  bool operator==(const Decision&) const = default;
};

// Counts the votes of one sequence. Within a frame, equal logits go to the lowest class index
// (the numpy argmax convention), so every frame casts exactly one vote.
class VoteCounter {
 public:
  explicit VoteCounter(Index n_classes) : votes_(static_cast<size_t>(n_classes), 0) {}
  void add(const Eigen::Ref<const Eigen::RowVectorXd>& logits);
  Decision result() const;
  long long frames() const { return frames_; }

 private:
  std::vector<long long> votes_;
  long long frames_ = 0;
};

// How a clip's logits [frames, classes] become a decision (`--decision`):
//   vote:       the majority vote above (DESIGN.md section 1), the default;
//   last:       argmax of the last frame; margin = top logit minus the runner-up;
//   time_share: the class whose argmax holds longest; over per-frame values (the discrete
//               engines) that is the vote, over a dense waveform each frame counts its share.
enum class DecisionRule { vote, last, time_share };
// What a tie becomes (`--tie`): none keeps kTie (counted wrong); first sends it to class 0, as
// the published training code does.
enum class TiePolicy { none, first };

Decision decide(const Matrix& logits, DecisionRule rule = DecisionRule::vote,
                TiePolicy tie = TiePolicy::none);
// kTie -> class 0 under TiePolicy::first; any other decision unchanged.
Decision apply_tie(Decision d, TiePolicy tie);

// time_share over a dense waveform: `seconds` [frames, classes] holds how long each class's logit
// was the largest within each frame. The class with the most time wins; margin = its share of the
// total time minus the runner-up's. Equal times are a tie.
Decision decide_by_time(const Matrix& seconds, TiePolicy tie = TiePolicy::none);

// Decisions scored against labels (task accuracy). A tie (kTie) or any other decision outside the
// classes counts wrong and sits in no column of the confusion matrix.
struct TaskScore {
  double accuracy = 0;
  double balanced_accuracy = 0;              // mean over the classes present of their recall
  std::vector<std::vector<long>> confusion;  // [true][decided]
  long ties = 0;                             // decisions outside the classes (ties, failures)
  long clips = 0;
};
TaskScore task_score(const std::vector<int>& decisions, const std::vector<std::int64_t>& labels,
                     size_t n_classes);

}  // namespace bmru::core
