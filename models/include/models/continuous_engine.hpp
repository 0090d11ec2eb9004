#pragma once
// The continuous-time circuit-level model ("ct"): the generated circuit's signal graph as node
// dynamics, integrated in time on the frame axis of core (DESIGN.md section 4), sampled at the
// same instants as the SPICE engine. Much cheaper than SPICE, and unlike the discrete model it
// sees what happens between samples: slow low-current nodes, glitches during input ramps, the
// cells' finite switching speed.
//
// Every signal line (the gate of a diode-connected device that carries a current, as in the
// circuit) is one state: in subthreshold a diode node of capacitance C carrying I with input
// I_in obeys C dV/dt = I_in - I, I = I_s exp(V / (n U_T)), so y = ln I follows
//     dy/dt = (I_in - I) / (n U_T C)                       (time constant n U_T C / I)
// with I_in cut at zero (the ReLU of a summing node). I is the current the line's copies carry
// (per reference width); the diode itself carries I (1 - (I_0 / I)^n), n = n U_T / U_T, because
// its drain is its gate: a line with no input rests at V = 0 with its copies at I_0 (the
// reference device's current at V_GS = 0, measured per polarity), and a line switched on from
// there starts from I_0, not from zero. Mirrors copy a line's current times the weight. A cell's
// comparator node integrates its net current
//     dq/dt = (c + I_fb(q) - I_thresh) / Q,   q in [0, 1], I_fb = I_width s(q), s = switch(q)
// so it switches up a time Q_up / overdrive after c passes beta_hi (down: Q_down / overdrive);
// a copy of a line carrying I adds w I (1 + slope ln(I / I_ref)) (the mirrors' gain error);
// its output line follows I_gain s(q) with its own node dynamics. Capacitances come from the
// technology (oxide capacitance per area, device areas) scaled by a measured factor; Q_up, Q_down,
// n U_T and the floor are measured on the technology through ngspice (experiments) and handed
// over as plain values (CtFacts).
#include <memory>
#include <string>
#include <vector>

#include "core/frame.hpp"
#include "core/network.hpp"
#include "core/noise.hpp"
#include "core/time_axis.hpp"

namespace bmru::models {

struct CtFacts {
  double slope_v = 1.4 * 0.025852;      // n U_T (V)
  double cap_per_area_f_m2 = 2.5e-3;    // effective capacitance per device area of an NMOS line
  double cap_per_area_p_f_m2 = 2.5e-3;  // the same for a PMOS line (p-lines, cell outputs)
  double line_cap_scale = 1;            // every line's capacitance in a network over the bench's
  double w_ref_m = 4e-6, l_m = 16e-6;   // reference mirror device (MirrorSizes)
  double w_min_m = 0.22e-6;  // the technology's smallest width: narrower copies are made longer
  // A line with no input: its copies' current per reference width (the diode at V_GS = 0), for
  // an NMOS and a PMOS line; U_T sets the diode's own current near that floor.
  double floor_a = 1e-12, floor_p_a = 1e-12;
  double thermal_v = 0.025852;
  double cell_q_up_c = 2e-13;    // charge that switches a cell up: latency x overdrive (A s)
  double cell_q_down_c = 2e-13;  // the same for switching down
  double cell_out_cap_f = 0;     // extra capacitance on a cell's output line (its M4), F
  // Mirror gain error: a copy's gain is its weight times 1 + slope ln(I / mirror_ref_a), I the
  // current of the line it copies (the weight-to-width calibration removes the mean gain over
  // 0.1-3 nA; what is left grows with the distance from their geometric mean). Per kind of copy:
  // NMOS into an NMOS diode, PMOS (sourcing), and NMOS into a PMOS diode (mirror_slope_pline: a
  // p-line's feed or a term of a PMOS-closed summing node).
  double mirror_slope_n = 0, mirror_slope_p = 0, mirror_slope_pline = 0;
  double mirror_ref_a = 1e-9;
};

// One crossing summary per cell and frame, as the SPICE engine reports it.
struct CtCrossings {
  long long count = 0;
  double first_s = -1;  // offset of the first crossing of alpha/2 from the frame start
};

// One die's device mismatch, as factors on the elements of the circuit graph (build_graph of the
// network as the circuit realises it): each copy's gain, each bias current, each cell's three
// bias currents (threshold, width, gain) and the gain of its input (the cell's M1 copying the
// candidate's p-line). circuit_model.hpp's die_factors() derives them from the netlist's own
// Pelgrom draws, so a lane and the SPICE netlist of one --mismatch-seed are the same die. Empty
// vectors are the nominal circuit.
struct CtDie {
  std::vector<double> copy, bias, cell_ith, cell_iw, cell_ig, cell_in;
  bool nominal() const { return copy.empty(); }
};

// rosenbrock: a linearly implicit two-stage method on the graph's triangular Jacobian (default,
// fast); dopri5: odeint's explicit Dormand-Prince with dense output (the reference it is checked
// against; its steps are bounded by the fastest line's time constant; batch 1 only).
enum class Integrator { rosenbrock, dopri5 };

// A batch of B sequences (lanes) is integrated together: lanes share the network's structure and
// are packed in vectors of 8 (structure-of-arrays), each lane with its own adaptive step, so a
// lane's frames do not depend on the lanes beside it. A batch of 1 is the single-sequence engine.
class ContinuousEngine final : public core::FrameEngine {
 public:
  ContinuousEngine(const core::Network& net, const CtFacts& facts, const core::FrameAxis& axis,
                   Integrator integrator = Integrator::rosenbrock);
  ~ContinuousEngine();
  ContinuousEngine(ContinuousEngine&&) noexcept;
  ContinuousEngine& operator=(ContinuousEngine&&) = delete;

  // Mismatch: lane b runs dies[b] (one die: every lane). Takes effect at the next reset; the die
  // must fit the network's graph (InputError otherwise). No dies: the nominal circuit.
  void set_dies(std::vector<CtDie> dies);
  // Noise currents (A) of lane `lane`, the same the SPICE run injects (core/noise.hpp): into each
  // cell's candidate line (layer-major, one per cell), or with NoiseAt::lines into every line of
  // the circuit (one per CircuitGraph line but the held logit nodes, in the graph's order;
  // CircuitModel::line_noise_sources). Empty: none. Kept across resets; one kind per engine.
  enum class NoiseAt { candidates, lines };
  void set_noise(core::Index lane, std::vector<core::NoiseTrack> tracks,
                 NoiseAt at = NoiseAt::candidates);
  // The non-bistable baseline of issue 21: every cell a leaky integrator of its candidate whose
  // output follows it with the time constant tau = -T / ln a, so that over a frame it moves as
  // the discrete h_t = a h_{t-1} + (1 - a) c_t (ReferenceEngine::set_leaky); a in (0, 1). Takes
  // effect at once (before the first step or reset).
  void set_leaky(double a);

  // core::FrameEngine: "ct"; reset(B) defers the operating point to the first step, at that
  // frame's inputs (x_{-1} = x_0, DESIGN.md section 4).
  std::string name() const override { return "ct"; }
  void reset(core::Index batch) override;
  // The operating point at t = 0 with inputs x0 [B, n_in] and the cells at their initial states.
  void reset(const core::Matrix& x0);
  // Integrates frame k (input ramp from the previous frame's x to x [B, n_in]) up to its sample
  // instant and fills `out` [B rows] (model units) from the sampled currents; then to the frame's
  // end.
  void step(const core::Matrix& x, core::Frame& out) override;
  // Resync (DESIGN.md section 4): cell states of `layer` set to h [B, d] (0 or alpha) now.
  void set_state(core::Index layer, const core::Matrix& h);
  // Crossings of alpha/2 by each cell's output of a lane in the last frame ([layer][cell]).
  std::vector<std::vector<CtCrossings>> crossings(core::Index lane = 0) const;
  long long steps() const;       // accepted integrator steps so far, summed over lanes
  long long iterations() const;  // step attempts of the packs so far (each covers its lanes)
  static int pack_width();       // lanes per pack of a batch of more than one

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bmru::models
