#pragma once
// A fixture that looks trained (issue 14): a seeded random network of the published keyword
// shape (13 inputs, d = 4, two layers of 4 cells, 2 outputs, 1 nA per model unit) whose
// - weights come from N(0, 0.5^2), so many lie below 0.1;
// - biases are log-uniform over 1 pA - 3 nA with a random sign;
// - hysteresis bands span 2 - 98 % of beta_hi;
// - thresholds are placed, layer by layer on the given inputs, so that every cell switches at
//   least 3 times per 100 frames in the behavioural run.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/network.hpp"
#include "models/reference_engine.hpp"

namespace bmru::test {

// Switches of a hysteretic cell (initially `on`) over candidates c with levels lo < hi.
inline int switches(const std::vector<double>& c, double lo, double hi, bool on) {
  int n = 0;
  for (double v : c) {
    const bool next = on ? v >= lo : v > hi;
    n += next != on;
    on = next;
  }
  return n;
}

inline core::Network trained_like_network(std::uint64_t seed, const std::vector<core::Matrix>& x) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> weight(0.0, 0.5);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double u = 1e-9;
  const auto bias = [&] {  // log-uniform 1 pA - 3 nA, random sign, in model units
    const double a = 1e-12 * std::pow(3e-9 / 1e-12, unit(rng)) / u;
    return unit(rng) < 0.5 ? -a : a;
  };
  const auto projection = [&](core::Index in, core::Index out) {
    core::Projection p{core::Matrix(in, out), core::Vector(out)};
    for (core::Index i = 0; i < in; ++i)
      for (core::Index j = 0; j < out; ++j) p.kernel(i, j) = weight(rng);
    for (core::Index j = 0; j < out; ++j) p.bias(j) = bias();
    return p;
  };
  const core::Index n_in = 13, d = 4, n_out = 2;
  core::Network net;
  net.unit_current_a = u;
  net.pre_proj = projection(n_in, d);
  for (int l = 0; l < 2; ++l) {
    core::Layer L;
    L.alphas = core::Vector(d);
    L.beta1 = core::Vector::Constant(d, 0.5);
    L.delta = core::Vector::Constant(d, 0.5);
    L.initial_state = core::Vector(d);
    for (core::Index i = 0; i < d; ++i) {
      L.alphas(i) = 0.5 + unit(rng);  // 0.5 - 1.5 nA
      L.initial_state(i) = unit(rng) < 0.5 ? 1.0 : 0.0;
    }
    L.candidate = projection(d, d);
    L.post = projection(d, d);
    net.layers.push_back(L);
  }
  net.fc = projection(d, n_out);
  // Thresholds, layer by layer: the candidates of layer l do not depend on its own cells.
  std::vector<std::vector<int>> bumps(net.layers.size(), std::vector<int>(static_cast<size_t>(d)));
  // Bands spread over 2 - 98 % of beta_hi, both ends included, in a seeded order over the cells.
  std::vector<double> band;
  const size_t cells = net.layers.size() * static_cast<size_t>(d);
  for (size_t c = 0; c < cells; ++c)
    band.push_back(0.02 + 0.96 * static_cast<double>(c) / static_cast<double>(cells - 1));
  std::shuffle(band.begin(), band.end(), rng);
  for (size_t l = 0; l < net.layers.size(); ++l) {
    std::vector<std::vector<double>> cand(static_cast<size_t>(d));
    std::vector<std::vector<std::vector<double>>> per_seq(x.size());
    for (size_t s = 0; s < x.size(); ++s) {
      per_seq[s].resize(static_cast<size_t>(d));
      for (const auto& f : models::run_sequence(net, x[s]))
        for (core::Index i = 0; i < d; ++i) {
          cand[static_cast<size_t>(i)].push_back(f.layers[l].candidate(0, i));
          per_seq[s][static_cast<size_t>(i)].push_back(f.layers[l].candidate(0, i));
        }
    }
    core::Layer& L = net.layers[l];
    auto& bumped = bumps[l];
    bool again = false;
    for (core::Index i = 0; i < d && !again; ++i) {
      std::vector<double> sorted = cand[static_cast<size_t>(i)];
      std::sort(sorted.begin(), sorted.end());
      const double frames = static_cast<double>(sorted.size());
      double best_hi = 0, best_f = 0;
      int best = -1;
      {
        const double f = band[l * static_cast<size_t>(d) + static_cast<size_t>(i)];
        for (int q = 5; q <= 95; q += 5) {
          const double hi = sorted[static_cast<size_t>(q * (sorted.size() - 1) / 100)];
          if (hi * u < 150e-12 || hi * u > 4e-9) continue;  // levels the cell realises
          int n = 0;
          for (const auto& seq : per_seq)
            n += switches(seq[static_cast<size_t>(i)], (1 - f) * hi, hi, L.initial_state(i) > 0.5);
          // The least active placement that still switches 3 times per 100 frames.
          if (n >= 3.0 * frames / 100 && (best < 0 || n < best)) best = n, best_hi = hi, best_f = f;
        }
      }
      if (best < 0 && bumped[static_cast<size_t>(i)]++ < 3) {
        // A candidate too weak to switch: a larger bias moves it into the cell's range (the
        // layer's candidates are computed again).
        L.candidate.bias(i) += 1.0;
        again = true;
        continue;
      }
      if (best < 0) best_hi = sorted[sorted.size() / 2], best_f = 0.5;
      L.delta(i) = best_f * best_hi;
      L.beta1(i) = best_hi - L.delta(i);
    }
    if (again) --l;  // this layer once more (unsigned wrap-around is defined; ++l restores it)
  }
  return net;
}

}  // namespace bmru::test
