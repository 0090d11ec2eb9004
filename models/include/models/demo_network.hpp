#pragma once
// The built-in demo network: the keyword-spotting shape (13 inputs, d = 4, L = 2, 2 outputs),
// generated from a seed, inside the realisable range, with thresholds placed so that every cell is
// exercised on the default random inputs (see DemoTargets).
#include <cstdint>
#include <vector>

#include "core/network.hpp"
#include "core/stimuli.hpp"

namespace bmru::models {

inline constexpr std::uint64_t kDemoSeed = 1;

// How much one cell is exercised over a set of sequences.
// How close a candidate may come to a threshold and still count as clear of it (model units):
// above the circuit's analog error (about 1 % of the unit current).
inline constexpr double kThresholdMargin = 0.015;

struct CellExercise {
  double band_share = 0;            // share of frames with beta_lo <= c <= beta_hi
  double lo_crossings_per_100 = 0;  // changes of [c < beta_lo] between frames, per 100 frames
  double hi_crossings_per_100 = 0;  // changes of [c > beta_hi] between frames, per 100 frames
  double state_changes_per_100 = 0;
  double near_threshold_share = 0;  // share of frames with c within kThresholdMargin of a threshold
};

struct DemoTargets {
  double band_share_min = 0.20;
  double crossings_min_per_100 = 3.0;
  double near_threshold_max = 0.05;  // no point mass of the candidate on a threshold
};

// [layer][cell] exercise of the network on every sequence of `source`.
std::vector<std::vector<CellExercise>> exercise(const core::Network& net,
                                                core::StimulusSource& source);

// Places every cell's thresholds on its candidate's distribution over `inputs`, layer by layer
// (a layer's candidates depend only on the layers before it): the band spans the 35-70 % quantiles,
// each threshold on the 0.01 grid and moved (by at most 0.05) off values the candidate takes on
// many frames; beta_lo at least 0.1.
void place_thresholds(core::Network& net, core::StimulusSource& inputs);

// The demo network for `seed`. Deterministic; throws bmru::Error if no draw meets the targets.
core::Network demo_network(std::uint64_t seed = kDemoSeed);

// The inputs the demo is tuned on: the defaults of `bmru simulate` (8 x 101 frames, seed 1).
core::RandomStimulusSpec demo_inputs();

}  // namespace bmru::models
