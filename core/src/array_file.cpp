#include "core/array_file.hpp"

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "h5.hpp"

namespace bmru::core {

namespace {

// Writes the arrays (intermediate groups of "a/b/c" made as needed) under `root`.
void put_arrays(const h5::Loc& root, const std::string& p, const std::vector<NamedArray>& arrays) {
  for (const NamedArray& a : arrays) {
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

}  // namespace

void write_arrays(const std::filesystem::path& path, const std::vector<NamedArray>& arrays,
                  const std::vector<Attr>& root_attrs) {
  const std::string p = path.string(), part = p + ".part";
  {
    h5::Id file = h5::create_file(part);
    const h5::Loc root{file.get(), p, "/"};
    for (const Attr& a : root_attrs)
      std::visit([&](const auto& v) { h5::write_attr(root, a.name, v); }, a.value);
    put_arrays(root, p, arrays);
    h5::close_checked(file, part);
  }
  publish(part, path);
}

void append_arrays(const std::filesystem::path& path, const std::vector<NamedArray>& arrays,
                   const std::vector<std::pair<std::string, Attr>>& attrs) {
  const std::string p = path.string(), part = p + ".part";
  std::error_code ec;
  std::filesystem::copy_file(path, part, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) throw FileError(p, "", "cannot be copied to add to it: " + ec.message());
  {
    h5::Id file = h5::open_file(part, true);
    const h5::Loc root{file.get(), p, "/"};
    put_arrays(root, p, arrays);
    for (const auto& [object, a] : attrs) {
      h5::Id obj(H5Oopen(file.get(), object.c_str(), H5P_DEFAULT));
      if (!obj.valid()) throw FileError(p, object, "does not exist");
      const h5::Loc loc{obj.get(), p, object};
      std::visit([&](const auto& v) { h5::write_attr(loc, a.name, v); }, a.value);
    }
    h5::close_checked(file, part);
  }
  publish(part, path);
}

NamedArray read_array(const std::filesystem::path& path, const std::string& name) {
  const std::string p = path.string();
  h5::Id file = h5::open_file(p, false);
  const h5::Loc root{file.get(), p, "/"};
  const auto at = name.rfind('/');
  h5::Id group;
  h5::Loc loc = root;
  if (at != std::string::npos && at > 0) {
    group = h5::open_group(root, name.substr(0, at));
    loc = {group.get(), p, name.substr(0, at)};
  }
  const h5::Array a = h5::read_array(loc, at == std::string::npos ? name : name.substr(at + 1));
  NamedArray out;
  out.name = name;
  out.dims.assign(a.dims.begin(), a.dims.end());
  out.data = a.data;
  return out;
}

std::vector<std::string> list_datasets(const std::filesystem::path& path) {
  const std::string p = path.string();
  h5::Id file = h5::open_file(p, false);
  std::vector<std::string> names;
  H5Ovisit(
      file.get(), H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t, const char* name, const H5O_info_t* info, void* data) -> herr_t {
        if (info->type == H5O_TYPE_DATASET)
          static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

std::optional<double> read_number_attribute(const std::filesystem::path& path,
                                            const std::string& object, const std::string& name) {
  const std::string p = path.string();
  h5::Id file = h5::open_file(p, false);
  h5::Id obj(H5Oopen(file.get(), object.c_str(), H5P_DEFAULT));
  if (!obj.valid()) throw FileError(p, object, "is missing");
  return h5::read_number_attr({obj.get(), p, "/" + object}, name);
}

}  // namespace bmru::core
