#pragma once
// The metrics of DESIGN.md section 5, defined once: the comparison of a measured engine ("hw", or
// "ct") against a reference ("sw"), frame by frame, in model units (hardware currents divided by
// the unit current). Accumulates sums only: memory does not grow with the number of frames.
//
//   state agreement   share of (sequence, frame, cell) with [hw > alpha/2] == [sw > 0]
//   candidate NRMSE   RMS(hw - sw) / beta_hi       state NRMSE   RMS(hw - sw) / alpha
//   output NRMSE      RMS(hw - sw) / RMS(sw)       logit NRMSE   RMS(hw - sw) / RMS(sw)
//   correlation       Pearson over every frame of every sequence; a constant trace gives NaN
//   pooled NRMSE      RMS over cells of the per-cell figures
//   decision agreement  share of complete sequences whose decisions are equal (tie = -1; tie vs
//                     tie agrees); NaN when no sequence is complete
//   first divergence  per sequence the first frame where any cell's state differs (-1 if none); the
//                     scalar is the earliest over sequences (-1 if none)
//   switching latency for each software transition at frame k, the first hardware crossing of
//                     alpha/2 in [kT, (k+1)T) minus kT; median and maximum; transitions without a
//                     matching crossing, and extra hardware crossings, are counted
#include <vector>

#include "core/frame.hpp"
#include "core/network.hpp"
#include "core/vote.hpp"

namespace bmru::core {

struct SignalMetrics {
  double nrmse = 0;
  double correlation = 0;  // NaN when either trace is constant
};

struct CellMetrics {
  double state_agreement = 0;
  SignalMetrics candidate, state, output;
};

struct SequenceMetrics {
  double state_agreement = 0;
  Index first_divergence = -1;
  Decision hw, sw;
};

struct Latency {
  double median_s = 0, max_s = 0;  // NaN when no transition was matched
  Index matched = 0, unmatched = 0, extra_crossings = 0;
};

// The hardware crossings of alpha/2 by one cell's output within one frame.
struct Crossings {
  Index count = 0;
  double first_offset_s = -1;  // time of the first crossing minus the frame start; -1 if none
};

struct Metrics {
  Latency latency;
  std::vector<std::vector<CellMetrics>> cells;  // [layer][cell]
  std::vector<SignalMetrics> logits;            // [class]
  std::vector<SequenceMetrics> sequences;
  double state_agreement = 0;
  double candidate_nrmse = 0, state_nrmse = 0, output_nrmse = 0, logit_nrmse = 0;
  double decision_agreement = 0;
  Index first_divergence = -1;
  Index constant_traces = 0;  // correlations that are NaN because a trace is constant
};

class Comparator {
 public:
  // Scales (beta_hi, alpha) come from the network; `sequences` fixes the per-sequence figures.
  Comparator(const Network& net, Index sequences);

  using CrossingRows = std::vector<std::vector<Crossings>>;
  // Frame k of sequence s; both frames have batch 1 and are in model units. `crossings`: the
  // measured engine's crossings of alpha/2 in that frame, [layer][cell], for the latencies.
  void add(Index s, Index k, const Frame& measured, const Frame& reference,
           const CrossingRows* crossings = nullptr);
  void set_decisions(Index s, const Decision& measured, const Decision& reference);
  // A sequence that did not run to its end (a failed simulation): its frames count where they
  // were compared, its decisions do not (decision agreement is over complete sequences only).
  void set_incomplete(Index s);
  Metrics result() const;

 private:
  void add_crossings(Index s, const CrossingRows& crossings);
  // Running moments of one signal pair (hw, sw) for NRMSE and Pearson correlation: Welford's
  // updates within a sequence (numerically stable), merged over sequences in sequence order at the
  // end (Chan et al.), so the figures do not depend on the order frames arrive from the workers.
  struct Moments {
    double n = 0, mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0, md = 0, sdd = 0;
    void add(double hw, double sw);
    void merge(const Moments& o);
    SignalMetrics metrics(double scale) const;  // scale <= 0: RMS(sw)
  };
  struct CellMoments {
    Moments candidate, state, output;
  };
  struct Cell {
    double agree = 0, frames = 0;
  };
  std::vector<CellConstants> k_;
  std::vector<std::vector<Cell>> cells_;                        // [layer][cell]
  std::vector<std::vector<std::vector<CellMoments>>> moments_;  // [sequence][layer][cell]
  std::vector<std::vector<Moments>> logits_;                    // [sequence][class]
  std::vector<double> seq_agree_, seq_frames_;
  std::vector<Index> first_divergence_;
  std::vector<Decision> hw_decision_, sw_decision_;
  std::vector<bool> incomplete_;
  // Software states of the previous frame per sequence [layer][cell] (transitions), and latencies.
  std::vector<std::vector<std::vector<double>>> last_sw_;
  std::vector<std::vector<std::vector<double>>> this_sw_;
  std::vector<double> latencies_;
  Index unmatched_ = 0, extra_ = 0;
};

}  // namespace bmru::core
