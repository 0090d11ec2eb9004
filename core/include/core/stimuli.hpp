#pragma once
// Input sequences x_k (model units), read block by block so that memory does not grow with the
// number of frames.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/network.hpp"

namespace bmru::core {

// S sequences of N frames of n_in inputs.
class StimulusSource {
 public:
  virtual ~StimulusSource() = default;
  virtual Index sequences() const = 0;
  virtual Index frames() const = 0;
  virtual Index n_in() const = 0;
  // Frames [k0, k0 + count) of every sequence: out[j] is [S, n_in] for frame k0 + j.
  virtual void read(Index k0, Index count, std::vector<Matrix>& out) = 0;
  // Frames [k0, k0 + count) of one sequence: [count, n_in].
  virtual Matrix read_sequence(Index s, Index k0, Index count) = 0;
  // Short description for the run file's /config ("random seed=1", "file inputs.h5").
  virtual std::string describe() const = 0;
};

// Seeded random sequences shaped like normalised audio features: each input is N(0, 1) clipped to
// +-3 and held for a random run of 1-5 frames (each input has its own runs). Boost.Random's
// generators and distributions are specified exactly, so a seed gives the same inputs everywhere.
struct RandomStimulusSpec {
  Index sequences = 8;
  Index frames = 101;
  Index n_in = 13;
  std::uint64_t seed = 1;
  bool operator==(const RandomStimulusSpec&) const = default;
};
std::unique_ptr<StimulusSource> random_stimuli(const RandomStimulusSpec& spec);

// Inputs from a file: HDF5 dataset `/inputs` [S, N, n_in] (any numeric type), or CSV [N, n_in] for
// one sequence (comma-separated, '#' comments and one non-numeric header line allowed).
// Checks the shape against `n_in` and every value for NaN/Inf; errors name the file and position.
std::unique_ptr<StimulusSource> file_stimuli(const std::filesystem::path& path, Index n_in);

// Convenience: all frames of all sequences, [S] x [N, n_in]. For tests and small runs only.
std::vector<Matrix> read_all(StimulusSource& source);

}  // namespace bmru::core
