#include "models/realisable_range.hpp"

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

std::vector<std::string> range_problems(const core::Network& net, const RealisableRange& range) {
  Checker c{range, net.unit_current_a, {}};
  core::for_each_parameter(net, [&](const std::string& group, const char* field, const auto& array,
                                    core::ParameterKind kind) {
    const std::string path = group + "." + field;
    if constexpr (std::is_same_v<std::decay_t<decltype(array)>, core::Matrix>)
      c.weights(path, array);
    else if (kind == core::ParameterKind::bias)
      c.biases(path, array);
    else if (std::string(field) == "alphas")  // a layer's cells, once, where the file has them
      cells(c, net, group, net.layers[std::stoul(group.substr(5)) - 1]);
  });
  return c.out;
}

}  // namespace bmru::models
