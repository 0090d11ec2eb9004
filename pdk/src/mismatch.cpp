#include "pdk/mismatch.hpp"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>

namespace bmru::pdk {

Pelgrom generic180_pelgrom(Polarity type) {
  return type == Polarity::n ? Pelgrom{5.0e-9, 1.0e-8} : Pelgrom{5.5e-9, 1.0e-8};
}

struct MismatchSampler::Impl {
  boost::random::mt19937_64 rng;
  boost::random::normal_distribution<double> normal{0.0, 1.0};
};

MismatchSampler::MismatchSampler(std::uint64_t seed) : impl_(std::make_unique<Impl>()) {
  impl_->rng.seed(seed);
}
MismatchSampler::~MismatchSampler() = default;
MismatchSampler::MismatchSampler(MismatchSampler&&) noexcept = default;

MismatchDraw MismatchSampler::draw(const Pelgrom& p, double w_m, double l_m) {
  // One device carries 1/sqrt(2) of the pair's Pelgrom sigma.
  const double area = std::sqrt(2.0 * w_m * l_m);
  const double dvth = impl_->normal(impl_->rng) * p.avt_v_m / area;
  const double dbeta = impl_->normal(impl_->rng) * p.abeta_m / area;
  return {dvth, dbeta};
}

}  // namespace bmru::pdk
