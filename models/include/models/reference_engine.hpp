#pragma once
// The discrete-time reference engine of a first-quadrant BMRU network (DESIGN.md section 1), on
// Eigen, over a batch of sequences at once.
#include <string>
#include <vector>

#include "core/dataset_file.hpp"
#include "core/frame.hpp"
#include "core/network.hpp"

namespace bmru::models {

using core::Index;
using core::Matrix;

class ReferenceEngine final : public core::FrameEngine {
 public:
  // Validates the network (InputError listing every problem).
  explicit ReferenceEngine(core::Network net);

  std::string name() const override { return "sw"; }
  void reset(Index batch) override;
  void step(const Matrix& x, core::Frame& out) override;

  // States h_{k-1} [B, d] of layer `layer` (0-based); resync mode overwrites them with hardware
  // states before the next step (DESIGN.md section 4).
  const Matrix& state(Index layer) const { return h_[static_cast<size_t>(layer)]; }
  void set_state(Index layer, const Matrix& h);

  const core::Network& network() const { return net_; }

  // Noise currents on the candidates of the next step only (model units), per layer [B, d]: added
  // before the cut at zero, as at the candidate's summing node (issue 21).
  void set_candidate_noise(std::vector<Matrix> noise) { noise_ = std::move(noise); }
  // The non-bistable baseline of issue 21: every cell a leaky integrator of its candidate,
  // h_t = a h_{t-1} + (1 - a) c_t (a in [0, 1)), in place of the hysteresis. Its initial state is
  // the cell's initial BMRU state.
  void set_leaky(double a);
  bool leaky() const { return leak_ >= 0; }

 private:
  core::Network net_;
  std::vector<core::CellConstants> cells_;
  std::vector<Matrix> h_;  // per layer [B, d]
  Matrix u_;               // residual stream [B, d]
  Matrix a_;               // ReLU of the stream [B, d]
  std::vector<Matrix> noise_;
  double leak_ = -1;  // >= 0: leaky cells
};

// Runs one sequence x [N, n_in] from the initial states and returns its N frames (batch 1).
std::vector<core::Frame> run_sequence(const core::Network& net, const Matrix& x);

// Every frame's logits [frames, n_out] of the clips `which` of a dataset, stepped as one batch.
std::vector<Matrix> dataset_logits(const core::Network& net, const core::Dataset& data,
                                   const std::vector<Index>& which);

}  // namespace bmru::models
