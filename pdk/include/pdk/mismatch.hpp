#pragma once
// Device mismatch drawn by the program (reproducible, independent of ngspice's random numbers).
//
// Pelgrom: sigma(dVth) = A_VT / sqrt(W L) and sigma(dbeta/beta) = A_beta / sqrt(W L) for the
// *difference* between two identical devices; one device's own offset has 1/sqrt(2) of that.
#include <cstdint>
#include <memory>

#include "pdk/technology.hpp"

namespace bmru::pdk {

struct Pelgrom {
  double avt_v_m;  // A_VT in V m (5 mV um = 5e-9 V m)
  double abeta_m;  // A_beta in m (1 % um = 1e-8 m)
};

// Coefficients for generic180 (4.1 nm oxide; about 1.2 mV um per nm of oxide for NMOS, a little
// more for PMOS, and 1 % um for the current factor: typical published 180 nm figures).
Pelgrom generic180_pelgrom(Polarity type);

// A seeded stream of draws. The same seed and the same sequence of devices give the same draws.
class MismatchSampler {
 public:
  explicit MismatchSampler(std::uint64_t seed);
  ~MismatchSampler();
  MismatchSampler(MismatchSampler&&) noexcept;
  MismatchDraw draw(const Pelgrom& p, double w_m, double l_m);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bmru::pdk
