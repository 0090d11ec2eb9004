// Weight mirrors in real ngspice (generic180 tt 27 C 1.8 V): after calibration, a mirror realises
// its weight within 2 % over input currents 0.1-3 nA for |w| from 0.1 to 3, both polarities.
#include <gtest/gtest.h>

#include <cmath>

#include "experiments/calibration.hpp"
#include "pdk/registry.hpp"
#include "spice/shared_session.hpp"

namespace bmru {
namespace {

TEST(Mirror, CalibratedWidthsRealiseTheirWeightsWithin2Percent) {
  const auto tech = pdk::generic180();
  const pdk::Conditions tt;
  const models::MirrorCalibration cal = experiments::calibrate_mirrors(test::session(), *tech, tt);
  const models::MirrorSizes sizes;
  const std::vector<double> weights{0.1, 0.17, 0.3, 0.5, 1.0, 1.7, 2.5, 3.0};
  const std::vector<double> inputs{0.1e-9, 0.3e-9, 1e-9, 3e-9};
  for (const pdk::Polarity pol : {pdk::Polarity::n, pdk::Polarity::p}) {
    std::vector<double> ratios;
    for (double w : weights) ratios.push_back(cal.width_for(w, pol, sizes) / sizes.w_ref_m);
    const auto t = experiments::measure_mirrors(test::session(), *tech, tt, pol, ratios, inputs);
    for (size_t a = 0; a < weights.size(); ++a)
      for (size_t b = 0; b < inputs.size(); ++b)
        EXPECT_NEAR(t.gain[a][b], weights[a], 0.02 * weights[a])
            << (pol == pdk::Polarity::n ? "NMOS" : "PMOS") << " w " << weights[a] << " at "
            << inputs[b] << " A (width ratio " << ratios[a] << ")";
  }
}

TEST(Mirror, UncalibratedPmosMirrorsReadHighAtTheirDestination) {
  // The reason for the calibration (DESIGN.md section 2): at a real destination's voltage a PMOS
  // mirror copies a few per cent high.
  const auto t = experiments::measure_mirrors(test::session(), *pdk::generic180(), {},
                                              pdk::Polarity::p, {1.0}, {1e-9});
  EXPECT_GT(t.gain[0][0], 1.02);
}

}  // namespace
}  // namespace bmru
