#include "models/reference_engine.hpp"

#include "core/errors.hpp"

namespace bmru::models {

ReferenceEngine::ReferenceEngine(core::Network net) : net_(std::move(net)) {
  core::validate(net_);
  for (const auto& layer : net_.layers) cells_.push_back(core::cell_constants(layer));
  reset(1);
}

void ReferenceEngine::reset(Index batch) {
  h_.clear();
  for (const auto& c : cells_) h_.push_back(c.h_init.transpose().replicate(batch, 1));
}

void ReferenceEngine::set_state(Index layer, const Matrix& h) {
  Matrix& target = h_.at(static_cast<size_t>(layer));
  if (h.rows() != target.rows() || h.cols() != target.cols())
    throw bmru::InputError("State for layer " + std::to_string(layer + 1) + " has shape [" +
                           std::to_string(h.rows()) + "," + std::to_string(h.cols()) +
                           "], expected [" + std::to_string(target.rows()) + "," +
                           std::to_string(target.cols()) + "]");
  target = h;
}

void ReferenceEngine::step(const Matrix& x, core::Frame& out) {
  const Index batch = x.rows();
  if (x.cols() != net_.n_in())
    throw bmru::InputError(
        "Input frame has " + std::to_string(x.cols()) +
        " values per sequence, the network takes n_in = " + std::to_string(net_.n_in()));
  if (batch != h_.front().rows()) reset(batch);
  out.layers.resize(h_.size());

  // u_0 = x K_in + b_in
  u_.noalias() = x * net_.pre_proj.kernel;
  u_.rowwise() += net_.pre_proj.bias.transpose();
  for (size_t l = 0; l < h_.size(); ++l) {
    const core::Layer& layer = net_.layers[l];
    const core::CellConstants& k = cells_[l];
    core::LayerFrame& f = out.layers[l];
    a_ = u_.cwiseMax(0.0);
    // c_t = ReLU(a K_c + b_c)
    f.candidate.noalias() = a_ * layer.candidate.kernel;
    f.candidate.rowwise() += layer.candidate.bias.transpose();
    if (l < noise_.size() && noise_[l].rows() == batch && noise_[l].cols() == f.candidate.cols())
      f.candidate += noise_[l];
    f.candidate = f.candidate.cwiseMax(0.0);
    Matrix& h = h_[l];
    if (leak_ >= 0) {
      h = leak_ * h + (1 - leak_) * f.candidate;
    } else {
      // Force high above beta_hi, low below beta_lo, hold in the closed band [beta_lo, beta_hi].
      for (Index j = 0; j < h.cols(); ++j)
        for (Index b = 0; b < batch; ++b) {
          const double c = f.candidate(b, j);
          if (c > k.beta_hi(j))
            h(b, j) = k.alpha(j);
          else if (c < k.beta_lo(j))
            h(b, j) = 0.0;
        }
    }
    f.state = h;
    // u_l = ReLU(h K_p + b_p) + u_{l-1}
    f.output.noalias() = h * layer.post.kernel;
    f.output.rowwise() += layer.post.bias.transpose();
    f.output = f.output.cwiseMax(0.0) + u_;
    u_ = f.output;
  }
  out.logits.noalias() = u_ * net_.fc.kernel;
  out.logits.rowwise() += net_.fc.bias.transpose();
  noise_.clear();
}

void ReferenceEngine::set_leaky(double a) {
  if (!(a >= 0 && a < 1))
    throw bmru::InputError("A leaky cell's a must lie in [0, 1), not " + std::to_string(a));
  leak_ = a;
}

std::vector<core::Frame> run_sequence(const core::Network& net, const Matrix& x) {
  ReferenceEngine engine(net);
  engine.reset(1);
  std::vector<core::Frame> frames(static_cast<size_t>(x.rows()));
  for (Index k = 0; k < x.rows(); ++k) engine.step(x.row(k), frames[static_cast<size_t>(k)]);
  return frames;
}

std::vector<Matrix> dataset_logits(const core::Network& net, const core::Dataset& data,
                                   const std::vector<Index>& which) {
  std::vector<Matrix> logits(which.size(), Matrix(data.frames, net.n_out()));
  if (which.empty()) return logits;
  ReferenceEngine engine(net);
  const auto B = static_cast<Index>(which.size());
  engine.reset(B);
  Matrix x(B, data.features);
  core::Frame frame;
  for (Index t = 0; t < data.frames; ++t) {
    data.frame_of(which, t, x);
    engine.step(x, frame);
    for (Index b = 0; b < B; ++b) logits[static_cast<size_t>(b)].row(t) = frame.logits.row(b);
  }
  return logits;
}

}  // namespace bmru::models
