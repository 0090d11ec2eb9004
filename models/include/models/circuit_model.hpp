#pragma once
// The circuit model of a network (DESIGN.md section 2): a transistor-level netlist in which every
// parameter is one element, the map from parameters to elements, and the port map (probe and
// source names) that the SPICE engine samples.
//
// Signals are currents. A non-negative signal lives on an "n-line" (the gate of the NMOS diode that
// carries it) and, where a PMOS copy is needed, on a "p-line" (a PMOS diode fed by a unity NMOS
// copy). A signed signal (x, u, y) is a pair of non-negative currents (pos, neg). Summing nodes end
// in an NMOS diode: for a single node that diode is the ReLU (a negative net current is cut off).
//
// Naming (ngspice lower-cases everything; probes are "<source>#branch", positive = the signal):
//   inputs      sources iin<k>p / iin<k>n (k from 0), driven by the caller
//   candidate   vcand_l<l>_c<i>       (l from 1, i from 0)
//   state       v.xcell_l<l>_c<i>.vs  (the cell's output branch current I_out)
//   output      u_l's lines, added: pos vout_l0_c<i>p (the pre-projection's) and vout_l<k>_c<i>
//               for k = 1..l (each layer's post-projection); neg vout_l0_c<i>n
//   logits      vlogit_<j>p / vlogit_<j>n (nodes held at a fixed voltage)
//   supplies    vdd_cells, vdd_ff, vdd_bias; per position p (pre, layer<l>, output) the rails
//               vdd_ff_<p> and vdd_bias_<p> behind sense sources vpos_ff_<p>, vpos_bias_<p>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/element_map.hpp"
#include "core/network.hpp"
#include "models/cell_calibration.hpp"
#include "models/cell_circuit.hpp"
#include "models/continuous_engine.hpp"
#include "models/mirror_circuit.hpp"
#include "models/realisable_range.hpp"
#include "pdk/technology.hpp"

namespace bmru::models {

struct CircuitOptions {
  pdk::Conditions conditions;
  std::optional<std::uint64_t> mismatch_seed;  // generic180: program draws per device
  CellCalibration cell;
  MirrorCalibration mirror;
  CellSizes cell_sizes;
  MirrorSizes mirror_sizes;
  RealisableRange range;
  bool clamp = false;          // clamp out-of-range parameters (reported) instead of rejecting
  double logit_voltage = 0.9;  // the logit nodes are held here by their sense sources
};

// One row of the parameter-to-element map.
using MapEntry = core::ElementRow;

struct PortPair {
  std::string pos, neg;
  bool operator==(const PortPair&) const = default;
};
// A signed signal whose parts are each the sum of several probes' currents (a layer's output u_l:
// the lines of its bundle, CircuitGraph::Bundle).
struct PortSum {
  std::vector<std::string> pos, neg;
  bool operator==(const PortSum&) const = default;
};
struct LayerPorts {
  std::vector<std::string> candidate, state;
  std::vector<PortSum> output;
  bool operator==(const LayerPorts&) const = default;
};
// The port map of DESIGN.md section 6 (names of sources and probe vectors).
struct PortMap {
  std::vector<PortPair> inputs;  // source names
  std::vector<LayerPorts> layers;
  std::vector<PortPair> logits;
  std::string supply_cells = "vdd_cells", supply_feedforward = "vdd_ff", supply_bias = "vdd_bias";
  // Zero-volt sources in each cell's own supply lead (layer-major), for power per cell; empty when
  // the netlist has none (a user's netlist).
  std::vector<std::string> cell_supplies;
  // Power by position in the network (CircuitGraph::positions: pre, layer<l>, output): per
  // position its feed-forward rail's and then its bias rail's zero-volt sense source
  // (2 x positions); a position's power is theirs plus its layer's cells. Empty when the netlist
  // has none (a user's netlist).
  std::vector<std::string> positions, position_supplies;
  bool operator==(const PortMap&) const = default;
};

// The program's Pelgrom draws for the devices of a generated netlist, by what they realise (empty
// when it drew none: no mismatch seed, or a technology whose models draw their own). Per graph
// copy: its device and the diode of the line it copies; per bias: its reference diode and output
// device; per cell: the diode of its candidate's p-line (copied by the cell's M1) and the
// reference diodes of its threshold, width and gain currents. The cell's own devices (M1-M9) are
// drawn nominal.
struct DeviceDraws {
  std::vector<pdk::MismatchDraw> copy, copy_source, bias_ref, bias_out;
  std::vector<pdk::MismatchDraw> cell_in, cell_ith, cell_iw, cell_ig;
  bool empty() const { return copy.empty() && bias_ref.empty() && cell_in.empty(); }
};

struct InputSource {
  std::string name, node;  // current flows from ground through the source into `node`
};

struct CircuitModel {
  std::string body;                 // subcircuits, devices, supplies; no header, inputs, .end
  std::vector<InputSource> inputs;  // 2 per network input (pos, neg), in port-map order
  std::vector<std::string> initial_conditions;  // ".ic" lines (cell states at t = 0)
  std::vector<MapEntry> map;
  PortMap ports;
  core::Network network;                  // the parameters the circuit realises
  std::vector<ParameterChange> realised;  // realised other than given, without any option
  std::vector<ParameterChange> clamped;   // every change --clamp made
  DeviceDraws draws;                      // the mismatch drawn (options.mismatch_seed)
  // Caller-driven noise current sources into each cell's candidate summing node (layer-major),
  // oriented so that a positive value adds to the line's current; not in `body`: a run with
  // --noise adds them (`<name> n+ n- external`).
  std::vector<std::string> noise_sources, noise_source_lines;
  // The same for every line of the circuit (--noise-at all), in the graph's line order without
  // the held logit nodes: source k drives line_noise_lines[k] (a CircuitGraph line index).
  std::vector<std::string> line_noise_sources, line_noise_source_lines;
  std::vector<int> line_noise_lines;
  double unit_current_a = 1e-9;
};

// Builds the circuit. Parameters are first realised (see realise(): tiny weights and biases
// dropped, too narrow bands widened; listed in `realised`). Rejects a network still outside the
// realisable range or the cell's calibrated range with an InputError listing every parameter
// (unless options.clamp, which clamps them and lists each change in `clamped`), and a size outside
// the technology's limits naming the device.
CircuitModel build_circuit(const core::Network& net, const pdk::Technology& tech,
                           const CircuitOptions& options);

// The die a netlist's draws make, for the ct engine (its CtDie, on the graph of the circuit's
// network). A subthreshold device's current relative to its nominal is m = (1 + dbeta)
// exp(-dvth / (n U_T)), n U_T = slope_v: a copy's gain is off by m(copy) / m(its line's diode), a
// bias by m(output) / m(reference), a cell's bias current by 1 / m(its reference diode) and its
// input by 1 / m(the candidate's diode). Empty draws: the nominal die.
CtDie die_factors(const DeviceDraws& draws, double slope_v);

}  // namespace bmru::models
