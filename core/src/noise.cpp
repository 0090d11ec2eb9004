#include "core/noise.hpp"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <numbers>

#include "core/errors.hpp"
#include "core/units.hpp"

namespace bmru::core {
namespace {

constexpr double kElectronCharge = 1.602176634e-19;

std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

double NoiseSpec::sigma(double current_a, const FrameAxis& axis) const {
  const double i = std::abs(current_a);
  switch (amplitude) {
    case Amplitude::none:
      return 0;
    case Amplitude::shot:
      return std::sqrt(2 * kElectronCharge * i / (2 * grid_s(axis)));
    case Amplitude::rel:
      return value * i;
    case Amplitude::abs:
      return value;
  }
  return 0;
}

std::string NoiseSpec::describe() const {
  switch (amplitude) {
    case Amplitude::none:
      return "none";
    case Amplitude::shot:
      return "shot";
    case Amplitude::rel:
      return "rel:" + format_number(value);
    case Amplitude::abs:
      return "abs:" + format_number(value);
  }
  return "?";
}

NoiseSpec parse_noise(const std::string& text, const std::string& option) {
  NoiseSpec n;
  if (text == "none" || text == "0" || text.empty()) return n;
  if (text == "shot") {
    n.amplitude = NoiseSpec::Amplitude::shot;
    return n;
  }
  const auto colon = text.find(':');
  const std::string kind = text.substr(0, colon),
                    v = colon == std::string::npos ? "" : text.substr(colon + 1);
  if ((kind != "rel" && kind != "abs") || v.empty())
    throw InputError(
        option + " '" + text +
        "' is not shot, rel:<sigma> (rel:0.05 or rel:5%), abs:<amps> (abs:2p) or none");
  double x = 0;
  if (kind == "rel" && v.back() == '%')
    x = parse_quantity(v.substr(0, v.size() - 1), option) / 100;
  else
    x = parse_quantity(v, option);
  if (!(x >= 0) || !std::isfinite(x) || (kind == "rel" && x > 10) || (kind == "abs" && x > 1e-6))
    throw InputError(option + " '" + text + "': the sigma must be finite and at least 0 (" +
                     (kind == "rel" ? "at most 10 times the line's current" : "at most 1 uA") +
                     ")");
  n.amplitude = kind == "rel" ? NoiseSpec::Amplitude::rel : NoiseSpec::Amplitude::abs;
  n.value = x;
  return n;
}

NoiseTrack::NoiseTrack(const NoiseSpec& spec, const FrameAxis& axis, std::uint64_t sequence,
                       std::uint64_t source, const std::vector<double>& sigma_a)
    : dt_(spec.grid_s(axis)) {
  const auto frames = static_cast<Index>(sigma_a.size());
  const double end = axis.stop_time(frames);
  const auto n = static_cast<size_t>(std::ceil(end / dt_)) + 2;
  boost::random::mt19937_64 rng(mix(spec.seed ^ mix(sequence ^ mix(source + 0x5bd1e995ULL))));
  boost::random::normal_distribution<double> z(0.0, 1.0);
  // The flicker bank: octaves f_i from 1 / duration up to the corner, each a first-order process
  // whose variance is its octave's share of a spectrum S_w f_c / f (S_w = 1 / B, unit variance
  // over B = 1 / (2 dt)).
  std::vector<double> pole, kick, state;
  if (spec.corner_hz > 0) {
    const double band = 1 / (2 * dt_);
    for (double f = std::min(spec.corner_hz, band); f >= 1 / end; f /= 2) {
      const double var = spec.corner_hz / band * std::numbers::ln2;
      const double a = std::exp(-2 * std::numbers::pi * f * dt_);
      pole.push_back(a);
      kick.push_back(std::sqrt(var * (1 - a * a)));
      state.push_back(std::sqrt(var) * z(rng));  // stationary from the start
    }
  }
  v_.resize(n);
  for (size_t j = 0; j < n; ++j) {
    double u = z(rng);
    for (size_t i = 0; i < pole.size(); ++i) {
      state[i] = pole[i] * state[i] + kick[i] * z(rng);
      u += state[i];
    }
    const Index k = std::min(frames - 1, axis.frame_at(static_cast<double>(j) * dt_));
    v_[j] = frames > 0 ? sigma_a[static_cast<size_t>(k)] * u : 0.0;
  }
}

double NoiseTrack::at(double t) const {
  if (v_.empty() || t < 0) return 0;
  const double x = t / dt_;
  const auto j = static_cast<size_t>(x);
  if (j + 1 >= v_.size()) return 0;
  const double f = x - static_cast<double>(j);
  return v_[j] + f * (v_[j + 1] - v_[j]);
}

}  // namespace bmru::core
