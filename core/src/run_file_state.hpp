#pragma once
// The open run file shared by RunFile and its writers, private to core (run_file.cpp and
// run_file_groups.cpp).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/file_lock.hpp"
#include "core/run_file.hpp"
#include "h5.hpp"

namespace bmru::core {

struct detail::RunFileState {
  std::optional<FileLock> lock;  // no second process writes the same output meanwhile
  std::filesystem::path out;
  std::string part;
  h5::Id file;

  h5::Loc root() const {
    if (!file.valid()) throw Error("Run file '" + out.string() + "' is already committed");
    return {file.get(), out.string(), "/"};
  }
};

// Opens or creates every group of "a/b" below the root; returns the innermost location.
inline h5::Loc groups_of(const h5::Loc& root, const std::string& path, std::vector<h5::Id>& keep) {
  h5::Loc loc = root;
  std::string rest = path;
  for (auto slash = rest.find('/'); slash != std::string::npos; slash = rest.find('/')) {
    const std::string g = rest.substr(0, slash);
    if (!g.empty()) {
      keep.push_back(h5::exists(loc, g) ? h5::open_group(loc, g) : h5::create_group(loc, g));
      loc = {keep.back().get(), root.path, loc.child(g)};
    }
    rest.erase(0, slash + 1);
  }
  return loc;
}

}  // namespace bmru::core
