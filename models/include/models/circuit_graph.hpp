#pragma once
// The one description of the generated circuit (DESIGN.md section 2): which lines carry which
// currents, which mirror copies which line into which node with which gain, the bias currents, the
// cells, the probes and the supplies. The netlist writer (circuit_model.cpp) and the
// continuous-time model (continuous_engine.cpp) are both derived from it, so a change to the
// topology reaches both.
//
// A line is the gate node of a diode-connected device carrying a non-negative current:
//   summing      an NMOS diode closing a summing node (the ReLU: a negative net current is cut
//                off): what is sourced into the node adds, what is sunk subtracts;
//   summing_p    a PMOS diode from the supply closing a summing node: what is sunk from the node
//                adds, what is sourced subtracts;
//   pline/nline  a PMOS (NMOS) diode fed by a unity NMOS (PMOS) copy of the signal's other
//                line, made when a copy of that polarity is first needed (a conversion: it costs
//                the signal's current once more);
//   cell_output  the cell's own PMOS output diode (M4), whose input is the cell;
//   held         not a line: a logit node held at a fixed voltage by its sense source.
// The residual stream u_l = u_0 + sum_k ReLU(h_k K_p + b_p) has no lines of its own: it is the
// bundle of the lines it sums (the pre-projection's pair and each layer's post-projection line),
// and each of its readers (the next layer's ReLU, the logits) copies every line of the bundle.
// A skip copy would cost u_l's whole current once more per layer; the bundle costs devices only.
// Elements are kept in the order the generator creates them (`order`), which is the netlist's
// order; the netlist is a replay of that list.
#include <string>
#include <variant>
#include <vector>

#include "core/network.hpp"
#include "core/power.hpp"
#include "pdk/technology.hpp"

namespace bmru::models {

struct CircuitGraph {
  enum class LineKind { summing, summing_p, pline, nline, cell_output, held };
  struct Line {
    LineKind kind = LineKind::summing;
    std::string node;    // the summing node (where currents meet)
    std::string gate;    // the diode's gate and drain (== node unless a sense source sits between)
    std::string sense;   // zero-volt sense source between node and gate ("" none)
    std::string device;  // the diode's device name ("" for cell_output and held)
    int input = -1;      // input part 2k (pos) or 2k + 1 (neg) drives it
    int cell = -1;       // cell_output: the cell that drives it
    int position = 0;    // where in the network it is (CircuitGraph::positions)
    pdk::Polarity type() const {
      return kind == LineKind::pline || kind == LineKind::cell_output || kind == LineKind::summing_p
                 ? pdk::Polarity::p
                 : pdk::Polarity::n;
    }
    // +1 where a sourced current adds to the line's current, -1 where it subtracts (a summing_p
    // node, fed by what is sunk from it; also a p-line, fed by its sinking unity copy).
    double sign() const { return type() == pdk::Polarity::p ? -1.0 : 1.0; }
  };
  // A mirror output device copying line `from` into line `to`: gain > 0 sources gain x I(from)
  // (a PMOS copy of a p-line), gain < 0 sinks |gain| x I(from) (an NMOS copy of an n-line). The
  // unity copy that makes a p-line sinks from it but is its input: gain +1, device NMOS. What a
  // copy adds to the line it feeds is gain x to.sign() (the feeds: +1).
  enum class CopyKind { weight, structural, pline_feed, nline_feed };
  struct Copy {
    int from = -1, to = -1;
    double gain = 0;
    CopyKind kind = CopyKind::structural;
    std::string name;  // device name as the generator gives it
    int position = 0;  // where in the network it is (CircuitGraph::positions)
    pdk::Polarity device() const {
      if (kind == CopyKind::pline_feed) return pdk::Polarity::n;
      if (kind == CopyKind::nline_feed) return pdk::Polarity::p;
      return gain > 0 ? pdk::Polarity::p : pdk::Polarity::n;
    }
  };
  // A parameter realised by one copy (a single-node weight) or two (a pair), or pruned (w == 0).
  struct Weight {
    std::vector<int> copies;
    double gain = 0;
    std::string param;
  };
  // A constant current from a bias mirror: sourced into `to` (amps > 0, PMOS from vdd_bias) or
  // sunk from it (amps < 0, NMOS); it adds amps x to.sign() to the line.
  struct Bias {
    int to = -1;
    double amps = 0;
    std::string name, param;
    int position = 0;
  };
  // A cell: candidate p-line into M1, output line M4, and the levels the model defines (A).
  struct Cell {
    int candidate = -1;       // the p-line of the candidate signal (its summing_p line itself)
    int output = -1;          // its cell_output line
    int candidate_sum = -1;   // the candidate's summing line (the probe)
    std::string name;         // "l<l>_c<i>"
    std::string layer_param;  // "layer<l>"
    core::Index index = 0;    // i within the layer
    int position = 0;         // its layer's (CircuitGraph::positions)
    double beta_lo_a = 0, beta_hi_a = 0, alpha_a = 0;
    double width_a = 0;  // (beta_hi - beta_lo) x unit, rounded once
    bool init_on = false;
  };
  struct Pruned {
    std::string param;
  };
  struct Supply {
    std::string node;
    core::PowerBlock block;
  };
  struct Input {
    core::Index k = 0;
    int pos = -1, neg = -1;  // lines
  };
  // u_l's positive and negative parts: the summing lines (each behind a sense source) whose
  // currents add to each.
  struct Bundle {
    std::vector<int> pos, neg;
  };
  struct LayerProbes {
    std::vector<int> candidate;  // summing lines
    std::vector<int> state;      // cells
    std::vector<Bundle> output;  // u_l per cell
  };
  // cell_supply: a cell's bias lines and supply lead; cell: the cell itself (its candidate p-line
  // is made between the two, as the netlist has it).
  enum class Element { line, copy, weight, bias, cell_supply, cell, pruned, input };
  struct Step {
    Element element;
    int index;
  };

  std::vector<Line> lines;
  std::vector<Copy> copies;
  std::vector<Weight> weights;
  std::vector<Bias> biases;
  std::vector<Cell> cells;  // layer-major
  std::vector<Pruned> pruned;
  std::vector<Input> inputs;
  std::vector<Step> order;
  std::vector<Supply> supplies{{"vdd_cells", core::PowerBlock::cells},
                               {"vdd_ff", core::PowerBlock::feedforward},
                               {"vdd_bias", core::PowerBlock::bias}};
  std::vector<LayerProbes> layers;
  std::vector<std::pair<int, int>> logits;  // (pos, neg) held lines
  // Positions in the network, for power by position: "pre" (inputs and pre-projection),
  // "layer<l>" (its ReLU, candidates, cells and post-projection), "output" (the logits). A
  // cell's position is its layer's (1 + its layer index). The feed-forward and bias devices of
  // each position draw from their own rail (vdd_ff_<position>, vdd_bias_<position>), fed from
  // vdd_ff and vdd_bias through a zero-volt sense source.
  std::vector<std::string> positions;
  double unit_current_a = 1e-9;

  // What a copy adds to the current of the line it feeds, per unit of the line it copies, and what
  // a bias adds (A).
  double added(const Copy& c) const {
    return c.kind == CopyKind::pline_feed ? c.gain
                                          : c.gain * lines[static_cast<size_t>(c.to)].sign();
  }
  double added(const Bias& b) const { return b.amps * lines[static_cast<size_t>(b.to)].sign(); }
};

// Which summing nodes are closed by a PMOS diode (summing_p): the pre-projection's pair (pos,
// neg), and per layer its ReLU nodes a, its candidates c and its post-projection nodes p. A copy
// must come from a line of its own polarity, and the destination's closing decides which polarity
// a term needs, so the plan decides how many signals need a conversion (a p-line or an n-line,
// each costing the signal's current once more). A line of the residual stream is read by every
// later layer's ReLU and by the logits, so its conversion depends on all their closings.
struct PolarityPlan {
  bool u_pos_p = false, u_neg_p = false;
  std::vector<bool> a_p, c_p, p_p;  // [layer 1..L] at [l - 1]
  bool operator==(const PolarityPlan&) const = default;
};
// Every summing node NMOS-closed.
PolarityPlan all_nmos_plan(const core::Network& net);
// The plan with the least conversion current: each line's current estimated from the network alone
// (inputs at half a unit per part, cells on half the time). Every plan is tried up to 6 layers
// (4^(L+1) of them); beyond, single closings are flipped while that lowers the estimate.
PolarityPlan lean_plan(const core::Network& net);
// The estimated current (model units) the conversions of a plan draw.
double conversion_estimate(const core::Network& net, const PolarityPlan& plan);

// The circuit of `net` (which must be valid; the realisable range is the caller's business), with
// the lean plan unless one is given.
CircuitGraph build_graph(const core::Network& net);
CircuitGraph build_graph(const core::Network& net, const PolarityPlan& plan);

// The current of every line (A, per g.lines) when the circuit is ideal: every copy exact, every
// summing node the ReLU of what reaches it, a held line what reaches it (signed). `x` holds one
// frame's inputs (model units), `on` every cell's state (layer-major); a cell's output line
// carries its alpha while it is on. For the amplitude of noise on every line (`--noise-at all`).
std::vector<double> ideal_line_currents(const CircuitGraph& g, const core::Vector& x,
                                        const std::vector<bool>& on);

}  // namespace bmru::models
