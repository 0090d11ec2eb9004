#pragma once
// Small HDF5 files of named numeric arrays (characterization loops, tables) for users to open in
// h5py. Written to "<path>.part" and renamed when complete.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/run_file.hpp"

namespace bmru::core {

struct NamedArray {
  std::string name;  // dataset path, e.g. "up/candidate"
  std::vector<std::uint64_t> dims;
  std::vector<double> data;  // row-major
  std::string units;
};

void write_arrays(const std::filesystem::path& path, const std::vector<NamedArray>& arrays,
                  const std::vector<Attr>& root_attrs);

// Adds arrays (groups made as needed) and attributes (object path, attribute) to an existing HDF5
// file, whole or not at all: a copy is changed and renamed over it.
void append_arrays(const std::filesystem::path& path, const std::vector<NamedArray>& arrays,
                   const std::vector<std::pair<std::string, Attr>>& attrs);

// One numeric dataset of any HDF5 file ("hw/layer1/state"), converted to doubles. Throws
// FileError naming the file and the dataset.
NamedArray read_array(const std::filesystem::path& path, const std::string& name);

// Every dataset of an HDF5 file, as paths without the leading slash ("hw/layer1/state"), in the
// file's name order. Throws FileError naming the file when it is not HDF5.
std::vector<std::string> list_datasets(const std::filesystem::path& path);

// A numeric attribute of an object ("hw/waveforms/state", "dt"); nullopt when absent.
std::optional<double> read_number_attribute(const std::filesystem::path& path,
                                            const std::string& object, const std::string& name);

}  // namespace bmru::core
