#include "engine_stream.hpp"

#include <cmath>

namespace bmru::experiments {

const char* const kFirstCrossingText =
    "when each cell's output current first crossed alpha/2 in each frame: seconds from the frame "
    "start (columns: layer-major, cell); NaN where it did not cross";

std::vector<double> first_crossing_row(const std::vector<std::vector<core::Crossings>>& crossings) {
  std::vector<double> row;
  for (const auto& layer : crossings)
    for (const core::Crossings& c : layer)
      row.push_back(c.count > 0 ? c.first_offset_s : std::nan(""));
  return row;
}

EngineStream::EngineStream(core::RunFile& file, const std::string& engine,
                           const core::TraceShape& shape, const std::string& units,
                           bool first_crossings)
    : traces_(file.add_traces(engine, shape, units)),
      seq_(static_cast<size_t>(shape.sequences), Sequence{{}, 0, core::VoteCounter(shape.n_out)}),
      block_(traces_.preferred_block()) {
  if (first_crossings) {
    first_ = file.add_rows(engine + "/first_crossing", shape.sequences, shape.frames,
                           shape.n_layers * shape.d, "s");
    file.set_attr("/" + engine + "/first_crossing",
                  {"description", std::string(kFirstCrossingText)});
  }
}

void EngineStream::add(core::Index s, core::Index k, core::Frame frame, const core::Matrix* vote,
                       const std::vector<std::vector<core::Crossings>>* crossings) {
  Sequence& q = seq_[static_cast<size_t>(s)];
  if (vote) q.votes.add(vote->row(0));
  if (first_ && crossings) first_->write(s, k, first_crossing_row(*crossings));
  q.pending.push_back(std::move(frame));
  if (static_cast<core::Index>(q.pending.size()) >= block_) flush(s);
}

void EngineStream::flush(core::Index s) {
  Sequence& q = seq_[static_cast<size_t>(s)];
  if (q.pending.empty()) return;
  traces_.write_block(s, q.next_k, q.pending);
  q.next_k += static_cast<core::Index>(q.pending.size());
  q.pending.clear();
}

core::Decision EngineStream::decision(core::Index s) const {
  return seq_[static_cast<size_t>(s)].votes.result();
}

void EngineStream::write_decisions(const std::vector<core::Decision>& decisions) {
  traces_.write_decisions(decisions);
}

}  // namespace bmru::experiments
