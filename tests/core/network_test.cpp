#include "core/network.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/errors.hpp"
#include "test_support.hpp"

namespace bmru::core {
namespace {

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

TEST(Network, ShapesAreReadFromTheKernels) {
  const Network net = test::random_network(13, 4, 2, 2, 1);
  EXPECT_EQ(net.n_in(), 13);
  EXPECT_EQ(net.d(), 4);
  EXPECT_EQ(net.n_layers(), 2);
  EXPECT_EQ(net.n_out(), 2);
  EXPECT_TRUE(problems(net).empty());
}

TEST(Network, CellConstantsTakeAbsoluteValuesAsTrained) {
  Layer layer = test::single_cell(0.0, 0.0).layers[0];
  layer.alphas << -0.7;
  layer.beta1 << -0.4;
  layer.delta << -0.25;
  layer.initial_state << -0.6;
  const CellConstants k = cell_constants(layer);
  EXPECT_DOUBLE_EQ(k.alpha(0), 0.7);
  EXPECT_DOUBLE_EQ(k.beta_lo(0), 0.4);
  EXPECT_DOUBLE_EQ(k.beta_hi(0), 0.65);
  EXPECT_DOUBLE_EQ(k.h_init(0), 0.7);  // |initial_state| > 0.5 starts high
  layer.initial_state << 0.5;
  EXPECT_DOUBLE_EQ(cell_constants(layer).h_init(0), 0.0);  // exactly 0.5 starts low
}

TEST(Network, NanAndInfAreNamedWithFieldAndIndex) {
  Network net = test::random_network(3, 2, 2, 2, 2);
  net.layers[1].candidate.kernel(1, 0) = std::numeric_limits<double>::quiet_NaN();
  net.fc.bias(1) = std::numeric_limits<double>::infinity();
  const auto p = problems(net);
  EXPECT_TRUE(mentions(p, "layer2.cand_kernel[1,0] is NaN"));
  EXPECT_TRUE(mentions(p, "fc.bias[1] is infinite"));
}

TEST(Network, ShapeMismatchesAreNamed) {
  Network net = test::random_network(3, 2, 1, 2, 3);
  net.layers[0].post.kernel = Matrix::Zero(3, 2);
  net.layers[0].beta1 = Vector::Zero(5);
  net.fc.bias = Vector::Zero(1);
  const auto p = problems(net);
  EXPECT_TRUE(mentions(p, "layer1.post_kernel has shape [3,2], expected [2,2]"));
  EXPECT_TRUE(mentions(p, "layer1.beta1 has length 5, expected 2"));
  EXPECT_TRUE(mentions(p, "fc.bias has length 1, expected 2"));
  EXPECT_EQ(p.size(), 3u);
}

TEST(Network, ZeroAlphaIsADeadCell) {
  Network net = test::random_network(3, 2, 1, 2, 4);
  net.layers[0].alphas(1) = 0.0;
  EXPECT_TRUE(mentions(problems(net), "layer1.alphas[1] is 0"));
}

TEST(Network, EmptyNetworkIsRejectedWithEveryReason) {
  const Network net;
  const auto p = problems(net);
  EXPECT_TRUE(mentions(p, "n_in = 0"));
  EXPECT_TRUE(mentions(p, "n_layers = 0"));
  try {
    validate(net, "my.h5");
    FAIL() << "validate accepted an empty network";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("my.h5 is not a usable BMRU network"), std::string::npos);
  }
}

TEST(Network, EqualityComparesEveryParameter) {
  const Network a = test::random_network(3, 2, 2, 2, 5);
  Network b = a;
  EXPECT_EQ(a, b);
  b.layers[1].delta(0) += 1e-12;
  EXPECT_FALSE(a == b);
  b = a;
  b.unit_current_a *= 2;
  EXPECT_FALSE(a == b);
  b = a;
  b.layers.pop_back();
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace bmru::core
