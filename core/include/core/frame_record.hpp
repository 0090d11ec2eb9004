#pragma once
// One frame of a lockstep sequence as a worker sends it to the parent (DESIGN.md section 4), and
// its one codec for the worker wire. Values are carried exactly (IEEE doubles), so a decoded record
// holds the very numbers the worker computed.
//
// Binary layout, version 2 (little-endian; every count and value 8 bytes unless said):
//   u32 magic 0x52464D42 ("BMFR"), u32 version = 2
//   i64 k (the frame)
//   u64 counts: probes, layers, d, n_out, supplies, cells, waveform values, has_ct (0 or 1),
//               argmax times (0 or n_out)
//   f64 probes[probes]                 hardware probe currents in amperes, in the probe order
//   f64 sw frame                       per layer candidate[d], state[d], output[d]; logits[n_out]
//   f64 supply_charge[supplies]        each supply current integrated over the frame (A s)
//   per cell: f64 count, f64 first     crossings of alpha/2 in the frame, first offset (s; -1:
//   none) f64 waveform[waveform values]      [R, cells] output currents at R instants of the frame
//   (A) if has_ct: ct frame (like sw), per cell (count, first), f64 spice_s, f64 ct_s
//   f64 argmax_s[argmax times]         seconds of the frame each logit pair was the largest
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/comparator.hpp"
#include "core/frame.hpp"

namespace bmru::core {

inline constexpr unsigned kFrameRecordVersion = 2;

struct CtFrameRecord {
  Frame frame;                       // batch 1, model units
  std::vector<Crossings> crossings;  // per cell, layer-major
  double spice_s = 0, ct_s = 0;      // wall seconds SPICE and ct spent on this frame
};

struct FrameRecord {
  Index k = 0;
  std::vector<double> probes;
  Frame sw;  // batch 1, model units
  std::vector<double> supply_charge;
  std::vector<Crossings> crossings;  // per cell, layer-major
  std::vector<double> waveform;
  std::optional<CtFrameRecord> ct;
  // Per class, how long within the frame its logit current was the largest (over SPICE's accepted
  // points): the dense waveform `--decision time-share` decides by. Empty without logit probes.
  std::vector<double> argmax_s;
};

std::string encode(const FrameRecord& record);
// Throws Error naming what is wrong (magic, version, a count, the length).
FrameRecord decode_frame_record(std::string_view bytes);

}  // namespace bmru::core
