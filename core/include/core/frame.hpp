#pragma once
// What an engine produces per frame, and the interface every engine of a BMRU network implements
// (the discrete reference engine, the continuous-time model, the SPICE engine's adapter).
#include <string>
#include <vector>

#include "core/network.hpp"

namespace bmru::core {

// One layer's signals for a batch of B sequences, each [B, d], in model units.
struct LayerFrame {
  Matrix candidate;  // c_t, non-negative
  Matrix state;      // h_t, 0 or alpha in the reference engine
  Matrix output;     // u_l, signed (post-projection plus skip)
};

// One frame for a batch of B sequences.
struct Frame {
  std::vector<LayerFrame> layers;
  Matrix logits;  // [B, n_out], signed

  Index batch() const { return logits.rows(); }
};

// Shapes of the traces an engine yields (for writers and comparators).
struct TraceShape {
  Index sequences = 0;
  Index frames = 0;
  Index n_in = 0;
  Index d = 0;
  Index n_layers = 0;
  Index n_out = 0;
};

// A model of a BMRU network that advances one frame at a time over a batch of sequences.
class FrameEngine {
 public:
  virtual ~FrameEngine() = default;
  // Short name used for the trace group ("sw", "ct", "hw").
  virtual std::string name() const = 0;
  // Starts `batch` sequences from the initial states.
  virtual void reset(Index batch) = 0;
  // Consumes x_k [B, n_in] (model units) and writes frame k into `out` (resized as needed).
  virtual void step(const Matrix& x, Frame& out) = 0;
};

}  // namespace bmru::core
