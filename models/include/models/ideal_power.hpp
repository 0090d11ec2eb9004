#pragma once
// The power a current-mode realisation of a network cannot go below (issue 14): VDD times the mean
// over frames of the currents the model itself defines, each counted once, and no reference
// branches. Per block:
//   cells        each cell's I_thresh = beta_hi (always) plus I_width = beta_hi - beta_lo and
//                I_gain = alpha while it is on, and its output alpha s;
//   feedforward  the positive and negative parts of the pre-projection and of the logits (the two
//                lines of each signed sum), the layer inputs after their ReLU, the candidates (cut
//                at zero, as their summing node does), the post-projection outputs and the skip
//                copies of the residual stream;
//   bias         none: an ideal design spends nothing on making its bias currents.
// The skip copies are the definition. The generated circuit has none (its residual stream
// is a bundle of lines, circuit_graph.hpp), so its feed-forward block can read below this ideal.
#include <vector>

#include "core/network.hpp"
#include "core/power.hpp"

namespace bmru::models {

// Mean over every frame of every sequence x [N, n_in] (model units), in watts.
core::PowerByBlock ideal_power(const core::Network& net, const std::vector<core::Matrix>& x,
                               double vdd_v);

}  // namespace bmru::models
