#include "models/ideal_power.hpp"

#include <algorithm>

#include "models/reference_engine.hpp"

namespace bmru::models {
namespace {

using core::Index;

// A signed sum as the circuit builds it: the positive contributions on one line, the negative on
// the other.
struct Lines {
  core::Vector pos, neg;
};

// x K + b of a signed input (pos, neg) into a pair destination: a weight w copies |w| of the
// input's pos line to the destination's pos line (w > 0) or neg line (w < 0), and its neg line the
// other way; a bias goes to the line of its sign.
Lines pair_sum(const Lines& in, const core::Matrix& k, const core::Vector& b) {
  Lines out{core::Vector::Zero(k.cols()), core::Vector::Zero(k.cols())};
  for (Index j = 0; j < k.cols(); ++j) {
    for (Index i = 0; i < k.rows(); ++i) {
      const double w = k(i, j), a = std::abs(w);
      (w > 0 ? out.pos : out.neg)(j) += a * in.pos(i);
      (w > 0 ? out.neg : out.pos)(j) += a * in.neg(i);
    }
    (b(j) > 0 ? out.pos : out.neg)(j) += std::abs(b(j));
  }
  return out;
}

double cut(double v) {
  return std::max(v, 0.0);
}

}  // namespace

core::PowerByBlock ideal_power(const core::Network& net, const std::vector<core::Matrix>& x,
                               double vdd_v) {
  std::vector<core::CellConstants> cells;
  for (const auto& layer : net.layers) cells.push_back(core::cell_constants(layer));
  double cell_units = 0, ff_units = 0;
  long long frames = 0;
  for (const core::Matrix& xs : x) {
    const std::vector<core::Frame> f = run_sequence(net, xs);
    for (Index t = 0; t < xs.rows(); ++t, ++frames) {
      const core::Frame& fr = f[static_cast<size_t>(t)];
      Lines in{xs.row(t).transpose().cwiseMax(0.0), (-xs.row(t).transpose()).cwiseMax(0.0)};
      Lines u = pair_sum(in, net.pre_proj.kernel, net.pre_proj.bias);
      ff_units += u.pos.sum() + u.neg.sum();
      for (size_t l = 0; l < net.layers.size(); ++l) {
        const core::Layer& L = net.layers[l];
        const core::CellConstants& k = cells[l];
        const core::LayerFrame& lf = fr.layers[l];
        const core::Vector a = (u.pos - u.neg).cwiseMax(0.0);
        ff_units += a.sum();
        for (Index i = 0; i < L.d(); ++i) {
          ff_units += cut(lf.candidate(0, i));
          const double s = lf.state(0, i);  // alpha s
          const bool on = s > 0;
          cell_units += k.beta_hi(i) + (on ? (k.beta_hi(i) - k.beta_lo(i)) + k.alpha(i) : 0.0) + s;
        }
        const core::Vector p =
            (L.post.kernel.transpose() * lf.state.row(0).transpose() + L.post.bias).cwiseMax(0.0);
        // The next residual stream: p + u+ on its pos line, u- on its neg line (the skip copies).
        ff_units += p.sum() + u.pos.sum() + u.neg.sum();
        u.pos += p;
      }
      const Lines y = pair_sum(u, net.fc.kernel, net.fc.bias);
      ff_units += y.pos.sum() + y.neg.sum();
    }
  }
  core::PowerByBlock w;
  if (frames == 0) return w;
  const double scale = vdd_v * net.unit_current_a / static_cast<double>(frames);
  w[core::PowerBlock::cells] = cell_units * scale;
  w[core::PowerBlock::feedforward] = ff_units * scale;
  w[core::PowerBlock::bias] = 0;
  w[core::PowerBlock::total] = (cell_units + ff_units) * scale;
  return w;
}

}  // namespace bmru::models
