// The hardware-aware projection: each parameter moved to its nearest realisable value.
#include <algorithm>
#include <cmath>

#include "train/trainer.hpp"

namespace bmru::train {
namespace {

// Nearest point of {0} u [lo, hi] in magnitude, sign kept.
double nearest_with_zero(double v, double lo, double hi) {
  const double m = std::abs(v);
  if (m == 0) return 0;
  double r = m;
  if (m < lo) r = m < lo / 2 ? 0 : lo;
  if (m > hi) r = hi;
  return std::copysign(r, v);
}

double with_sign_of(double magnitude, double v) {
  return std::copysign(magnitude, v);
}

}  // namespace

long project(core::Network& net, const models::RealisableRange& r) {
  const double u = net.unit_current_a;
  long moved = 0;
  const auto set = [&](double& x, double v) {
    if (v != x) ++moved;
    x = v;
  };
  core::for_each_parameter_kind(
      net,
      [&](const std::string&, core::Matrix& w) {
        for (core::Index i = 0; i < w.size(); ++i)
          set(w.data()[i], nearest_with_zero(w.data()[i], r.weight_min, r.weight_max));
      },
      [&](const std::string&, core::Vector& b) {
        for (core::Index i = 0; i < b.size(); ++i)
          set(b(i), nearest_with_zero(b(i), r.bias_min_a / u, r.bias_max_a / u));
      },
      [&](const std::string&, core::Layer& layer) {
        const double lo = r.level_min_a / u, hi = r.level_max_a / u;
        for (core::Index i = 0; i < layer.d(); ++i) {
          set(layer.alphas(i),
              with_sign_of(std::clamp(std::abs(layer.alphas(i)), lo, hi), layer.alphas(i)));
          // beta_hi = |beta1| + |delta| within the levels, scaling both parts; then the band
          // |delta| between the narrowest (3 % + 5 pA) and band_rel_max of beta_hi, beta_hi kept.
          double b1 = std::abs(layer.beta1(i)), dl = std::abs(layer.delta(i));
          const double hi_now = b1 + dl;
          if (hi_now >= lo && hi_now <= hi && dl <= r.band_rel_max * hi_now &&
              dl >= r.width_rel_min * hi_now + r.width_abs_min_a / u)
            continue;  // realisable as it is
          const double b_hi = std::clamp(b1 + dl, lo, hi);
          if (b1 + dl > 0) {
            const double k = b_hi / (b1 + dl);
            b1 *= k;
            dl *= k;
          } else {
            b1 = b_hi;
          }
          const double narrowest = r.width_rel_min * b_hi + r.width_abs_min_a / u;
          dl = std::clamp(dl, std::min(narrowest, r.band_rel_max * b_hi), r.band_rel_max * b_hi);
          b1 = b_hi - dl;
          set(layer.beta1(i), with_sign_of(b1, layer.beta1(i)));
          set(layer.delta(i), with_sign_of(dl, layer.delta(i)));
        }
      });
  return moved;
}

}  // namespace bmru::train
