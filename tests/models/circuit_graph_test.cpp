// The one description of the circuit: what the netlist writer and the ct engine both read.
#include "models/circuit_graph.hpp"

#include <gtest/gtest.h>

#include <set>

#include "models/demo_network.hpp"
#include "models/ideal_power.hpp"
#include "test_support.hpp"

namespace bmru::models {
namespace {

using Kind = CircuitGraph::LineKind;

TEST(CircuitGraph, EveryNonzeroWeightIsOneOrTwoCopiesAndEveryZeroIsPruned) {
  core::Network net = demo_network();
  net.layers[0].candidate.kernel(1, 2) = 0;
  net.fc.bias(0) = 0;
  const CircuitGraph g = build_graph(net);
  std::set<std::string> pruned;
  for (const auto& p : g.pruned) pruned.insert(p.param);
  EXPECT_TRUE(pruned.count("layer1.cand_kernel[1,2]"));
  EXPECT_TRUE(pruned.count("fc.bias[0]"));
  for (const auto& w : g.weights) {
    EXPECT_FALSE(pruned.count(w.param)) << w.param;
    for (const int c : w.copies) {
      const auto& copy = g.copies[static_cast<size_t>(c)];
      EXPECT_EQ(copy.kind, CircuitGraph::CopyKind::weight);
      EXPECT_DOUBLE_EQ(std::abs(copy.gain), std::abs(w.gain)) << w.param;
      // A sourcing copy mirrors a p-line, a sinking one an n-line.
      const auto& from = g.lines[static_cast<size_t>(copy.from)];
      EXPECT_EQ(from.type(), copy.device()) << copy.name;
    }
  }
}

TEST(CircuitGraph, EveryLineIsFedBeforeItIsReadAndTheOrderListsEachElementOnce) {
  const core::Network net = demo_network();
  const CircuitGraph g = build_graph(net);
  std::set<std::pair<int, int>> seen;
  std::set<int> made;
  for (const auto& s : g.order) {
    EXPECT_TRUE(seen.insert({static_cast<int>(s.element), s.index}).second);
    if (s.element == CircuitGraph::Element::line) made.insert(s.index);
    if (s.element == CircuitGraph::Element::copy) {
      const auto& c = g.copies[static_cast<size_t>(s.index)];
      // The line a copy reads from is in the netlist before the copy.
      EXPECT_TRUE(made.count(c.from) ||
                  g.lines[static_cast<size_t>(c.from)].kind == Kind::cell_output)
          << c.name;
    }
  }
  // Every line but the cells' own output diodes is written exactly once.
  for (size_t l = 0; l < g.lines.size(); ++l)
    EXPECT_EQ(made.count(static_cast<int>(l)), g.lines[l].kind == Kind::cell_output ? 0u : 1u)
        << g.lines[l].node;
  ASSERT_EQ(g.cells.size(), static_cast<size_t>(net.d() * net.n_layers()));
  ASSERT_EQ(g.layers.size(), static_cast<size_t>(net.n_layers()));
  ASSERT_EQ(g.logits.size(), static_cast<size_t>(net.n_out()));
  for (const auto& c : g.cells) {
    EXPECT_EQ(g.lines[static_cast<size_t>(c.candidate)].type(), pdk::Polarity::p);
    EXPECT_EQ(g.lines[static_cast<size_t>(c.output)].kind, Kind::cell_output);
    EXPECT_GT(c.beta_hi_a, c.beta_lo_a);
  }
}

TEST(CircuitGraph, BiasesCarryTheirSignAndUnit) {
  core::Network net = demo_network();
  net.unit_current_a = 2e-9;
  net.layers[1].post.bias(3) = -0.25;
  const CircuitGraph g = build_graph(net);
  bool found = false;
  for (const auto& b : g.biases)
    if (b.param == "layer2.post_bias[3]") {
      found = true;
      EXPECT_DOUBLE_EQ(b.amps, -0.5e-9);
      EXPECT_EQ(g.lines[static_cast<size_t>(b.to)].node, "p_l2_c3");
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace bmru::models

namespace bmru::models {
namespace {

// One input, one cell, one output, worked by hand: x = 1; u0 = 2x (pos line 2); a = 2; c = 2 turns
// the cell (beta 0.5 .. 1, alpha 1) on; p = s = 1; u1 = 3 on its pos line; y = 3.
TEST(IdealPower, CountsEachCurrentTheModelDefinesOnce) {
  core::Network net = test::single_cell(0.5, 1.0);
  net.pre_proj.kernel(0, 0) = 2.0;
  net.unit_current_a = 1e-9;
  const auto w = ideal_power(net, {core::Matrix::Constant(3, 1, 1.0)}, 1.8);
  // cells: I_thresh 1 + (I_width 0.5 + I_gain 1) + alpha s 1 = 3.5 units
  EXPECT_NEAR(w[core::PowerBlock::cells], 3.5e-9 * 1.8, 1e-18);
  // feed-forward: u0 2 + a 2 + c 2 + p 1 + skip 2 + y 3 = 12 units
  EXPECT_NEAR(w[core::PowerBlock::feedforward], 12e-9 * 1.8, 1e-18);
  EXPECT_EQ(w[core::PowerBlock::bias], 0.0);
  EXPECT_NEAR(w[core::PowerBlock::total], 15.5e-9 * 1.8, 1e-18);
  // A negative logit weight moves the current to the other line, not away.
  net.fc.kernel(0, 0) = -1;
  EXPECT_NEAR(ideal_power(net, {core::Matrix::Constant(3, 1, 1.0)}, 1.8)[core::PowerBlock::total],
              15.5e-9 * 1.8, 1e-18);
}

}  // namespace
}  // namespace bmru::models
