#include "models/demo_network.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

#include "core/driver.hpp"
#include "core/errors.hpp"
#include "models/realisable_range.hpp"
#include "models/reference_engine.hpp"

namespace bmru::models {
namespace {

using core::Network;
using core::Projection;
using core::Vector;
using Rng = boost::random::mt19937_64;

double uniform(Rng& rng, double lo, double hi) {
  return boost::random::uniform_real_distribution<double>(lo, hi)(rng);
}
bool coin(Rng& rng, double p) {
  return boost::random::bernoulli_distribution<double>(p)(rng);
}

// Each output takes `fan_in` random inputs with |w| in [lo, hi]; a positive sign with probability
// p_pos. Magnitudes are rounded to 0.01 so the file reads like a hand-written network.
Matrix sparse_kernel(Rng& rng, Index in, Index out, Index fan_in, double lo, double hi,
                     double p_pos) {
  Matrix k = Matrix::Zero(in, out);
  for (Index j = 0; j < out; ++j) {
    std::vector<Index> rows(static_cast<size_t>(in));
    for (Index i = 0; i < in; ++i) rows[static_cast<size_t>(i)] = i;
    for (Index n = 0; n < std::min(fan_in, in); ++n) {
      const auto pick = boost::random::uniform_int_distribution<size_t>(static_cast<size_t>(n),
                                                                        rows.size() - 1)(rng);
      std::swap(rows[static_cast<size_t>(n)], rows[pick]);
      const double w = std::round(uniform(rng, lo, hi) * 100) / 100;
      k(rows[static_cast<size_t>(n)], j) = coin(rng, p_pos) ? w : -w;
    }
  }
  return k;
}

Vector bias_vector(Rng& rng, Index n, double lo, double hi, double p_pos, double p_zero) {
  Vector b(n);
  for (Index i = 0; i < n; ++i) {
    const double v = std::round(uniform(rng, lo, hi) * 100) / 100;
    b(i) = coin(rng, p_zero) ? 0.0 : (coin(rng, p_pos) ? v : -v);
  }
  return b;
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

// Share of the values in `c` within kThresholdMargin of v.
double near_share(const std::vector<double>& c, double v) {
  long long n = 0;
  for (double x : c) n += std::abs(x - v) < kThresholdMargin;
  return c.empty() ? 0.0 : static_cast<double>(n) / static_cast<double>(c.size());
}

// The threshold on the 0.01 grid, at least `floor`, within 0.05 of `around`, with the fewest
// candidates within kThresholdMargin (ties: the nearest to `around`). A quantile can land on a
// value the candidate takes on many frames (c = its bias whenever its inputs are all zero); such
// a threshold would leave those frames to the sign of a sub-percent analog error in every
// comparison with a circuit.
double clear_threshold(const std::vector<double>& c, double around, double floor) {
  double best = std::max(floor, around), best_share = 2;
  for (int k = -5; k <= 5; ++k) {
    const double v = std::round((around + 0.01 * k) * 100) / 100;
    if (v < floor - 1e-12) continue;
    const double share = near_share(c, v);
    if (share < best_share - 1e-12 ||
        (std::abs(share - best_share) <= 1e-12 && std::abs(v - around) < std::abs(best - around))) {
      best = v;
      best_share = share;
    }
  }
  return best;
}

// Candidates of layer `l` for every sequence and frame of `source`, per cell.
std::vector<std::vector<double>> candidates(const Network& net, size_t l,
                                            core::StimulusSource& source) {
  std::vector<std::vector<double>> per_cell(static_cast<size_t>(net.d()));
  ReferenceEngine engine(net);
  core::run_batch(engine, source, 64,
                  [&](Index, const std::vector<Matrix>&, const std::vector<core::Frame>& frames) {
                    for (const auto& f : frames)
                      for (Index b = 0; b < f.batch(); ++b)
                        for (Index i = 0; i < net.d(); ++i)
                          per_cell[static_cast<size_t>(i)].push_back(f.layers[l].candidate(b, i));
                  });
  return per_cell;
}

Network draw(Rng& rng, core::StimulusSource& inputs) {
  const Index n_in = 13, d = 4, n_layers = 2, n_out = 2;
  Network net;
  net.unit_current_a = 1e-9;
  net.pre_proj = {sparse_kernel(rng, n_in, d, 4, 0.15, 0.45, 0.5),
                  bias_vector(rng, d, 0.1, 0.3, 0.5, 0.25)};
  for (Index l = 0; l < n_layers; ++l) {
    core::Layer layer;
    layer.alphas =
        Vector::NullaryExpr(d, [&] { return std::round(uniform(rng, 0.6, 1.2) * 100) / 100; });
    layer.initial_state = Vector::NullaryExpr(d, [&] { return coin(rng, 0.5) ? 1.0 : 0.0; });
    layer.candidate = {sparse_kernel(rng, d, d, 3, 0.3, 1.2, 0.7),
                       bias_vector(rng, d, 0.2, 0.6, 1.0, 0.0)};
    layer.post = {sparse_kernel(rng, d, d, 2, 0.2, 0.8, 0.5),
                  bias_vector(rng, d, 0.1, 0.3, 0.5, 0.5)};
    // Provisional thresholds; the real ones come from this layer's candidate distribution below.
    layer.beta1 = Vector::Constant(d, 0.5);
    layer.delta = Vector::Constant(d, 0.2);
    net.layers.push_back(layer);
  }
  net.fc = {sparse_kernel(rng, d, n_out, d, 0.2, 1.0, 0.5), Vector::Zero(n_out)};

  place_thresholds(net, inputs);
  return net;
}

bool meets(const Network& net, core::StimulusSource& inputs, const DemoTargets& t) {
  if (!core::problems(net).empty() || !range_problems(net).empty()) return false;
  for (const auto& layer : exercise(net, inputs))
    for (const auto& cell : layer)
      if (cell.band_share < t.band_share_min ||
          cell.lo_crossings_per_100 < t.crossings_min_per_100 ||
          cell.hi_crossings_per_100 < t.crossings_min_per_100 ||
          cell.near_threshold_share > t.near_threshold_max)
        return false;
  return true;
}

}  // namespace

void place_thresholds(Network& net, core::StimulusSource& inputs) {
  const Index d = net.d();
  // Layer l's candidates depend only on the states of layers before it: place thresholds in order.
  // The band [beta_lo, beta_hi] spans the 35-70 % quantiles of the candidate, so the cell holds on
  // about a third of the frames and crosses both thresholds often; each threshold is then moved
  // (by at most 0.05) off values the candidate takes on many frames (clear_threshold).
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const auto c = candidates(net, l, inputs);
    auto& layer = net.layers[l];
    for (Index i = 0; i < d; ++i) {
      const auto& ci = c[static_cast<size_t>(i)];
      const double lo = clear_threshold(ci, std::round(quantile(ci, 0.35) * 100) / 100, 0.1);
      const double hi =
          clear_threshold(ci, std::round(quantile(ci, 0.70) * 100) / 100, lo * 1.03 + 0.02);
      layer.beta1(i) = lo;
      layer.delta(i) = std::round((hi - lo) * 100) / 100;
    }
  }
}

core::RandomStimulusSpec demo_inputs() {
  return {8, 101, 13, 1};
}

std::vector<std::vector<CellExercise>> exercise(const Network& net, core::StimulusSource& source) {
  const auto L = static_cast<size_t>(net.n_layers());
  const auto d = static_cast<size_t>(net.d());
  std::vector<core::CellConstants> k;
  for (const auto& layer : net.layers) k.push_back(core::cell_constants(layer));
  struct Count {
    long long band = 0, lo = 0, hi = 0, flips = 0, near = 0;
  };
  std::vector<std::vector<Count>> n(L, std::vector<Count>(d));
  std::vector<Matrix> last_c(L), last_h(L);
  long long frames = 0;
  ReferenceEngine engine(net);
  core::run_batch(engine, source, 64,
                  [&](Index k0, const std::vector<Matrix>&, const std::vector<core::Frame>& block) {
                    for (size_t j = 0; j < block.size(); ++j) {
                      const auto& f = block[j];
                      const bool first = k0 == 0 && j == 0;
                      for (size_t l = 0; l < L; ++l) {
                        const Matrix& c = f.layers[l].candidate;
                        const Matrix& h = f.layers[l].state;
                        for (Index b = 0; b < f.batch(); ++b)
                          for (size_t i = 0; i < d; ++i) {
                            const auto ii = static_cast<Index>(i);
                            const double v = c(b, ii);
                            Count& cnt = n[l][i];
                            cnt.band += v >= k[l].beta_lo(ii) && v <= k[l].beta_hi(ii);
                            cnt.near += std::abs(v - k[l].beta_lo(ii)) < kThresholdMargin ||
                                        std::abs(v - k[l].beta_hi(ii)) < kThresholdMargin;
                            if (first) continue;
                            const double p = last_c[l](b, ii);
                            cnt.lo += (v < k[l].beta_lo(ii)) != (p < k[l].beta_lo(ii));
                            cnt.hi += (v > k[l].beta_hi(ii)) != (p > k[l].beta_hi(ii));
                            cnt.flips += h(b, ii) != last_h[l](b, ii);
                          }
                        last_c[l] = c;
                        last_h[l] = h;
                      }
                      frames += f.batch();
                    }
                  });
  std::vector<std::vector<CellExercise>> out(L, std::vector<CellExercise>(d));
  const double per100 = frames > 0 ? 100.0 / static_cast<double>(frames) : 0.0;
  for (size_t l = 0; l < L; ++l)
    for (size_t i = 0; i < d; ++i) {
      out[l][i].band_share = static_cast<double>(n[l][i].band) * per100 / 100.0;
      out[l][i].lo_crossings_per_100 = static_cast<double>(n[l][i].lo) * per100;
      out[l][i].hi_crossings_per_100 = static_cast<double>(n[l][i].hi) * per100;
      out[l][i].state_changes_per_100 = static_cast<double>(n[l][i].flips) * per100;
      out[l][i].near_threshold_share = static_cast<double>(n[l][i].near) * per100 / 100.0;
    }
  return out;
}

Network demo_network(std::uint64_t seed) {
  Rng rng(seed);
  auto inputs = core::random_stimuli(demo_inputs());
  for (int attempt = 0; attempt < 200; ++attempt) {
    Network net = draw(rng, *inputs);
    if (meets(net, *inputs, DemoTargets{})) return net;
  }
  throw bmru::Error("No demo network for seed " + std::to_string(seed) +
                    " meets the exercise targets after 200 draws; try another seed");
}

}  // namespace bmru::models
