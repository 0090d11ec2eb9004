#include "models/signed_cells.hpp"

#include <gtest/gtest.h>

namespace bmru::models {
namespace {

Matrix m(double v) {
  return Matrix::Constant(1, 1, v);
}

TEST(SignedBmru, SetsToTheSignWhenFiringAndHoldsOtherwise) {
  Matrix s = m(0);
  const std::vector<std::pair<double, double>> cb{{0.5, 1},  {1.5, 1},  {0.2, 1},
                                                  {-1.0, 1}, {-0.9, 1}, {2.0, -1}};
  const std::vector<double> want{0, 1, 1, -1, -1, 1};  // |c| >= |beta| fires (-1.0 vs 1 fires)
  for (size_t k = 0; k < cb.size(); ++k) {
    s = signed_bmru_update(m(cb[k].first), m(cb[k].second), s);
    EXPECT_EQ(s(0, 0), want[k]) << "frame " << k;
  }
}

TEST(Cmru, CountsFiringsBySign) {
  Matrix s = m(0);
  for (double c : {1.5, 1.5, 0.5, -2.0, 3.0, 3.0}) s = cmru_update(m(c), m(1.0), s);
  EXPECT_EQ(s(0, 0), 3.0);  // +1 +1 0 -1 +1 +1
}

TEST(SignedCellLayer, ProjectsInputsAndScalesByAlpha) {
  SignedCellLayer layer;
  layer.candidate = {Matrix::Identity(2, 2), core::Vector::Zero(2)};
  layer.beta = {Matrix::Zero(2, 2), core::Vector::Constant(2, 0.5)};
  layer.alpha = core::Vector::Constant(2, 0.25);
  layer.initial_state = core::Vector::Zero(2);
  Matrix s;
  Matrix x(1, 2);
  x << 1.0, -0.2;
  Matrix y = step(layer, x, s);
  EXPECT_EQ(y(0, 0), 0.25);
  EXPECT_EQ(y(0, 1), 0.0);
  x << 0.1, -0.7;
  y = step(layer, x, s);
  EXPECT_EQ(y(0, 0), 0.25);   // held
  EXPECT_EQ(y(0, 1), -0.25);  // fired negative
  layer.kind = SignedCellKind::cmru;
  Matrix c;
  x << 1.0, 1.0;
  step(layer, x, c);
  y = step(layer, x, c);
  EXPECT_EQ(y(0, 0), 0.5);  // two firings counted
}

}  // namespace
}  // namespace bmru::models
