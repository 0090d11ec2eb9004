#pragma once
// Finding technologies: generic180 is built in; GF180MCU is found through PDK_ROOT and PDK
// (default order gf180mcuD, C, B, A; common roots ~/.ciel, ~/.volare, /foss/pdks when PDK_ROOT is
// unset) or an explicit path to its ngspice model folder or to sm141064.ngspice.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pdk/technology.hpp"

namespace bmru::pdk {

std::unique_ptr<Technology> generic180();

// The GF180MCU model folder (holding sm141064.ngspice and design.ngspice), or an error that lists
// every place it looked. `explicit_path` wins over the environment.
std::filesystem::path find_gf180(const std::optional<std::filesystem::path>& explicit_path = {});
std::unique_ptr<Technology> gf180mcu(const std::filesystem::path& model_dir);

// "generic180" or "gf180mcu" (also "gf180"), with an optional explicit PDK path.
std::unique_ptr<Technology> open_technology(const std::string& name,
                                            const std::optional<std::filesystem::path>& path = {});

struct Available {
  std::string name;
  std::string location;  // or why it was not found
  bool found = false;
};
std::vector<Available> list_technologies();

}  // namespace bmru::pdk
