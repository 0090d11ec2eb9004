#pragma once
// Model files in numpy's .npz form (numpy.savez), so that networks trained in PyTorch or JAX come
// in without h5py. Layout: one array per parameter, named as the model file's datasets
// (DESIGN.md section 6) without the leading "/model/":
//
//   pre_proj/kernel [n_in, d]   pre_proj/bias [d]
//   layer<l>/alphas, beta1, delta, initial_state [d], cand_kernel, post_kernel [d, d],
//            cand_bias, post_bias [d]                       (l from 1)
//   fc/kernel [d, n_out]        fc/bias [n_out]
//   unit_current                a 0-d array in amperes (optional; default 1e-9)
//
// In Python: numpy.savez("net.npz", **{"pre_proj/kernel": K, ...}); numpy.load("net.npz")
// gives the same names back. Arrays may be float64, float32, int64 or int32, little-endian, in C
// or Fortran order; they are read as float64.
#include <filesystem>

#include "core/network.hpp"

namespace bmru::core {

// Throws FileError naming the file and the array (a missing one, a wrong shape or type, a zip or
// .npy header that is not what numpy writes), or InputError listing the network's problems.
Network read_npz_model(const std::filesystem::path& path);

// float64 arrays in C order, stored uncompressed (as numpy.savez does). Atomic like every output.
void write_npz_model(const Network& net, const std::filesystem::path& path);

}  // namespace bmru::core
