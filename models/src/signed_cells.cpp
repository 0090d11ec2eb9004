#include "models/signed_cells.hpp"

#include "core/errors.hpp"

namespace bmru::models {
namespace {

// z = [|c| >= |beta|] as 0/1, and sign(c) in {-1, 0, +1}.
Eigen::ArrayXXd fires(const Matrix& c, const Matrix& beta) {
  return (c.array().abs() >= beta.array().abs()).cast<double>();
}
Eigen::ArrayXXd sign(const Matrix& c) {
  return (c.array() > 0).cast<double>() - (c.array() < 0).cast<double>();
}

void same_shape(const Matrix& a, const Matrix& b, const Matrix& s) {
  if (a.rows() != b.rows() || a.cols() != b.cols() || a.rows() != s.rows() || a.cols() != s.cols())
    throw bmru::InputError("Signed cell update: candidate, beta and state must have one shape");
}

}  // namespace

Matrix signed_bmru_update(const Matrix& c, const Matrix& beta, const Matrix& s_prev) {
  same_shape(c, beta, s_prev);
  const Eigen::ArrayXXd z = fires(c, beta);
  return (z * sign(c) + (1.0 - z) * s_prev.array()).matrix();
}

Matrix cmru_update(const Matrix& c, const Matrix& beta, const Matrix& s_prev) {
  same_shape(c, beta, s_prev);
  return (s_prev.array() + fires(c, beta) * sign(c)).matrix();
}

Matrix step(const SignedCellLayer& layer, const Matrix& x, Matrix& s) {
  const Index d = layer.alpha.size();
  if (layer.candidate.out() != d || layer.beta.out() != d || x.cols() != layer.candidate.in() ||
      x.cols() != layer.beta.in())
    throw bmru::InputError("Signed cell layer: kernels, alpha and input widths do not agree");
  if (s.rows() != x.rows() || s.cols() != d)
    s = layer.initial_state.transpose().replicate(x.rows(), 1);
  Matrix c = x * layer.candidate.kernel;
  c.rowwise() += layer.candidate.bias.transpose();
  Matrix beta = x * layer.beta.kernel;
  beta.rowwise() += layer.beta.bias.transpose();
  s = layer.kind == SignedCellKind::signed_bmru ? signed_bmru_update(c, beta, s)
                                                : cmru_update(c, beta, s);
  return s.array().rowwise() * layer.alpha.transpose().array();
}

}  // namespace bmru::models
