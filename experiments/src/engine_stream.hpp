#pragma once
// One engine's traces of a run (/sw, /hw or /ct), as every lockstep loop writes them: frames kept
// per sequence and written in blocks of the file's chunk length, the first crossings of alpha/2 as
// they come, a majority vote per sequence, the decisions at the end. Shared by the SPICE lockstep
// (fidelity.cpp) and the models-only run (fidelity_ct.cpp).
#include <optional>
#include <string>
#include <vector>

#include "core/comparator.hpp"
#include "core/run_file.hpp"
#include "core/vote.hpp"

namespace bmru::experiments {

// The description stored with every /<engine>/first_crossing dataset.
extern const char* const kFirstCrossingText;

class EngineStream {
 public:
  // `first_crossings`: also /<engine>/first_crossing [S, N, cells] in seconds (NaN: no crossing).
  EngineStream(core::RunFile& file, const std::string& engine, const core::TraceShape& shape,
               const std::string& units, bool first_crossings);

  // Frame k of sequence s (each sequence's frames in order). `vote` is the frame's logits [1,
  // n_out] in model units, or null when the engine has none to vote with.
  void add(core::Index s, core::Index k, core::Frame frame, const core::Matrix* vote,
           const std::vector<std::vector<core::Crossings>>* crossings = nullptr);
  // Writes what sequence s has pending (also done whenever a block fills).
  void flush(core::Index s);
  // The majority vote of the frames added for sequence s.
  core::Decision decision(core::Index s) const;
  void write_decisions(const std::vector<core::Decision>& decisions);
  // Frames per written block: the file's chunk length (other per-frame series follow it).
  core::Index block() const { return block_; }

 private:
  struct Sequence {
    std::vector<core::Frame> pending;
    core::Index next_k = 0;  // first frame of the pending block
    core::VoteCounter votes;
  };
  core::TraceWriter traces_;
  std::optional<core::SeriesWriter> first_;
  std::vector<Sequence> seq_;
  core::Index block_;
};

// The row of first crossings of a frame: per cell (layer-major) the first offset, NaN if none.
std::vector<double> first_crossing_row(const std::vector<std::vector<core::Crossings>>& crossings);

}  // namespace bmru::experiments
