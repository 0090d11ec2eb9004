#pragma once
// Model files: HDF5 with the `/model` layout of DESIGN.md section 6 (the published parameter
// names), or JSON with the same nesting and names. Both round-trip exactly.
#include <filesystem>
#include <string>

#include "core/network.hpp"

namespace bmru::core {

inline constexpr const char* kModelFormat = "bmru-model/1";

// Reads an HDF5 or JSON model (told apart by content, not by extension) and validates it.
// Throws FileError naming the file and dataset/key, or InputError listing the network's problems.
Network read_model(const std::filesystem::path& path);

// Writes JSON when the extension is .json, HDF5 otherwise. Replaces the file atomically.
void write_model(const Network& net, const std::filesystem::path& path);

// The JSON model as text, and back (errors name `source`), for passing networks between processes.
std::string model_to_json(const Network& net);
Network model_from_json(const std::string& text, const std::string& source);

}  // namespace bmru::core
