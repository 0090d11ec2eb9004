#pragma once
// One row of a circuit's parameter-to-element map (DESIGN.md section 2), as stored in run files
// under /netlist_map.
#include <string>

namespace bmru::core {

struct ElementRow {
  std::string instance;  // element instance(s), comma-separated; empty when pruned
  std::string kind;  // "weight_mirror", "bias_source", "cell_ithresh", ..., "structural", "pruned"
  std::string parameter;  // "layer1.cand_kernel[0,2]", or "structural"
  double value = 0;       // width (m), current (A) or voltage (V) of the element; 0 if none
  std::string unit;       // "m", "A", "V" or ""
  bool operator==(const ElementRow&) const = default;
};

}  // namespace bmru::core
