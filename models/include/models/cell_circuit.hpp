#pragma once
// The 9-transistor current-mode BMRU cell of DESIGN.md section 2, as a subcircuit, and the test
// bench that characterizes it. Transistor sizes live here, in one place.
//
//   V0 (summing node): M1 (PMOS, gate `pc`) sources the candidate;
//                      M9 (PMOS, gate p7) sources the feedback I_fb; M2 (NMOS, gate `gth`) sinks
//                      I_thresh.
//   output branch:     M4 (diode PMOS, through the sense source Vs, gate `po`) - M3 (NMOS switch,
//                      gate V0) - M5 (NMOS, gate `gg`, I_gain).
//   feedback branch:   M7 (diode PMOS, gate p7) - M6 (NMOS switch, gate V0) - M8 (NMOS, gate `gw`,
//                      I_width); M9 mirrors it into V0.
// It switches up at c = I_thresh and down at c = I_thresh - I_width; its on-level is I_gain.
#include <string>

#include "pdk/technology.hpp"

namespace bmru::models {

// Long channels for matching and low channel-length modulation, narrow long switches
// (measured starting point: 1/16 um mirrors, 0.22/10 um switches). M1 and M4 face the network:
// they mirror the network's reference devices, so they share their size (MirrorSizes).
struct CellSizes {
  pdk::Device interface_p{
      pdk::Polarity::p, 4e-6, 16e-6, 1, {}};  // M1, M4 (and the bench's input diode)
  pdk::Device mirror_n{pdk::Polarity::n, 1e-6, 16e-6, 1, {}};  // M2, M5, M8 and their bias diodes
  pdk::Device mirror_p{pdk::Polarity::p, 1e-6, 16e-6, 1, {}};  // M7, M9
  pdk::Device switch_n{pdk::Polarity::n, 0.22e-6, 10e-6, 1, {}};  // M3, M6
  // The bias lines' reference diodes: W/L bias_ratio times below mirror_n's, so a reference
  // current of I / bias_ratio sets I in M2, M5 and M8 (the reference branches draw 1/8 of the
  // cell's bias currents).
  double bias_ratio = 8;
  pdk::Device bias_ref_n{pdk::Polarity::n, 0.25e-6, 32e-6, 1, {}};
};

// The cell's pins, in order: supply, ground, candidate gate line (a PMOS diode carrying c),
// the three bias gate lines (NMOS diodes carrying I_thresh, I_width, I_gain) and the output gate
// line `po` (mirror it with PMOS devices to copy I_out). Probe inside an instance X<name>: the
// state "v.x<name>.vs#branch" (I_out). The candidate is probed where it is formed, upstream.
inline constexpr const char* kCellSubckt = "bmru_cell";
std::string cell_subckt(const pdk::Technology& tech, const CellSizes& sizes = {});

struct CellBias {
  double ithresh_a = 0;
  double iwidth_a = 0;
  double igain_a = 0;
};

// A characterization bench: one cell, ideal reference currents (bias / bias_ratio) into the
// reference diodes of the three biases, and the candidate from the ideal source `Icand` through a
// PMOS diode. DC-sweep `Icand`. CellBias holds the nominal bias currents (reference x bias_ratio).
std::string cell_bench(const pdk::Technology& tech, const pdk::Conditions& conditions,
                       const CellBias& bias, const CellSizes& sizes = {});

}  // namespace bmru::models
