#pragma once
// The `/model` group, shared by model files and run files.
#include "core/network.hpp"
#include "h5.hpp"

namespace bmru::core {

void write_model_group(const h5::Loc& parent, const Network& net);
Network read_model_group(const h5::Loc& parent);

}  // namespace bmru::core
