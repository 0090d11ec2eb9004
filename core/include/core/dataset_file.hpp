#pragma once
// Feature and labelled dataset files (the speech front end's output; read by fidelity --inputs and
// the task commands). Layout, for users with h5py:
//
//   /                 attrs: format "bmru-dataset/1", tool_version, command_line, created (UTC)
//   /inputs           [S, N, n_features] float64; feature settings as attributes
//   /name             [S] strings (the clip's file name or synthetic id); /names is the same list
//                     under the name `bmru features` documents
//   /labels           [S] int64 class index           (labelled datasets only)
//   /classes          [n_classes] strings             (labelled datasets only)
//   /speaker          [S] strings                     (labelled datasets only)
//   /split_<scheme>   [S] strings, each "train", "val" or "test"
//
// Written to "<path>.part" and renamed when complete, like every file of this project.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/run_file.hpp"

namespace bmru::core {

inline constexpr const char* kDatasetFormat = "bmru-dataset/1";

struct Split {
  std::string scheme;             // "own", "speaker", "voice"
  std::vector<std::string> part;  // per clip: "train", "val" or "test"
};

struct Dataset {
  Index sequences = 0, frames = 0, features = 0;
  std::vector<double> inputs;        // row-major [sequences, frames, features]
  std::vector<Attr> input_attrs;     // feature settings (kind, count, sample_rate, ...)
  std::vector<std::string> name;     // per clip
  std::vector<std::int64_t> labels;  // per clip; empty for unlabelled feature files
  std::vector<std::string> classes;
  std::vector<std::string> speaker;
  std::vector<Split> splits;

  // Appends one clip's [frames, features] matrix to /inputs (the first sets frames and features;
  // later ones must match, else InputError).
  void append_clip(const Matrix& clip_features);
  // Clip c's [frames, features] inputs.
  Matrix clip(Index c) const;
  // Frame t of the clips which[0 .. x.rows()) as the rows of x [clips, features].
  void frame_of(const std::vector<Index>& which, Index t, Matrix& x) const;
  // Every problem of the shapes and labels at once (empty when consistent).
  std::vector<std::string> problems() const;
  // Indices of the clips whose part of `scheme` is `part`; throws InputError naming the scheme or
  // the part when there is none.
  std::vector<Index> select(const std::string& scheme, const std::string& part) const;
};

// The attributes of /inputs in an HDF5 input file (the feature settings), empty for a CSV file or
// an HDF5 file without them. Throws FileError naming an unreadable file.
std::vector<Attr> read_input_attrs(const std::filesystem::path& path);

// Throws InputError when `net` records feature settings (it was trained on a dataset) that the
// inputs in `path` contradict or leave out, naming every such setting. Inputs that state no
// feature settings at all (a CSV file, an HDF5 file written by hand) are not checked.
void check_input_features(const Network& net, const std::filesystem::path& path);

// Throws InputError listing problems() before anything is written, FileError on I/O failure.
void write_dataset(const std::filesystem::path& path, const Dataset& dataset, const RunInfo& info);
// Reads the whole file; throws FileError naming the file and dataset on a malformed file.
Dataset read_dataset(const std::filesystem::path& path);

}  // namespace bmru::core
