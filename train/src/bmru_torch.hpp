#pragma once
// The BMRU network as libtorch tensors (private to train): one double tensor per parameter array
// in core::for_each_parameter's order, and the batched forward pass of DESIGN.md section 1.
#include <torch/torch.h>

#include <vector>

#include "core/network.hpp"

namespace bmru::train {

// Heaviside step [x > 0] going forward; the arctan surrogate a / (1 + (pi a x)^2) going back
// (the derivative of atan(pi a x) / pi + 1/2), a = sharpness. With soft > 0, the logistic
// sigmoid(soft x) both ways instead (annealed training, ForwardOptions::soft).
torch::Tensor heaviside(const torch::Tensor& x, double sharpness, double soft = 0);

// A copy of an Eigen matrix as a row-major [rows, cols] double tensor.
torch::Tensor to_tensor(const core::Matrix& m);

struct TorchNet {
  std::vector<torch::Tensor> params;  // for_each_parameter order, kDouble, requires_grad
  std::vector<std::string> fields;    // each one's field ("kernel", "alphas", ...)
  long n_layers = 0;
  double unit_current_a = 1e-9;
  std::vector<core::Attr> features;

  static TorchNet from_network(const core::Network& net);
  core::Network to_network() const;
};

struct ForwardOptions {
  bool training = false;
  double dropout = 0;  // on the cell outputs (into the post-projection), training only
  double sharpness = 1;
  // > 0: the cells' steps are sigmoid(soft x) instead of exact (the early epochs of
  // TrainOptions::anneal_epochs); 0: exact, with the surrogate derivative.
  double soft = 0;
  // Multiplicative factors on weights and biases (mismatch during training), one per parameter
  // tensor, or empty.
  std::vector<torch::Tensor> gains;
  // Also give the currents the model itself defines (ForwardOut::ideal_*).
  bool ideal = false;
};

struct ForwardOut {
  torch::Tensor logits;               // [B, N, n_out]
  std::vector<torch::Tensor> states;  // per layer [B, N, d]
  // With ForwardOptions::ideal: per frame [B, N], in model units, the currents models::ideal_power
  // counts (each once, no reference branch): the cells' (I_thresh always, I_width and I_gain while
  // on, and alpha s) and the feed-forward's (the pre-projection's and the logits' positive and
  // negative parts, each layer's ReLU outputs, candidates, post-projection outputs and skip
  // copies). Differentiable, so training can weigh power (TrainOptions::power_weight); the states
  // enter through the surrogate derivative.
  torch::Tensor ideal_cells, ideal_feedforward;
};

// x [B, N, n_in] (kDouble).
ForwardOut forward(const TorchNet& net, const torch::Tensor& x, const ForwardOptions& o);

}  // namespace bmru::train
