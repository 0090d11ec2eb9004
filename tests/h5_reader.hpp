#pragma once
// Reads a dataset with the plain HDF5 C API (independent of core's writer) for the tests' checks.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <string>
#include <vector>

namespace bmru::test {

inline std::vector<double> read_dataset(const std::filesystem::path& path, const std::string& name,
                                        std::vector<hsize_t>* dims = nullptr) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << path;
  hid_t d = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  EXPECT_GE(d, 0) << name;
  hid_t s = H5Dget_space(d);
  std::vector<hsize_t> dd(static_cast<size_t>(std::max(0, H5Sget_simple_extent_ndims(s))));
  H5Sget_simple_extent_dims(s, dd.data(), nullptr);
  hsize_t n = 1;
  for (auto x : dd) n *= x;
  std::vector<double> v(n);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  if (dims) *dims = dd;
  return v;
}

}  // namespace bmru::test
