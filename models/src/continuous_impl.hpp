#pragma once
// Private to the ct engine: its node dynamics (continuous_engine.cpp builds them from the circuit
// graph; continuous_dynamics.cpp evaluates and integrates them).
#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "core/frame.hpp"
#include "core/network.hpp"
#include "core/time_axis.hpp"
#include "models/continuous_engine.hpp"

namespace bmru::models {
namespace ct_detail {

using core::Index;
using State = Eigen::VectorXd;

// The switch characteristic of a cell's comparator node around its switching point (normalised
// charge): steep, so the feedback is regenerative, smooth for the integrator.
constexpr double kSwitchWidth = 0.01;
inline double switched(double q, double q_s) {
  return 1.0 / (1.0 + std::exp(-(q - q_s) / kSwitchWidth));
}

struct Term {
  int node;
  double gain;       // +w sourced into the node, -w sunk from it
  double slope = 0;  // gain error per e-fold of the copied current (CtFacts::mirror_slope_*)
};

// A diode-connected line: y = ln I.
struct Node {
  std::vector<Term> in;
  double bias_a = 0;
  int input = -1;       // input part 2k (pos) or 2k+1 (neg) drives it
  int cell = -1;        // a cell's output line: I_in = I_gain s(q)
  double area_m2 = 0;   // gate area on the line (diode and the copies it drives)
  bool pmos = false;    // a PMOS line (its diode and copies are PMOS)
  double inv_sc = 0;    // 1 / (n U_T C)
  double ln_floor = 0;  // ln I_0 of its polarity (CtFacts::floor_a, floor_p_a)
};

struct Cell {
  int in_node = -1, out_node = -1;
  double ith_a = 0, iw_a = 0, ig_a = 0, half_a = 0;
  double q_s = 0.5, inv_q = 0;  // switching point, 1 / (Q_up + Q_down)
  bool init_on = false;
};

}  // namespace ct_detail

struct ContinuousEngine::Impl {
  using Index = ct_detail::Index;
  using State = ct_detail::State;
  using Node = ct_detail::Node;
  using Term = ct_detail::Term;
  using Cell = ct_detail::Cell;

  core::Network net;
  CtFacts facts;
  core::FrameAxis axis;
  std::vector<Node> nodes;
  std::vector<Cell> cells;                                   // layer-major
  std::vector<std::vector<int>> candidate_node, state_node;  // [layer][cell] nodes of the probes
  std::vector<std::vector<std::pair<int, int>>> output;  // [layer][cell] (pos, neg) output nodes
  std::vector<std::pair<std::vector<Term>, std::vector<Term>>> logit;  // per output: pos, neg terms
  std::vector<double> logit_bias_pos, logit_bias_neg;
  std::vector<double> x_prev, x_now;  // input parts (A), 2 per input
  double frame_start = 0;
  Index k = 0;
  State y;
  long long n_steps = 0;
  std::vector<std::vector<CtCrossings>> cross;
  double ref_area = 0;
  Integrator integrator = Integrator::rosenbrock;
  std::vector<Index> order;  // state indices in an order where every state follows its inputs
  // The nodes' input terms flattened (node i: [term_start[i], term_start[i + 1])), and the
  // Jacobian's off-diagonal pattern (row r: [jac_start[r], jac_start[r + 1]) of jac_col), fixed at
  // build: a node's entries are its terms then its cell's charge; a cell's charge row has its
  // candidate line.
  std::vector<int> term_start, term_node, jac_start, jac_col;
  std::vector<double> term_gain, term_slope;
  double ln_ref = 0;     // ln CtFacts::mirror_ref_a
  double diode_n = 1.4;  // n = n U_T / U_T, the exponent of the diode's drain term

  // (I_0 / I)^n of a line at y = ln I: its diode carries I (1 - r), with derivative in y
  // I (1 + (n - 1) r).
  double floor_ratio(const Node& n, double y) const { return std::exp(diode_n * (n.ln_floor - y)); }
  double h_last = 0;  // the last accepted step of the Rosenbrock integrator
  // 1 % in ln I and in a cell's charge fraction: on the demo (8 x 101 frames against SPICE)
  // 1e-3 gave the same states with 4 times the steps, 3e-2 lost 0.2 % of the agreement.
  double ct_atol = 1e-2;

  mutable State I_;  // scratch: line currents of the state being evaluated

  // The Jacobian of rhs, on the fixed pattern jac_start / jac_col: the diagonal, and the
  // off-diagonal values (every column before its row in `order`).
  struct Jacobian {
    std::vector<double> diag, off;
  };

  void rhs(const State& s, State& ds, double t) const { eval(s, t, ds, nullptr); }

  // The current a copy of gain g and slope k adds from a line at y = ln I, and its derivative in y.
  double copied(double g, double k, double y, double I) const {
    return g * I * (1 + k * (y - ln_ref));
  }
  double copied_dy(double g, double k, double y, double I) const {
    return g * I * (1 + k * (y - ln_ref + 1));
  }
  // The current a copy of gain g and slope k adds from a line at y = ln I, and its derivative in y.
  // The node dynamics of the circuit graph: one state per line (held logit nodes are not lines:
  // the logits are summed at the sample instant), a copy's gain as a term of the line it feeds,
  // a line's gate area from its diode, the copies it drives and (a candidate's p-line) the
  // cell's M1.
  void build();
  void finish_build();
  void flatten();
  double input_at(int part, double t) const;
  // The current into a node; `I` holds the lines' currents (exp of the first states of s).
  double node_input(Index i, const State& I, const State& s, double t) const;
  // ds = rhs(s, t) and, when j is given, its Jacobian, in one pass over the graph.
  void eval(const State& s, double t, State& ds, Jacobian* j) const;
  // The steady state with the cells held where they are. The graph is acyclic but lines are made
  // on demand (after the nodes they feed), so passes repeat until nothing changes (at most its
  // depth plus one).
  void settle(double t);
  // ln I of a line at rest with input `in` >= 0 (its diode's current I (1 - r) = in), by Newton's
  // method from ln(in + I_0), which lies above the root of this increasing convex function.
  double rest(const Node& n, double in) const;
  // Counts a crossing of alpha/2 by a cell output between two accepted states.
  void crossings_between(const State& a_state, double ta, const State& b_state, double tb);
  void integrate(double t0, double t1);
  // x := (I - gamma h J)^-1 b by forward substitution in topological order. False if a pivot is
  // not safely positive (a regenerative cell with too long a step).
  bool solve(const Jacobian& j, double gh, State& x) const;
  // Integrates [t0, t1] with the two-stage L-stable Rosenbrock method ROS2 (Verwer et al. 1999)
  // and its embedded first-order solution for the step size. The Jacobian of this graph is
  // triangular in topological order (currents flow forward; a cell's loop is inside its charge),
  // so each stage is a forward substitution: steps are limited by accuracy, not by the stiffness
  // of the fast high-current lines that limits explicit methods (see integrate_dopri5).
  void integrate_rosenbrock(double t0, double t1);
  // Integrates [t0, t1] with odeint's adaptive Dormand-Prince stepper and its dense output: the
  // reference the Rosenbrock integrator is checked against (explicit, so its steps are bounded by
  // the fastest line's time constant: tens of times slower here).
  void integrate_dopri5(double t0, double t1);
};

}  // namespace bmru::models
