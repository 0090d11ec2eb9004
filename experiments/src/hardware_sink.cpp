#include "hardware_sink.hpp"

#include <cmath>

#include "core/errors.hpp"
#include "core/frame_record.hpp"

namespace bmru::experiments {
namespace {

core::Frame empty_frame(const core::Network& net) {
  core::Frame f;
  f.layers.resize(static_cast<size_t>(net.n_layers()));
  for (auto& l : f.layers) {
    l.candidate.resize(1, net.d());
    l.state.resize(1, net.d());
    l.output.resize(1, net.d());
  }
  f.logits.resize(1, net.n_out());
  return f;
}

}  // namespace

std::vector<std::string> probe_list(const models::PortMap& p) {
  std::vector<std::string> out;
  for (const auto& l : p.layers) {
    out.insert(out.end(), l.candidate.begin(), l.candidate.end());
    out.insert(out.end(), l.state.begin(), l.state.end());
    for (const auto& q : l.output) {
      out.insert(out.end(), q.pos.begin(), q.pos.end());
      out.insert(out.end(), q.neg.begin(), q.neg.end());
    }
  }
  for (const auto& q : p.logits) {
    out.push_back(q.pos);
    out.push_back(q.neg);
  }
  return out;
}

HardwareSink::HardwareSink(core::RunFile& file, const core::Network& net,
                           const core::TraceShape& shape, const FidelityOptions& o,
                           const Target& target, double vdd_v)
    : net_(net),
      o_(o),
      target_(target),
      vdd_v_(vdd_v),
      probes_(probe_list(target.ports).size()),
      cells_(static_cast<size_t>(net.n_layers() * net.d())),
      sinks_(file, net, shape, true, o.ct, target.has_logits),
      seq_(static_cast<size_t>(shape.sequences)) {
  const core::Index S = shape.sequences, N = shape.frames;
  for (const auto b : core::kPowerBlocks)
    power_.push_back(file.add_series(std::string("hw/power/") + core::block_name(b), S, N, "W"));
  if (o.waveform_points > 0) {
    waves_ = file.add_rows("hw/waveforms/state", S, N * o.waveform_points, net.n_layers() * net.d(),
                           "A");
    file.set_attr("/hw/waveforms/state", {"dt", o.axis.period_s / o.waveform_points});
    file.set_attr("/hw/waveforms/state",
                  {"description", std::string("every cell's output current I_out (columns: "
                                              "layer-major, cell), sampled at t = i * dt, "
                                              "linear between SPICE's accepted points")});
  }
  if (target.has_logits) {
    lead_ = file.add_rows("hw/argmax_time", S, N, net.n_out(), "s");
    file.set_attr("/hw/argmax_time",
                  {"description", std::string("per frame and class, how long the class's logit "
                                              "current was the largest (over SPICE's accepted "
                                              "points): what --decision time-share counts")});
  }
  if (!target.cell_supplies.empty()) {
    cell_power_ = file.add_rows("hw/power/cell", S, N, net.n_layers() * net.d(), "W");
    file.set_attr("/hw/power/cell",
                  {"description", std::string("average power of each cell's own supply lead per "
                                              "frame (columns: layer-major, cell); their sum "
                                              "is /hw/power/cells")});
  }
  if (!target.position_supplies.empty() && !target.cell_supplies.empty()) {
    const auto P = static_cast<core::Index>(target.ports.positions.size());
    position_power_ = file.add_rows("hw/power/position", S, N, P, "W");
    std::string names;
    for (const auto& p : target.ports.positions) names += (names.empty() ? "" : ",") + p;
    file.set_attr("/hw/power/position", {"columns", names});
    file.set_attr("/hw/power/position",
                  {"description", std::string("average power per frame of each position in the "
                                              "network: its feed-forward and bias rails and, "
                                              "for a layer, its cells; they sum to "
                                              "/hw/power/total")});
  }
}

void HardwareSink::check_shape(const core::FrameRecord& rec) const {
  const size_t wave = static_cast<size_t>(o_.waveform_points) * cells_;
  if (rec.probes.size() != probes_ ||
      rec.sw.layers.size() != static_cast<size_t>(net_.n_layers()) ||
      rec.supply_charge.size() != target_.supplies.size() + target_.cell_supplies.size() +
                                      target_.position_supplies.size() ||
      rec.crossings.size() != cells_ || rec.waveform.size() != wave ||
      rec.ct.has_value() != o_.ct ||
      rec.argmax_s.size() != (lead_ ? static_cast<size_t>(net_.n_out()) : 0))
    throw Error(
        "A worker sent a frame record of another shape than this run's (probes, layers, "
        "supplies, cells, waveform, ct or logit lead times)");
}

// The SPICE adapter's one conversion: probe currents (A, signed pairs as pos - neg) to a frame,
// and that frame in model units for the comparators and votes.
LockstepFrame HardwareSink::convert(core::FrameRecord& rec) const {
  const double unit = net_.unit_current_a;
  const auto d = static_cast<size_t>(net_.d());
  const std::vector<double>& r = rec.probes;
  LockstepFrame f;
  f.hw_amps = empty_frame(net_);
  core::Frame& h = f.hw_amps;
  core::Frame& hm = f.hw.emplace(empty_frame(net_));
  size_t p = 0;
  for (auto l = 0u; l < h.layers.size(); ++l) {
    for (size_t i = 0; i < d; ++i) h.layers[l].candidate(0, static_cast<core::Index>(i)) = r[p++];
    for (size_t i = 0; i < d; ++i) h.layers[l].state(0, static_cast<core::Index>(i)) = r[p++];
    for (size_t i = 0; i < d; ++i) {
      const models::PortSum& q = target_.ports.layers[l].output[i];
      double u = 0;
      for (size_t k = 0; k < q.pos.size(); ++k) u += r[p++];
      for (size_t k = 0; k < q.neg.size(); ++k) u -= r[p++];
      h.layers[l].output(0, static_cast<core::Index>(i)) = u;
    }
    for (const auto m :
         {&core::LayerFrame::candidate, &core::LayerFrame::state, &core::LayerFrame::output})
      hm.layers[l].*m = (h.layers[l].*m) / unit;
  }
  for (core::Index j = 0; j < net_.n_out(); ++j, p += 2)
    h.logits(0, j) = target_.has_logits ? r[p] - r[p + 1] : std::nan("");
  hm.logits = h.logits / unit;
  f.sw = std::move(rec.sw);
  f.hw_crossings.resize(static_cast<size_t>(net_.n_layers()));
  for (size_t c = 0; c < cells_; ++c) f.hw_crossings[c / d].push_back(rec.crossings[c]);
  if (rec.ct) {
    f.ct_crossings.resize(static_cast<size_t>(net_.n_layers()));
    for (size_t c = 0; c < cells_; ++c) f.ct_crossings[c / d].push_back(rec.ct->crossings[c]);
    f.ct = std::move(rec.ct->frame);
  }
  return f;
}

void HardwareSink::on_record(core::Index s, const std::string& bytes) {
  core::FrameRecord rec = core::decode_frame_record(bytes);
  check_shape(rec);
  const core::Index k = rec.k;
  Sequence& q = seq_[static_cast<size_t>(s)];
  // A rerun (after a worker died) sends the frames it already sent again, identically.
  if (k < q.received) return;
  q.received = k + 1;
  if (waves_ && !rec.waveform.empty())
    // Written as it comes (the chunk cache completes the chunk): waveforms are several times the
    // size of the frame traces and would dominate the pending block's memory.
    waves_->write(s, k * o_.waveform_points, rec.waveform);
  if (lead_) lead_->write(s, k, rec.argmax_s);
  add_power(s, k, rec.supply_charge);
  if (rec.ct) {
    spice_s += rec.ct->spice_s;
    ct_s += rec.ct->ct_s;
  }
  sinks_.add(s, k, convert(rec));
}

// Supply branch currents flow out of the + node: power = -integral x vdd / T. A block the netlist
// does not measure is NaN (and so is the total).
void HardwareSink::add_power(core::Index s, core::Index k, const std::vector<double>& charge) {
  Sequence& q = seq_[static_cast<size_t>(s)];
  const double T = o_.axis.period_s;
  const size_t n_blocks = target_.supplies.size();
  core::PowerByBlock watts;
  for (const auto b : core::kSupplyBlocks) watts[b] = std::nan("");
  for (size_t j = 0; j < n_blocks; ++j) watts[target_.supplies[j].first] = -charge[j] * vdd_v_ / T;
  // A sense source carries its lead's current into its + node: power = +integral x vdd / T.
  const size_t n_cells = target_.cell_supplies.size();
  std::vector<double> per_cell;
  for (size_t j = n_blocks; j < n_blocks + n_cells; ++j) per_cell.push_back(charge[j] * vdd_v_ / T);
  if (cell_power_) cell_power_->write(s, k, per_cell);
  if (position_power_) {
    // Position p's rails (feed-forward, bias), and for a layer (p = 1..L) its d cells.
    const size_t P = target_.ports.positions.size(), d = static_cast<size_t>(net_.d());
    std::vector<double> per_position(P, 0.0);
    for (size_t p = 0; p < P; ++p) {
      for (size_t r = 0; r < 2; ++r)
        per_position[p] += charge[n_blocks + n_cells + 2 * p + r] * vdd_v_ / T;
      if (p >= 1 && p + 1 < P)
        for (size_t i = 0; i < d; ++i) per_position[p] += per_cell[(p - 1) * d + i];
    }
    position_power_->write(s, k, per_position);
    q.position_sum.resize(P, 0.0);
    for (size_t p = 0; p < P; ++p) q.position_sum[p] += per_position[p];
  }
  double total = 0;
  for (const auto b : core::kSupplyBlocks) {
    q.power[static_cast<size_t>(b)].push_back(watts[b]);
    q.power_sum[b] += watts[b];
    total += watts[b];
  }
  q.power[static_cast<size_t>(core::PowerBlock::total)].push_back(total);
  q.power_sum[core::PowerBlock::total] += total;
  ++q.power_frames;
  if (static_cast<core::Index>(q.power.front().size()) >= sinks_.block()) flush_power(s);
}

void HardwareSink::flush_power(core::Index s) {
  Sequence& q = seq_[static_cast<size_t>(s)];
  if (q.power.front().empty()) return;
  for (size_t b = 0; b < power_.size(); ++b) power_[b].write(s, q.next_k, q.power[b]);
  q.next_k += static_cast<core::Index>(q.power.front().size());
  for (auto& p : q.power) p.clear();
}

core::Index HardwareSink::frames_received(core::Index s) const {
  return seq_[static_cast<size_t>(s)].received;
}

void HardwareSink::end_sequence(core::Index s, bool complete) {
  flush_power(s);
  sinks_.end_sequence(s, complete);
}

core::PowerByBlock HardwareSink::mean_power() const {
  // Summed in sequence order, so the mean does not depend on the order frames arrived in.
  core::PowerByBlock sum, mean;
  long long frames = 0;
  for (const auto& q : seq_) {
    for (const auto b : core::kPowerBlocks) sum[b] += q.power_sum[b];
    frames += q.power_frames;
  }
  for (const auto b : core::kPowerBlocks)
    mean[b] = frames ? sum[b] / static_cast<double>(frames) : 0;
  return mean;
}

std::vector<double> HardwareSink::mean_position_power() const {
  std::vector<double> sum;
  long long frames = 0;
  for (const auto& q : seq_) {
    if (q.position_sum.empty()) continue;
    sum.resize(q.position_sum.size(), 0.0);
    for (size_t p = 0; p < sum.size(); ++p) sum[p] += q.position_sum[p];
    frames += q.power_frames;
  }
  for (double& v : sum) v = frames ? v / static_cast<double>(frames) : 0;
  return sum;
}

}  // namespace bmru::experiments
