#pragma once
// The suppression of noise at a cell boundary (noise.cpp; issue 21). Private to experiments.
#include <cmath>
#include <utility>
#include <vector>

namespace bmru::experiments {

struct CellSuppression {
  double candidate_deviation = 0, state_deviation = 0;  // relative RMS (/ beta_hi, / alpha)
  double factor = std::nan("");
  bool is_bound = false;
  long long flips = 0, frames = 0;
};

// One cell over matched frames of the noiseless and the noisy run (NaN frames skipped).
// `discrete`: a BMRU cell, whose state counts as moved only when it flips (h vs alpha / 2).
CellSuppression suppression(const std::vector<double>& c_clean, const std::vector<double>& c_noisy,
                            const std::vector<double>& h_clean, const std::vector<double>& h_noisy,
                            double beta_hi, double alpha, bool discrete);

// The factor of a cell whose deviations, flips and frames are set: their ratio, or the bound one
// flipped frame among `frames` allows when the state never moved; NaN without candidate deviation.
void settle(CellSuppression& cell, bool discrete);

// The median factor over the cells with one, and whether it is a lower bound.
std::pair<double, bool> median_suppression(const std::vector<CellSuppression>& cells);

}  // namespace bmru::experiments
