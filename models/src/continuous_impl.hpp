#pragma once
// Private to the ct engine: the node dynamics (continuous_engine.cpp builds their structure from
// the circuit graph; continuous_dynamics.cpp evaluates and integrates them).
//
// Lanes: one engine integrates a batch of sequences (or Monte Carlo dies) of one network. The
// structure (which line copies which, the Jacobian's pattern, the topological order) is shared;
// every value that differs between lanes (inputs, states, time, step size, and with mismatch the
// gains and bias currents) is a fixed-size Eigen array of a pack of W slots, so each operation of
// the dynamics is one vector operation over W lanes (structure-of-arrays). Every slot keeps its
// own step size and time, and when its lane has run the frame it takes the next lane waiting: a
// lane whose error needs smaller steps takes more of them while the others go on, and no lane's
// result depends on the lanes it shares the pack with.
#include <Eigen/Dense>
#include <array>
#include <cmath>
#include <functional>
#include <vector>

#include "core/frame.hpp"
#include "core/network.hpp"
#include "core/noise.hpp"
#include "core/time_axis.hpp"
#include "models/continuous_engine.hpp"

namespace bmru::models {
namespace ct_detail {

using core::Index;

// Lanes per pack of a batch (a batch of one is a pack of one): the build's vector width in
// doubles, times two. Wider packs pay for more lanes waiting on the slowest (bench ct-throughput).
#if defined(EIGEN_VECTORIZE_AVX512)
constexpr int kPackWidth = 8;
#elif defined(EIGEN_VECTORIZE_AVX)
constexpr int kPackWidth = 8;
#else
constexpr int kPackWidth = 4;
#endif

// The switch characteristic of a cell's comparator node around its switching point (normalised
// charge): steep, so the feedback is regenerative, smooth for the integrator.
constexpr double kSwitchWidth = 0.01;
// How close to its rail (0 or 1) a cell's charge fraction slows: its rate fades as
// 1 - e^(-distance / kRailWidth).
constexpr double kRailWidth = 0.01;

struct Term {
  int node;
  double gain;       // +w sourced into the node, -w sunk from it
  double slope = 0;  // gain error per e-fold of the copied current (CtFacts::mirror_slope_*)
  int copy = -1;     // the graph's copy (its mismatch factor, CtDie::copy)
};

// A bias current into a node or a held logit node: the graph's bias and the current it adds (A).
struct BiasTerm {
  int bias;
  double added_a;
};

// A diode-connected line: y = ln I.
struct Node {
  std::vector<Term> in;
  std::vector<BiasTerm> biases;
  int input = -1;       // input part 2k (pos) or 2k+1 (neg) drives it
  int cell = -1;        // a cell's output line: I_in = I_gain s(q)
  int noise = -1;       // a candidate line: the lane's noise current of this cell (layer-major)
  double area_m2 = 0;   // gate area on the line (diode and the copies it drives)
  bool pmos = false;    // a PMOS line (its diode and copies are PMOS)
  double inv_sc = 0;    // 1 / (n U_T C)
  double ln_floor = 0;  // ln I_0 of its polarity (CtFacts::floor_a, floor_p_a)
};

struct Cell {
  int in_node = -1, out_node = -1;
  double ith_a = 0, iw_a = 0, ig_a = 0;
  double q_s = 0.5, inv_q = 0;  // switching point, 1 / (Q_up + Q_down)
  bool init_on = false;
};

// Everything the lanes share: the circuit's node dynamics as a flat structure.
struct Structure {
  core::Network net;
  CtFacts facts;
  core::FrameAxis axis;
  std::vector<Node> nodes;
  std::vector<Cell> cells;                                   // layer-major
  std::vector<std::vector<int>> candidate_node, state_node;  // [layer][cell] nodes of the probes
  // [layer][cell] the nodes whose currents add to u_l's (pos, neg) parts (CircuitGraph::Bundle).
  std::vector<std::vector<std::pair<std::vector<int>, std::vector<int>>>> output;
  // Per output: its (pos, neg) held nodes' terms and biases.
  std::vector<std::pair<std::vector<Term>, std::vector<Term>>> logit;
  std::vector<std::pair<std::vector<BiasTerm>, std::vector<BiasTerm>>> logit_bias;
  double ref_area = 0;
  size_t n_copies = 0, n_biases = 0;  // the graph's (a CtDie has a factor for each)
  Integrator integrator = Integrator::rosenbrock;
  // > 0: every cell is the non-bistable baseline of issue 21, a leaky integrator of its candidate
  // with this time constant (s): its state q = I_out / alpha follows dq/dt = (I_in / alpha - q) /
  // tau, and its output line takes alpha q (no switch, no hysteresis).
  double leak_tau = 0;
  // --noise-at all: lane noise track k drives node k (every line); otherwise track k drives the
  // candidate line of cell k (Node::noise).
  bool noise_on_lines = false;
  std::vector<Index> order;  // state indices in an order where every state follows its inputs
  // The nodes' input terms flattened (node i: [term_start[i], term_start[i + 1])), and the
  // Jacobian's off-diagonal pattern (row r: [jac_start[r], jac_start[r + 1]) of jac_col), fixed at
  // build: a node's entries are its terms then its cell's charge; a cell's charge row has its
  // candidate line.
  std::vector<int> term_start, term_node, jac_start, jac_col;
  std::vector<double> term_slope;
  double ln_ref = 0;     // ln CtFacts::mirror_ref_a
  double diode_n = 1.4;  // n = n U_T / U_T, the exponent of the diode's drain term
  // The tolerances of RODAS3's order-2 error estimate: 1 % in ln I, and 0.1 % in a cell's charge
  // fraction (a tenth of its switch's width: a cell's charge sets when it switches). On the demo
  // at 2 ms frames (8 x 101, sampled while cells switch) the outputs are then within 1.8e-2 of a
  // run at 1e-5 (ROS2 at 1e-2 in both: 2.1e-2); with 1e-2 in the charge too, a state differed
  // (0.62). At 10 ms frames the agreement with SPICE is the same 99.52 % as at 1e-5.
  double ct_atol = 1e-2, ct_qtol = 1e-3;

  Index n_nodes() const { return static_cast<Index>(nodes.size()); }
  Index n_states() const { return static_cast<Index>(nodes.size() + cells.size()); }

  // The node dynamics of the circuit graph: one state per line (held logit nodes are not lines:
  // the logits are summed at the sample instant), a copy's gain as a term of the line it feeds,
  // a line's gate area from its diode, the copies it drives and (a candidate's p-line) the
  // cell's M1.
  void build();
  void finish_build();
  void flatten();
};

// One lane's parameters (the nominal values, or a die's under mismatch).
struct Params {
  std::vector<double> term_gain, bias;       // per flattened term, per node
  std::vector<double> ith, iw, ig, in_gain;  // per cell
  std::vector<std::pair<std::vector<double>, std::vector<double>>> logit_gain;  // per output
  std::vector<std::pair<double, double>> logit_bias;                            // per output
};
Params make_params(const Structure& st, const CtDie* die);

// W slots integrating lanes of the engine together: the parameters, states and step control of
// the lanes they hold. W = 1 is a single sequence.
template <int W>
struct Pack {
  using Lane = Eigen::Array<double, W, 1>;
  using Mask = Eigen::Array<bool, W, 1>;
  using State = std::vector<Lane>;

  const Structure* s = nullptr;
  // Each slot's lane's parameters (Params, per slot), and which Params it holds.
  std::vector<Lane> term_gain, bias;                      // per flattened term, per node
  std::vector<Lane> ith, iw, ig, half, ln_half, in_gain;  // per cell
  std::vector<int> loaded;
  // Each slot's lane's noise currents per cell (null: none).
  std::array<const std::vector<core::NoiseTrack>*, W> noise{};
  // Inputs (A), 2 parts per input: the previous frame's and this frame's.
  std::vector<Lane> x_prev, x_now;
  double frame_start = 0;
  State y, sample;  // the states now, and at the frame's sample instant
  Lane h_last = Lane::Zero();
  Mask real = Mask::Constant(false);  // the slots that hold a lane
  long long n_steps = 0;              // accepted steps of the real lanes
  long long n_iterations = 0;
  // Crossings of alpha/2 in the current frame: per cell, count and first offset.
  std::vector<Lane> cross_count, cross_first;

  // Scratch.
  mutable State I_, sw_;  // the lines' currents, the cells' switch values
  // The Jacobian of the rhs in the states, and `live`: per line, 1 / (n U_T C) where its net
  // input is positive, else 0 (cut off, the inputs do not move it), which its derivative in time
  // takes from the inputs' slopes.
  struct Jacobian {
    std::vector<Lane> diag, off, live;
  };

  // Sized for the structure, every slot empty.
  void shape(const Structure& st);
  // Slot b takes parameters p (Params number `which`: not copied again when it holds them).
  void load(int b, const Params& p, int which);
  Lane input_at(int part, const Lane& t) const;
  // The current a copy of gain g and slope k adds from a line at y = ln I, and its derivative in y.
  Lane copied(const Lane& g, double k, const Lane& y, const Lane& I) const {
    return g * I * (1 + k * (y - s->ln_ref));
  }
  Lane copied_dy(const Lane& g, double k, const Lane& y, const Lane& I) const {
    return g * I * (1 + k * (y - s->ln_ref + 1));
  }
  // e^x in single precision, for the integrator's evaluations: its relative error (1e-7) is far
  // below the step's tolerance (1e-2 in ln I), and it costs half of Eigen's double exp, which
  // divides (its float exp is a polynomial). Eigen does not vectorize a conversion between double
  // and float inside one expression; as separate assignments the compiler does. A single lane
  // takes glibc's expf (3 times faster than a packet exp of one value on SSE2), which differs
  // from the packet's by an ulp (6e-8): enough to move a lane's steps a little against the same
  // lane in a pack.
  static EIGEN_ALWAYS_INLINE Lane fast_exp(const Lane& x) {
    Eigen::Array<float, W, 1> f = x.template cast<float>();
    f = f.exp();
    return f.template cast<double>();
  }
  static Lane switched(const Lane& q, double q_s) {
    return 1.0 / (1.0 + fast_exp(-(q - q_s) / kSwitchWidth));
  }
  // sw_ from the cells' states in st: each cell's switch value, or its state q itself when the
  // cells are the leaky baseline.
  void cell_outputs(const State& st) const;
  // (I_0 / I)^n of a line at y = ln I: its diode carries I (1 - r), with derivative in y
  // I (1 + (n - 1) r).
  // Zero where it is below 1e-11 in every lane (a line 25 / n e-folds above its floor): half the
  // exponentials of a step are these, and a line that carries a signal is far above its floor.
  // `fast`: in single precision (fast_exp), for the integrator; rest() solves in double.
  Lane floor_ratio(const Node& n, const Lane& y, bool fast) const {
    const Lane a = s->diode_n * (n.ln_floor - y);
    if (!(a > -25.0).any()) return Lane::Zero();
    return fast ? fast_exp(a) : a.exp();
  }
  // The current into node i; `I` holds the lines' currents (exp of the first states of st).
  Lane node_input(Index i, const State& I, const State& st, const Lane& t, const State& sw) const;
  // ds = rhs(st, t) and, when j is given, its Jacobian, in one pass over the graph.
  void eval(const State& st, const Lane& t, State& ds, Jacobian* j) const;
  // The steady state at time t with the cells held where they are. The graph is acyclic but lines
  // are made on demand (after the nodes they feed), so passes repeat until nothing changes (at
  // most its depth plus one).
  void settle(double t);
  // ln I of a line at rest with input `in` >= 0 (its diode's current I (1 - r) = in), by Newton's
  // method from ln(in + I_0), which lies above the root of this increasing convex function.
  Lane rest(const Node& n, const Lane& in) const;
  // Counts crossings of alpha/2 by the cell outputs between two states of the lanes in `mask`,
  // timed on a cubic through their rates at both ends where `slopes` gives them (else linearly
  // in the current).
  struct Slopes {
    const State *a, *b;
  };
  void crossings_between(const State& a, const Lane& ta, const State& b, const Lane& tb,
                         const Mask& mask, const Slopes* slopes = nullptr);
  // Integrates a frame from stops.front() through the (strictly increasing) stops to
  // stops.back(): the ramp's end is a kink in the inputs, so every lane steps onto it. Each slot
  // runs on through the stops at its own pace, leaving its states at stops[sample_stop] in
  // `sample`. At the end, done(b) takes slot b's lane and loads the next lane waiting into it
  // (true: it runs the frame from the start) or leaves the slot empty (false). Slots hold no lane
  // unless `real`.
  void integrate(const std::vector<double>& stops, size_t sample_stop,
                 const std::function<bool(int)>& done);
  // gh / (1 - gh J_rr), the pivots of (I - gh J) inverted and scaled by gh, the same for the
  // four solves of a step. Clears `ok` in a lane whose pivot is not safely positive (a
  // regenerative cell with too long a step).
  void factor(const Jacobian& j, const Lane& gh, State& gh_pivot, Mask& ok) const;
  // x := gh (I - gh J)^-1 x (a stage of the step as an increment of the states), by forward
  // substitution in topological order.
  void solve(const Jacobian& j, const State& gh_pivot, State& x) const;
  // d rhs / dt over a step [t, t + h] at the states of the last eval with a Jacobian: the inputs'
  // ramps and the noise currents are linear between the stops every step ends on.
  void time_slope(const Jacobian& j, const Lane& t, const Lane& h, State& ft) const;
  // The four-stage L-stable Rosenbrock method RODAS3 (Sandu et al. 1997), of order 3, and its
  // embedded order-2 solution for the step size: three evaluations and four solves a step. The
  // Jacobian of this graph is triangular in topological order (currents flow forward; a cell's
  // loop is inside its charge), so each stage is a forward substitution: steps are limited by
  // accuracy, not by the stiffness of the fast high-current lines that limits explicit methods
  // (see integrate_dopri5).
  void integrate_rosenbrock(const std::vector<double>& stops, size_t sample_stop,
                            const std::function<bool(int)>& done);
  // Integrates [t0, t1] with odeint's adaptive Dormand-Prince stepper and its dense output: the
  // reference the Rosenbrock integrator is checked against (explicit, so its steps are bounded by
  // the fastest line's time constant: tens of times slower here). One lane only.
  void integrate_dopri5(double t0, double t1);
};

extern template struct Pack<1>;
extern template struct Pack<kPackWidth>;

}  // namespace ct_detail
}  // namespace bmru::models
