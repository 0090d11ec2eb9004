#include "core/array_file.hpp"

#include "core/errors.hpp"
#include "h5.hpp"

namespace bmru::core {

void write_arrays(const std::filesystem::path& path, const std::vector<NamedArray>& arrays,
                  const std::vector<Attr>& root_attrs) {
  const std::string p = path.string(), part = p + ".part";
  {
    h5::Id file = h5::create_file(part);
    const h5::Loc root{file.get(), p, "/"};
    for (const Attr& a : root_attrs) std::visit([&](const auto& v) { h5::write_attr(root, a.name, v); }, a.value);
    for (const NamedArray& a : arrays) {
      // Intermediate groups of "a/b/c".
      std::vector<h5::Id> groups;
      h5::Loc loc = root;
      std::string rest = a.name;
      for (auto slash = rest.find('/'); slash != std::string::npos; slash = rest.find('/')) {
        const std::string g = rest.substr(0, slash);
        groups.push_back(h5::exists(loc, g) ? h5::open_group(loc, g) : h5::create_group(loc, g));
        loc = {groups.back().get(), p, loc.child(g)};
        rest.erase(0, slash + 1);
      }
      std::vector<hsize_t> dims(a.dims.begin(), a.dims.end());
      h5::write_array(loc, rest, dims, a.data.data());
      h5::Id ds(H5Dopen2(loc.id, rest.c_str(), H5P_DEFAULT));
      if (!a.units.empty()) h5::write_object_attr(ds.get(), p, loc.child(rest), "units", a.units);
    }
  }
  std::error_code ec;
  std::filesystem::rename(part, path, ec);
  if (ec) throw FileError(p, "", "could not be moved into place: " + ec.message());
}

}  // namespace bmru::core
