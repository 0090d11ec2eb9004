#pragma once
// The power blocks of DESIGN.md section 2: each draws from its own supply (cells, feed-forward,
// bias); total is their sum. Named, never numbered, everywhere they are stored or printed.
#include <array>
#include <string>

namespace bmru::core {

enum class PowerBlock { cells, feedforward, bias, total };

inline constexpr std::array<PowerBlock, 3> kSupplyBlocks{PowerBlock::cells, PowerBlock::feedforward,
                                                         PowerBlock::bias};
inline constexpr std::array<PowerBlock, 4> kPowerBlocks{PowerBlock::cells, PowerBlock::feedforward,
                                                        PowerBlock::bias, PowerBlock::total};

// "cells", "feedforward", "bias", "total": dataset names (/hw/power/<name>) and attribute stems.
constexpr const char* block_name(PowerBlock b) {
  switch (b) {
    case PowerBlock::cells:
      return "cells";
    case PowerBlock::feedforward:
      return "feedforward";
    case PowerBlock::bias:
      return "bias";
    case PowerBlock::total:
      return "total";
  }
  return "?";
}

// A value per block (watts, joules, ...).
struct PowerByBlock {
  std::array<double, 4> value{0, 0, 0, 0};
  double& operator[](PowerBlock b) { return value[static_cast<size_t>(b)]; }
  double operator[](PowerBlock b) const { return value[static_cast<size_t>(b)]; }
};

}  // namespace bmru::core
