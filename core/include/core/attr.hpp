#pragma once
// A named attribute value (HDF5 attributes, feature settings): a number, an integer or a string.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace bmru::core {

using AttrValue = std::variant<double, std::int64_t, std::string>;
struct Attr {
  std::string name;
  AttrValue value;
  bool operator==(const Attr&) const = default;
};

// The value as text (numbers in the shortest form that reads back exactly).
std::string attr_text(const AttrValue& v);

}  // namespace bmru::core
