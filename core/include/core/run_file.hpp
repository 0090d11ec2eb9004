#pragma once
// The run file of DESIGN.md section 6, written incrementally. Nothing here exposes HDF5 types.
//
// Atomicity: everything is written to "<out>.part"; commit() renames it to "<out>". A run that
// fails leaves a readable .part file with what was written so far and never touches an existing
// <out>.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/attr.hpp"
#include "core/comparator.hpp"
#include "core/element_map.hpp"
#include "core/frame.hpp"
#include "core/network.hpp"
#include "core/vote.hpp"

namespace bmru::core {

inline constexpr const char* kRunFormat = "bmru-cosim/1";

struct RunInfo {
  std::string tool_version;
  std::string command_line;
};

namespace detail {
struct RunFileState;  // the open HDF5 file, shared by the file and its writers
}

// One column of a table (a 1-D compound dataset h5py reads as a structured array): its name and
// one value per row, all of one kind (double, int64 or string).
struct TableColumn {
  std::string name;
  std::vector<AttrValue> values;
};

// About how many bytes a run file of this shape takes: /inputs, `engines` trace sets (sw, hw,
// ct), power and first crossings, and `waveform_points` per frame of every cell's output.
double estimate_run_bytes(const TraceShape& shape, int engines, int waveform_points);

// Streams /inputs [S, N, n_in].
class InputsWriter {
 public:
  // Frames [k0, k0 + x.size()) of sequences [s0, s0 + B): x[j] is [B, n_in].
  void write_block(Index s0, Index k0, const std::vector<Matrix>& x);

 private:
  friend class RunFile;
  struct Impl;
  explicit InputsWriter(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// Streams one engine's traces: /<engine>/layer<l>/{candidate,state,output}, logits, and at the end
// decision and vote_margin. Every dataset carries a `units` attribute.
class TraceWriter {
 public:
  // Frames [k0, k0 + frames.size()) of sequences [s0, s0 + B), B = frames[j].batch().
  void write_block(Index s0, Index k0, const std::vector<Frame>& frames);
  void write_decisions(const std::vector<Decision>& decisions);
  // Frames per HDF5 chunk: blocks of this many frames, aligned to it, write whole chunks.
  Index preferred_block() const;

 private:
  friend class RunFile;
  struct Impl;
  explicit TraceWriter(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// Streams a [S, N] series (e.g. /hw/power/total), or [S, rows, width] rows (RunFile::add_rows).
class SeriesWriter {
 public:
  // Values of frames [k0, k0 + values.size()) of sequence s (rows [k0, k0 + n) for add_rows).
  void write(Index s, Index k0, const std::vector<double>& values);

 private:
  friend class RunFile;
  struct Impl;
  explicit SeriesWriter(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

class RunFile {
 public:
  RunFile(const std::filesystem::path& out, const RunInfo& info);
  RunFile(RunFile&&) noexcept;
  RunFile& operator=(RunFile&&) noexcept;
  ~RunFile();

  void write_config(const std::vector<Attr>& attrs);
  void write_model(const Network& net);
  // /netlist/{lockstep, standalone} as text datasets with a `sha256` attribute (hex of the text),
  // and /netlist_map as a compound dataset (instance, kind, parameter, value, unit).
  void write_netlist(const std::string& lockstep, const std::string& standalone);
  void write_netlist_map(const std::vector<ElementRow>& rows);
  InputsWriter add_inputs(const TraceShape& shape);
  // `units`: "model units" for behavioural engines, "A" for hardware traces.
  TraceWriter add_traces(const std::string& engine, const TraceShape& shape,
                         const std::string& units);
  // A [sequences, frames] dataset at `path` (groups created as needed), with a `units` attribute.
  SeriesWriter add_series(const std::string& path, Index sequences, Index frames,
                          const std::string& units);
  // A [sequences, rows, width] dataset (chunked, compressed), written a block of rows at a time by
  // SeriesWriter::write(s, row0, values) with values row-major [n, width]: dense waveforms.
  SeriesWriter add_rows(const std::string& path, Index sequences, Index rows, Index width,
                        const std::string& units);
  // An attribute on an existing group or dataset ("/hw/waveforms/state").
  void set_attr(const std::string& path, const Attr& attr);
  // /metrics (or /metrics/<pair>): the run-level figures as attributes (with a `formulas`
  // attribute citing DESIGN.md section 5), per-cell [layer, cell] and per-sequence [S] datasets.
  void write_metrics(const std::string& group, const Metrics& metrics,
                     const std::vector<Attr>& extra);
  // A 1-D compound dataset `name` at the root, one field per column in the given order (a sweep's
  // /summary; its schema lives with the sweep). Throws InputError when columns differ in length or
  // mix kinds.
  void write_table(const std::string& name, const std::vector<TableColumn>& columns);
  // /sequences/{status ("ok" or "failed"), error (text, "" when ok), frames_completed}, one entry
  // per sequence: which traces are whole (frames never simulated hold NaN).
  void write_sequence_status(const std::vector<std::string>& status,
                             const std::vector<std::string>& error,
                             const std::vector<std::int64_t>& frames_completed);
  // /runs/<id>: every object and root attribute of the committed run file `run_file`, copied.
  void copy_run(const std::string& id, const std::filesystem::path& run_file);
  // Closes the file and moves it into place. Further writes throw.
  void commit();

  const std::filesystem::path& path() const;

 private:
  std::shared_ptr<detail::RunFileState> impl_;
};

}  // namespace bmru::core
