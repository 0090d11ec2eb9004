#pragma once
// Software-only cells of the BMRU family (DESIGN.md section 1), for comparison in software; they
// have no circuit mapping. Both use z = [|c_t| >= |beta_t|] with beta_t = x K_b + b_b:
//   signed BMRU: s_t = z sign(c_t) + (1 - z) s_{t-1}, output alpha s_t   (s in {-1, 0, +1})
//   CMRU:        s_t = s_{t-1} + z sign(c_t),           output alpha s_t   (s counts up and down)
#include "core/network.hpp"

namespace bmru::models {

using core::Index;
using core::Matrix;
using core::Vector;

enum class SignedCellKind { signed_bmru, cmru };

// One layer of d software cells fed by x [B, n]: c_t = x K_c + b_c, beta_t = x K_b + b_b.
struct SignedCellLayer {
  SignedCellKind kind = SignedCellKind::signed_bmru;
  core::Projection candidate;  // [n, d]
  core::Projection beta;       // [n, d]
  Vector alpha;                // [d]
  Vector initial_state;        // s_{-1} [d]
};

// Advances the states s [B, d] one frame for inputs x [B, n]; returns the outputs alpha s_t [B, d].
Matrix step(const SignedCellLayer& layer, const Matrix& x, Matrix& s);

// The cell updates themselves, element-wise on [B, d] arrays.
Matrix signed_bmru_update(const Matrix& c, const Matrix& beta, const Matrix& s_prev);
Matrix cmru_update(const Matrix& c, const Matrix& beta, const Matrix& s_prev);

}  // namespace bmru::models
