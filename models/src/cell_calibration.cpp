#include "models/cell_calibration.hpp"

#include <boost/math/tools/toms748_solve.hpp>
#include <cstdint>

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"
#include "core/units.hpp"

namespace bmru::models {
namespace {

using core::format_number;

// Linear interpolation of y(x) in log(x), clamped to the grid.
double interp_log(const std::vector<double>& x, const std::vector<double>& y, double at) {
  if (at <= x.front()) return y.front();
  if (at >= x.back()) return y.back();
  const auto hi = static_cast<size_t>(std::upper_bound(x.begin(), x.end(), at) - x.begin());
  const size_t lo = hi - 1;
  const double f = (std::log(at) - std::log(x[lo])) / (std::log(x[hi]) - std::log(x[lo]));
  return y[lo] + f * (y[hi] - y[lo]);
}

// The x in [x_lo, x_hi] where the increasing function g(x) equals `target`: Boost's TOMS 748
// bracketing solver in log x, to full double precision.
template <typename G>
double solve(G g, double x_lo, double x_hi, double target) {
  const auto f = [&](double ln_x) { return g(std::exp(ln_x)) - target; };
  const double a = std::log(x_lo), b = std::log(x_hi), fa = f(a), fb = f(b);
  if (fa >= 0) return x_lo;
  if (fb <= 0) return x_hi;
  std::uintmax_t iterations = 200;
  const auto [lo, hi] = boost::math::tools::toms748_solve(
      f, a, b, fa, fb, boost::math::tools::eps_tolerance<double>(), iterations);
  return std::exp(0.5 * (lo + hi));
}

// Responses interpolated as ratios to their bias (smooth, near 1), then multiplied back.
double response(const std::vector<double>& bias, const std::vector<double>& measured, double at) {
  std::vector<double> ratio(bias.size());
  for (size_t i = 0; i < bias.size(); ++i) ratio[i] = measured[i] / bias[i];
  return at * interp_log(bias, ratio, at);
}

void out_of_table(const std::string& what, double target, double lo, double hi) {
  throw InputError("The cell cannot realise " + what + " = " + format_number(target) +
                   " A in this technology and corner: its calibrated range is " +
                   format_number(lo) + " - " + format_number(hi) + " A");
}

}  // namespace

void CellCalibration::check() const {
  const auto increasing = [](const std::vector<double>& v) {
    return v.size() >= 2 && std::is_sorted(v.begin(), v.end()) &&
           std::adjacent_find(v.begin(), v.end()) == v.end();
  };
  if (!increasing(ithresh_a) || !increasing(fraction) || !increasing(igain_a) ||
      up_a.size() != ithresh_a.size() || on_a.size() != igain_a.size() ||
      width_a.size() != ithresh_a.size())
    throw Error("Cell calibration tables are inconsistent (grid sizes or order)");
  for (const auto& row : width_a) {
    // The widths grow with I_width up to where the cell latches (0 from there on).
    const auto latched = std::find(row.begin(), row.end(), 0.0);
    const std::vector<double> valid(row.begin(), latched);
    if (row.size() != fraction.size() || !increasing(valid) ||
        std::any_of(latched, row.end(), [](double w) { return w != 0; }))
      throw Error("Cell calibration: the hysteresis width does not grow with I_width");
  }
  if (!increasing(up_a) || !increasing(on_a))
    throw Error("Cell calibration: switch point or on-level does not grow with its bias");
}

namespace {

// The hysteresis width at this I_thresh as a function of I_width = fraction x I_thresh: the grid
// of I_width and the widths there.
std::pair<std::vector<double>, std::vector<double>> width_curve(const CellCalibration& c,
                                                                double ithresh) {
  // Only the fractions at which neither neighbouring row of the grid latches.
  const auto hi = static_cast<size_t>(
      std::upper_bound(c.ithresh_a.begin(), c.ithresh_a.end(), ithresh) - c.ithresh_a.begin());
  const size_t row_hi = std::min(hi, c.ithresh_a.size() - 1), row_lo = hi == 0 ? 0 : hi - 1;
  const auto valid = [&](size_t row) {
    const auto& w = c.width_a[row];
    return static_cast<size_t>(std::find(w.begin(), w.end(), 0.0) - w.begin());
  };
  const size_t n = std::min(valid(row_lo), valid(row_hi));
  std::vector<double> widths(n), iwidth(n);
  for (size_t j = 0; j < n; ++j) {
    std::vector<double> column(c.ithresh_a.size());
    for (size_t i = 0; i < c.ithresh_a.size(); ++i) column[i] = c.width_a[i][j] / c.ithresh_a[i];
    widths[j] = interp_log(c.ithresh_a, column, ithresh) * ithresh;
    iwidth[j] = c.fraction[j] * ithresh;
  }
  return {iwidth, widths};
}

}  // namespace

std::pair<double, double> CellCalibration::beta_hi_range() const {
  return {response(ithresh_a, up_a, ithresh_a.front()),
          response(ithresh_a, up_a, ithresh_a.back())};
}

std::pair<double, double> CellCalibration::alpha_range() const {
  return {response(igain_a, on_a, igain_a.front()), response(igain_a, on_a, igain_a.back())};
}

std::pair<double, double> CellCalibration::width_range(double beta_hi_a) const {
  const auto up = [&](double i) { return response(ithresh_a, up_a, i); };
  const double ithresh = solve(up, ithresh_a.front(), ithresh_a.back(), beta_hi_a);
  const auto widths = width_curve(*this, ithresh).second;
  return {widths.front(), widths.back()};
}

CellBias CellCalibration::bias_for(double beta_lo_a, double beta_hi_a, double alpha_a) const {
  CellBias b;
  // Switching up depends on I_thresh alone (the feedback branch is off while the cell is low).
  const auto up = [&](double i) { return response(ithresh_a, up_a, i); };
  const auto [hi_min, hi_max] = beta_hi_range();
  if (beta_hi_a < hi_min || beta_hi_a > hi_max) out_of_table("beta_hi", beta_hi_a, hi_min, hi_max);
  b.ithresh_a = solve(up, ithresh_a.front(), ithresh_a.back(), beta_hi_a);
  const auto [iwidth, widths] = width_curve(*this, b.ithresh_a);
  const double want = beta_hi_a - beta_lo_a;
  if (want < widths.front() || want > widths.back())
    out_of_table("beta_hi - beta_lo", want, widths.front(), widths.back());
  b.iwidth_a = solve([&](double i) { return response(iwidth, widths, i); }, iwidth.front(),
                     iwidth.back(), want);
  const auto on = [&](double i) { return response(igain_a, on_a, i); };
  const auto [a_min, a_max] = alpha_range();
  if (alpha_a < a_min || alpha_a > a_max) out_of_table("alpha", alpha_a, a_min, a_max);
  b.igain_a = solve(on, igain_a.front(), igain_a.back(), alpha_a);
  return b;
}

}  // namespace bmru::models
