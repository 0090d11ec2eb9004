#include "models/scaling_network.hpp"

#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

#include "core/errors.hpp"
#include "models/demo_network.hpp"

namespace bmru::models {
namespace {

using core::Index;
using core::Matrix;
using core::Vector;
using Rng = boost::random::mt19937_64;

double magnitude(Rng& rng, double scale) {
  return boost::random::uniform_real_distribution<double>(0.1, 1.0)(rng) * scale;
}
double sign(Rng& rng, double p_pos) {
  return boost::random::bernoulli_distribution<double>(p_pos)(rng) ? 1.0 : -1.0;
}

// Every entry |w| from U(0.1, 1) x scale, positive with probability p_pos.
Matrix dense(Rng& rng, Index in, Index out, double scale, double p_pos) {
  Matrix k(in, out);
  for (Index j = 0; j < out; ++j)
    for (Index i = 0; i < in; ++i) k(i, j) = sign(rng, p_pos) * magnitude(rng, scale);
  return k;
}

}  // namespace

core::Network scaling_network(const ScalingShape& shape, ScalingFamily family, std::uint64_t seed,
                              core::StimulusSource& inputs) {
  if (shape.d < 1 || shape.layers < 1 || shape.n_in < 1 || shape.n_out < 1)
    throw InputError("A scaling network needs d, layers, n_in and n_out of at least 1");
  const Index d = shape.d;
  // Kernels whose fan-in is d: |w| x sqrt(4 / d) in the scaled family (the fixed one at d = 4).
  const double s = family == ScalingFamily::scaled ? std::sqrt(4.0 / static_cast<double>(d)) : 1.0;
  Rng rng(seed);
  boost::random::uniform_real_distribution<double> u01(0.0, 1.0);
  core::Network net;
  net.unit_current_a = shape.unit_current_a;
  net.pre_proj = {dense(rng, shape.n_in, d, 1.0, 0.5),
                  Vector::NullaryExpr(d, [&] { return 0.1 + 0.2 * u01(rng); })};
  for (Index l = 0; l < shape.layers; ++l) {
    core::Layer layer;
    layer.alphas = Vector::NullaryExpr(d, [&] { return 0.6 + 0.6 * u01(rng); });
    layer.initial_state = Vector::NullaryExpr(d, [&] { return u01(rng) < 0.5 ? 1.0 : 0.0; });
    // Mostly excitatory candidates (as the demo's), so that cells switch on at every d.
    layer.candidate = {dense(rng, d, d, s, 0.7),
                       Vector::NullaryExpr(d, [&] { return 0.2 + 0.4 * u01(rng); })};
    layer.post = {dense(rng, d, d, s, 0.5),
                  Vector::NullaryExpr(d, [&] { return sign(rng, 0.5) * (0.1 + 0.2 * u01(rng)); })};
    layer.beta1 = Vector::Constant(d, 0.5);  // provisional: placed on the candidates below
    layer.delta = Vector::Constant(d, 0.2);
    net.layers.push_back(layer);
  }
  net.fc = {dense(rng, d, shape.n_out, s, 0.5), Vector::Zero(shape.n_out)};
  place_thresholds(net, inputs);
  return net;
}

}  // namespace bmru::models
