#include "models/realisable_range.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

namespace bmru::models {
namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

struct Checker {
  const RealisableRange& r;
  double unit;
  std::vector<std::string> out;

  void weights(const std::string& field, const core::Matrix& k) {
    for (core::Index i = 0; i < k.rows(); ++i)
      for (core::Index j = 0; j < k.cols(); ++j) {
        const double w = std::abs(k(i, j));
        if (w != 0 && (w < r.weight_min || w > r.weight_max))
          out.push_back(field + "[" + std::to_string(i) + "," + std::to_string(j) +
                        "] = " + fmt(k(i, j)) + ": |w| must be 0 or within [" + fmt(r.weight_min) +
                        ", " + fmt(r.weight_max) + "]");
      }
  }
  void current(const std::string& field, core::Index i, double model_value, bool zero_ok) {
    const double a = std::abs(model_value) * unit;
    if (zero_ok && a == 0) return;
    if (a < r.bias_min_a || a > r.bias_max_a)
      out.push_back(field + "[" + std::to_string(i) + "] = " + fmt(model_value) + " (" + fmt(a) +
                    " A): bias currents must lie within [" + fmt(r.bias_min_a) + ", " +
                    fmt(r.bias_max_a) + "] A" + (zero_ok ? " or be 0" : ""));
  }
  void biases(const std::string& field, const core::Vector& b) {
    for (core::Index i = 0; i < b.size(); ++i) current(field, i, b(i), true);
  }
};

// The cells of one layer: levels within the bias range, bands at least the narrowest.
void cells(Checker& c, const core::Network& net, const std::string& name,
           const core::Layer& layer) {
  const RealisableRange& range = c.r;
  const auto k = core::cell_constants(layer);
  for (core::Index i = 0; i < k.alpha.size(); ++i) {
    c.current(name + ".alphas", i, k.alpha(i), false);
    c.current(name + ".beta_hi", i, k.beta_hi(i), false);
    const double width_a = (k.beta_hi(i) - k.beta_lo(i)) * net.unit_current_a;
    const double need_a =
        range.width_rel_min * k.beta_hi(i) * net.unit_current_a + range.width_abs_min_a;
    if (width_a < need_a)
      c.out.push_back(name + ".delta[" + std::to_string(i) + "] = " + fmt(layer.delta(i)) +
                      ": the hysteresis width " + fmt(width_a) + " A is below the smallest " +
                      "realisable " + fmt(need_a) + " A (3 % of I_thresh + 5 pA)");
  }
}

}  // namespace

namespace {
using core::Index;
std::string idx(const std::string& field, core::Index i) {
  return field + "[" + std::to_string(i) + "]";
}
std::string idx(const std::string& field, core::Index i, core::Index j) {
  return field + "[" + std::to_string(i) + "," + std::to_string(j) + "]";
}
}  // namespace

core::Network realise(const core::Network& net, const RealisableRange& r,
                      std::vector<ParameterChange>& changes) {
  core::Network out = net;
  const double u = net.unit_current_a;
  const auto drop_weights = [&](const std::string& field, core::Matrix& k) {
    for (core::Index i = 0; i < k.rows(); ++i)
      for (core::Index j = 0; j < k.cols(); ++j)
        if (k(i, j) != 0 && std::abs(k(i, j)) < r.weight_min) {
          changes.push_back({idx(field, i, j), k(i, j), 0.0});
          k(i, j) = 0;
        }
  };
  const auto drop_biases = [&](const std::string& field, core::Vector& b) {
    for (core::Index i = 0; i < b.size(); ++i)
      if (b(i) != 0 && std::abs(b(i)) * u < r.bias_min_a) {
        changes.push_back({idx(field, i), b(i), 0.0});
        b(i) = 0;
      }
  };
  // A band too narrow for the cell: the narrowest it realises, at the same beta_hi.
  const auto widen_bands = [&](const std::string& name, core::Layer& L) {
    for (core::Index i = 0; i < L.d(); ++i) {
      const double width = std::abs(L.delta(i)), b_hi = std::abs(L.beta1(i)) + width;
      const double narrowest = std::min(b_hi, r.width_rel_min * b_hi + r.width_abs_min_a / u);
      if (width >= narrowest) continue;
      changes.push_back({idx(name + ".delta", i), L.delta(i), narrowest});
      changes.push_back({idx(name + ".beta1", i), L.beta1(i), b_hi - narrowest});
      L.delta(i) = narrowest;
      L.beta1(i) = b_hi - narrowest;
    }
  };
  core::for_each_parameter_kind(out, drop_weights, drop_biases, widen_bands);
  return out;
}

core::Network clamp_to_range(const core::Network& net, const RealisableRange& r,
                             std::vector<ParameterChange>& changes) {
  core::Network out = net;
  const double u = net.unit_current_a;
  const auto note = [&](const std::string& field, double from, double to) {
    changes.push_back({field, from, to});
  };
  const auto weights = [&](const std::string& field, core::Matrix& k) {
    for (Index i = 0; i < k.rows(); ++i)
      for (Index j = 0; j < k.cols(); ++j) {
        const double w = k(i, j), a = std::abs(w);
        if (a == 0 || (a >= r.weight_min && a <= r.weight_max)) continue;
        if (a > r.clamp_reach * r.weight_max) continue;  // beyond any clamp: named, not rounded
        const double to = a < r.weight_min / 2
                              ? 0.0
                              : std::copysign(std::clamp(a, r.weight_min, r.weight_max), w);
        note(idx(field, i, j), w, to);
        k(i, j) = to;
      }
  };
  const double lo = r.bias_min_a / u, hi = r.bias_max_a / u;
  const auto biases = [&](const std::string& field, core::Vector& b) {
    for (Index i = 0; i < b.size(); ++i) {
      const double v = b(i), a = std::abs(v);
      if (a == 0 || (a >= lo && a <= hi) || a > r.clamp_reach * hi) continue;
      const double to = a < lo / 2 ? 0.0 : std::copysign(std::clamp(a, lo, hi), v);
      note(idx(field, i), v, to);
      b(i) = to;
    }
  };
  const auto cells = [&](const std::string& name, core::Layer& L) {
    for (Index i = 0; i < L.d(); ++i) {
      if (std::abs(L.alphas(i)) > r.clamp_reach * hi ||
          std::abs(L.beta1(i)) + std::abs(L.delta(i)) > r.clamp_reach * hi)
        continue;  // beyond any clamp: named, not rounded
      const double alpha = std::clamp(std::abs(L.alphas(i)), lo, hi);
      if (alpha != std::abs(L.alphas(i)))
        note(idx(name + ".alphas", i), L.alphas(i), alpha), L.alphas(i) = alpha;
      const double width = std::abs(L.delta(i)), b_hi = std::abs(L.beta1(i)) + width;
      const double new_hi = std::clamp(b_hi, lo, hi);
      const double new_width =
          std::clamp(width, r.width_rel_min * new_hi + r.width_abs_min_a / u, new_hi);
      if (new_hi == b_hi && new_width == width) continue;
      const double new_lo = new_hi - new_width;
      if (new_lo != std::abs(L.beta1(i)))
        note(idx(name + ".beta1", i), L.beta1(i), new_lo), L.beta1(i) = new_lo;
      if (new_width != width)
        note(idx(name + ".delta", i), L.delta(i), new_width), L.delta(i) = new_width;
    }
  };
  core::for_each_parameter_kind(out, weights, biases, cells);
  return out;
}

std::vector<std::string> range_problems(const core::Network& net, const RealisableRange& range) {
  Checker c{range, net.unit_current_a, {}};
  core::for_each_parameter_kind(
      net, [&](const std::string& path, const core::Matrix& k) { c.weights(path, k); },
      [&](const std::string& path, const core::Vector& b) { c.biases(path, b); },
      [&](const std::string& group, const core::Layer& L) { cells(c, net, group, L); });
  return c.out;
}

}  // namespace bmru::models
