#include "models/cell_calibration.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.hpp"

namespace bmru::models {
namespace {

// A synthetic cell with known responses: up = 0.9 I_th + 5 pA, width = 0.8 I_w (1 + I_w / 1 nA /
// 50), on = 1.03 I_g. bias_for must invert them.
CellCalibration synthetic() {
  CellCalibration c;
  for (int i = 0; i < 10; ++i) {
    const double x = 70e-12 * std::pow(6e-9 / 70e-12, i / 9.0);
    c.ithresh_a.push_back(x);
    c.igain_a.push_back(x);
    c.up_a.push_back(0.9 * x + 5e-12);
    c.on_a.push_back(1.03 * x);
  }
  c.fraction = {0.05, 0.1, 0.2, 0.4, 0.7, 0.9};
  for (double x : c.ithresh_a) {
    std::vector<double> row;
    for (double f : c.fraction) row.push_back(0.8 * f * x * (1 + f * x / 1e-9 / 50));
    c.width_a.push_back(row);
  }
  return c;
}

TEST(CellCalibration, InvertsKnownResponses) {
  const CellCalibration c = synthetic();
  c.check();
  const CellBias b = c.bias_for(150e-12, 350e-12, 500e-12);
  EXPECT_NEAR(0.9 * b.ithresh_a + 5e-12, 350e-12, 0.01 * 350e-12);
  EXPECT_NEAR(0.8 * b.iwidth_a * (1 + b.iwidth_a / 1e-9 / 50), 200e-12, 0.01 * 200e-12);
  EXPECT_NEAR(1.03 * b.igain_a, 500e-12, 0.005 * 500e-12);
}

TEST(CellCalibration, TargetsOutsideTheTablesAreNamed) {
  const CellCalibration c = synthetic();
  try {
    c.bias_for(1e-9, 20e-9, 1e-9);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("beta_hi = 2e-08"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.bias_for(999e-12, 1e-9, 1e-9), InputError);   // width too small for the table
  EXPECT_THROW(c.bias_for(500e-12, 1e-9, 10e-9), InputError);  // alpha above the table
}

TEST(CellCalibration, InconsistentTablesAreRejected) {
  CellCalibration c = synthetic();
  c.up_a[3] = c.up_a[2];
  EXPECT_THROW(c.check(), Error);
  c = synthetic();
  c.width_a[1].pop_back();
  EXPECT_THROW(c.check(), Error);
}

}  // namespace
}  // namespace bmru::models
