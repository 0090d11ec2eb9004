#include "h5.hpp"

#include <variant>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <limits>

#include "core/errors.hpp"

namespace bmru::core::h5 {
namespace {

// HDF5 closes whatever is still open from an atexit handler; after a failed write (disk full) its
// HDF5 1.10.8 crashes there (SIGSEGV in H5F__close_cb). Every file here is closed by its owner, so
// the handler is switched off before the library starts (H5dont_atexit only sets a flag).
const bool kNoAtexit = [] {
  H5dont_atexit();
  return true;
}();

// HDF5 prints its error stack to stderr by default; we report through exceptions instead.
void quiet() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

[[noreturn]] void fail(const std::string& path, const std::string& object,
                       const std::string& what) {
  throw FileError(path, object, what);
}

hid_t check(hid_t id, const std::string& path, const std::string& object, const std::string& what) {
  if (id < 0) fail(path, object, what);
  return id;
}

void check(herr_t status, const std::string& path, const std::string& object,
           const std::string& what) {
  if (status < 0) fail(path, object, what);
}

Id simple_space(const std::vector<hsize_t>& dims) {
  return Id(dims.empty() ? H5Screate(H5S_SCALAR)
                         : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

hid_t native(Type t) {
  return t == Type::f64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
}

std::string read_string(hid_t obj, hid_t type, bool attribute, const std::string& path,
                        const std::string& object) {
  Id mem(H5Tcopy(H5T_C_S1));
  if (H5Tis_variable_str(type) > 0) {
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type));
    char* s = nullptr;
    const herr_t st = attribute ? H5Aread(obj, mem.get(), &s)
                                : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &s);
    check(st, path, object, "could not read the string");
    std::string out = s ? s : "";
    H5free_memory(s);
    return out;
  }
  const size_t n = H5Tget_size(type);
  std::string buf(n, '\0');
  H5Tset_size(mem.get(), n);
  H5Tset_cset(mem.get(), H5Tget_cset(type));
  H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
  const herr_t st = attribute ? H5Aread(obj, mem.get(), buf.data())
                              : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
  check(st, path, object, "could not read the string");
  buf.resize(buf.find('\0') == std::string::npos ? buf.size() : buf.find('\0'));
  while (!buf.empty() && buf.back() == ' ') buf.pop_back();  // space-padded (Fortran style)
  return buf;
}

std::string class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    default:
      return "non-numeric";
  }
}

}  // namespace

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Id utf8_vlen_string() {
  Id t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

herr_t close_object(hid_t id) {
  switch (H5Iget_type(id)) {
    case H5I_FILE:
      return H5Fclose(id);
    case H5I_GROUP:
      return H5Gclose(id);
    case H5I_DATASET:
      return H5Dclose(id);
    case H5I_DATASPACE:
      return H5Sclose(id);
    case H5I_DATATYPE:
      return H5Tclose(id);
    case H5I_ATTR:
      return H5Aclose(id);
    case H5I_GENPROP_LST:
      return H5Pclose(id);
    default:
      return 0;  // closed already (e.g. by close_checked) or never valid
  }
}

void Id::close() {
  if (id_ < 0) return;
  close_object(id_);
  id_ = H5I_INVALID_HID;
}

bool is_hdf5(const std::string& path) {
  quiet();
  return H5Fis_hdf5(path.c_str()) > 0;
}

Id open_file(const std::string& path, bool write) {
  quiet();
  if (!std::filesystem::exists(path)) fail(path, "", "no such file");
  Id f(H5Fopen(path.c_str(), write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f.valid())
    fail(path, "", "not a readable HDF5 file (truncated, corrupt, or of another format)");
  return f;
}

Id create_file(const std::string& path) {
  quiet();
  // The HDF5 1.10 file format indexes the chunks of fixed-size datasets with a fixed array, whose
  // metadata stays small on long runs (the 1.8 B-tree grew the cache by ~12 MB per million frames).
  // Readers need HDF5 1.10 or later (h5py wheels and Debian 12 have it).
  Id fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_LATEST);
  (void)kNoAtexit;
  Id f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  if (!f.valid())
    fail(path, "", "could not create the HDF5 file (check the folder and permissions)");
  return f;
}

void close_checked(Id& file, const std::string& path) {
  if (!file.valid()) return;
  // A failed flush leaves the file to its owner (its destructor closes what it can).
  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0)
    fail(path, "", "could not be written to the end (disk full?)");
  // Objects writers still hold are closed here, each checked, so that the file really closes now
  // and its status is known. A closed id stays closed: its owner's Id then finds it invalid.
  const unsigned types =
      H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL;
  const ssize_t n = H5Fget_obj_count(file.get(), types);
  std::vector<hid_t> open(static_cast<size_t>(std::max<ssize_t>(n, 0)));
  if (n > 0) H5Fget_obj_ids(file.get(), types, static_cast<size_t>(n), open.data());
  bool ok = true;
  for (hid_t id : open) ok = close_object(id) >= 0 && ok;
  ok = H5Fclose(file.release()) >= 0 && ok;
  if (!ok) fail(path, "", "could not be written to the end and closed (disk full?)");
}

bool exists(const Loc& loc, const std::string& name) {
  return H5Lexists(loc.id, name.c_str(), H5P_DEFAULT) > 0 &&
         H5Oexists_by_name(loc.id, name.c_str(), H5P_DEFAULT) > 0;
}

namespace {
H5I_type_t object_type(const Loc& loc, const std::string& name) {
  Id obj(H5Oopen(loc.id, name.c_str(), H5P_DEFAULT));
  return obj.valid() ? H5Iget_type(obj.get()) : H5I_BADID;
}
}  // namespace

Id open_group(const Loc& loc, const std::string& name) {
  if (!exists(loc, name)) fail(loc.path, loc.child(name), "group is missing");
  if (object_type(loc, name) != H5I_GROUP) fail(loc.path, loc.child(name), "is not a group");
  return Id(check(H5Gopen2(loc.id, name.c_str(), H5P_DEFAULT), loc.path, loc.child(name),
                  "could not open the group"));
}

Id create_group(const Loc& loc, const std::string& name) {
  return Id(check(H5Gcreate2(loc.id, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), loc.path,
                  loc.child(name), "could not create the group"));
}

namespace {
Id open_numeric_dataset(const Loc& loc, const std::string& name) {
  const std::string obj = loc.child(name);
  if (!exists(loc, name)) fail(loc.path, obj, "dataset is missing");
  if (object_type(loc, name) != H5I_DATASET) fail(loc.path, obj, "is not a dataset");
  Id ds(check(H5Dopen2(loc.id, name.c_str(), H5P_DEFAULT), loc.path, obj,
              "could not open the dataset"));
  Id type(H5Dget_type(ds.get()));
  const H5T_class_t c = H5Tget_class(type.get());
  if (c != H5T_INTEGER && c != H5T_FLOAT)
    fail(loc.path, obj, "has " + class_name(c) + " values, expected integers or floats");
  return ds;
}
}  // namespace

std::vector<hsize_t> dataset_dims(const Loc& loc, const std::string& name) {
  Id ds = open_numeric_dataset(loc, name);
  Id space(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail(loc.path, loc.child(name), "has an unreadable shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

Array read_array(const Loc& loc, const std::string& name) {
  Id ds = open_numeric_dataset(loc, name);
  Array a;
  a.dims = dataset_dims(loc, name);
  hsize_t n = 1;
  for (hsize_t d : a.dims) n *= d;
  a.data.resize(n);
  if (n > 0)
    check(H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data.data()),
          loc.path, loc.child(name), "could not read the values (is the file truncated?)");
  return a;
}

std::vector<double> read_slab(const Loc& loc, const std::string& name,
                              const std::vector<hsize_t>& start,
                              const std::vector<hsize_t>& count) {
  Id ds = open_numeric_dataset(loc, name);
  Id file_space(H5Dget_space(ds.get()));
  hsize_t n = 1;
  for (hsize_t c : count) n *= c;
  std::vector<double> out(n);
  if (n == 0) return out;
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr),
        loc.path, loc.child(name), "the requested block lies outside the dataset");
  Id mem = simple_space(count);
  check(H5Dread(ds.get(), H5T_NATIVE_DOUBLE, mem.get(), file_space.get(), H5P_DEFAULT, out.data()),
        loc.path, loc.child(name), "could not read the values (is the file truncated?)");
  return out;
}

namespace {
void write_plain(const Loc& loc, const std::string& name, const std::vector<hsize_t>& dims,
                 hid_t file_type, hid_t mem_type, const void* data) {
  Id space = simple_space(dims);
  Id ds(check(H5Dcreate2(loc.id, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT),
              loc.path, loc.child(name), "could not create the dataset"));
  hsize_t n = 1;
  for (hsize_t d : dims) n *= d;
  if (n > 0)
    check(H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), loc.path,
          loc.child(name), "could not write the dataset");
}
}  // namespace

void write_array(const Loc& loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const double* data) {
  write_plain(loc, name, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data);
}

void write_array(const Loc& loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const std::int64_t* data) {
  write_plain(loc, name, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, data);
}

void write_string_dataset(const Loc& loc, const std::string& name, const std::string& text) {
  Id type = utf8_vlen_string();
  const char* p = text.c_str();
  write_plain(loc, name, {}, type.get(), type.get(), &p);
}

Id create_chunked(const Loc& loc, const std::string& name, Type type,
                  const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunk,
                  bool compress) {
  Id space = simple_space(dims);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  bool empty = false;
  for (hsize_t d : dims) empty = empty || d == 0;
  if (type == Type::f64) {
    // Values never written (frames a failed simulation did not reach) read back as NaN, not 0.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &nan);
    H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_ALLOC);
  }
  if (!empty) {
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    if (compress) {
      H5Pset_shuffle(dcpl.get());
      H5Pset_deflate(dcpl.get(), 1);
    }
  }
  const hid_t file_type = type == Type::f64 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
  return Id(check(H5Dcreate2(loc.id, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                             H5P_DEFAULT),
                  loc.path, loc.child(name), "could not create the dataset"));
}

void write_slab(hid_t dataset, const std::string& path, const std::string& name, Type type,
                const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                const void* data) {
  Id file_space(H5Dget_space(dataset));
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr),
        path, name, "the block to write lies outside the dataset");
  Id mem = simple_space(count);
  check(H5Dwrite(dataset, native(type), mem.get(), file_space.get(), H5P_DEFAULT, data), path, name,
        "could not write the block (disk full?)");
}

bool has_attr(const Loc& loc, const std::string& name) {
  return H5Aexists(loc.id, name.c_str()) > 0;
}

std::optional<std::string> read_string_attr(const Loc& loc, const std::string& name) {
  if (!has_attr(loc, name)) return std::nullopt;
  const std::string obj = loc.where + "@" + name;
  Id attr(check(H5Aopen(loc.id, name.c_str(), H5P_DEFAULT), loc.path, obj,
                "could not open the attribute"));
  Id type(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_STRING)
    fail(loc.path, obj, "is " + class_name(H5Tget_class(type.get())) + ", expected a string");
  return read_string(attr.get(), type.get(), true, loc.path, obj);
}

std::optional<double> read_number_attr(const Loc& loc, const std::string& name) {
  if (!has_attr(loc, name)) return std::nullopt;
  const std::string obj = loc.where + "@" + name;
  Id attr(check(H5Aopen(loc.id, name.c_str(), H5P_DEFAULT), loc.path, obj,
                "could not open the attribute"));
  Id type(H5Aget_type(attr.get()));
  const H5T_class_t c = H5Tget_class(type.get());
  if (c != H5T_INTEGER && c != H5T_FLOAT)
    fail(loc.path, obj, "is " + class_name(c) + ", expected a number");
  Id space(H5Aget_space(attr.get()));
  if (H5Sget_simple_extent_npoints(space.get()) != 1)
    fail(loc.path, obj, "holds several values, expected one number");
  double v = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), loc.path, obj, "could not read the number");
  return v;
}

namespace {
void write_attr_raw(hid_t obj, const std::string& path, const std::string& where,
                    const std::string& name, hid_t file_type, hid_t mem_type, const void* data) {
  const std::string what = where + "@" + name;
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Id space(H5Screate(H5S_SCALAR));
  Id attr(check(H5Acreate2(obj, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                path, what, "could not create the attribute"));
  check(H5Awrite(attr.get(), mem_type, data), path, what, "could not write the attribute");
}
}  // namespace

void write_attr(const Loc& loc, const std::string& name, const std::string& value) {
  write_object_attr(loc.id, loc.path, loc.where, name, value);
}

void write_attr(const Loc& loc, const std::string& name, double value) {
  write_attr_raw(loc.id, loc.path, loc.where, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void write_attr(const Loc& loc, const std::string& name, std::int64_t value) {
  write_attr_raw(loc.id, loc.path, loc.where, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void write_object_attr(hid_t obj, const std::string& path, const std::string& object,
                       const std::string& name, const std::string& value) {
  Id type = utf8_vlen_string();
  const char* p = value.c_str();
  write_attr_raw(obj, path, object, name, type.get(), type.get(), &p);
}

void write_strings(const Loc& loc, const std::string& name,
                   const std::vector<std::string>& values) {
  Id type = utf8_vlen_string();
  std::vector<const char*> p;
  p.reserve(values.size());
  for (const std::string& v : values) p.push_back(v.c_str());
  write_plain(loc, name, {static_cast<hsize_t>(values.size())}, type.get(), type.get(), p.data());
}

std::vector<std::string> read_strings(const Loc& loc, const std::string& name) {
  const std::string obj = loc.child(name);
  if (!exists(loc, name)) fail(loc.path, obj, "is missing");
  Id ds(check(H5Dopen2(loc.id, name.c_str(), H5P_DEFAULT), loc.path, obj, "is not a dataset"));
  Id type(H5Dget_type(ds.get()));
  if (H5Tget_class(type.get()) != H5T_STRING)
    fail(loc.path, obj, "is " + class_name(H5Tget_class(type.get())) + ", expected strings");
  Id space(H5Dget_space(ds.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 1)
    fail(loc.path, obj, "must be a one-dimensional list of strings");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  std::vector<std::string> out(n);
  if (n == 0) return out;
  Id mem(H5Tcopy(H5T_C_S1));
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    std::vector<char*> p(n, nullptr);
    check(H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), loc.path, obj,
          "could not read the strings");
    for (hsize_t i = 0; i < n; ++i) out[i] = p[i] ? p[i] : "";
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, p.data());
    return out;
  }
  const size_t width = H5Tget_size(type.get());
  std::string buf(width * n, '\0');
  H5Tset_size(mem.get(), width);
  H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
  check(H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), loc.path, obj,
        "could not read the strings");
  for (hsize_t i = 0; i < n; ++i) {
    std::string s = buf.substr(i * width, width);
    s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
    out[i] = s;
  }
  return out;
}

std::vector<std::string> attr_names(const Loc& loc) {
  std::vector<std::string> names;
  H5Aiterate2(
      loc.id, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

bool attr_is_string(const Loc& loc, const std::string& name) {
  Id attr(H5Aopen(loc.id, name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) return false;
  Id type(H5Aget_type(attr.get()));
  return H5Tget_class(type.get()) == H5T_STRING;
}

bool attr_is_integer(const Loc& loc, const std::string& name) {
  Id attr(H5Aopen(loc.id, name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) return false;
  Id type(H5Aget_type(attr.get()));
  return H5Tget_class(type.get()) == H5T_INTEGER;
}

std::vector<Attr> read_attrs(const Loc& loc) {
  std::vector<Attr> out;
  for (const std::string& a : attr_names(loc)) {
    if (attr_is_string(loc, a))
      out.push_back({a, *read_string_attr(loc, a)});
    else if (attr_is_integer(loc, a))
      out.push_back({a, static_cast<std::int64_t>(*read_number_attr(loc, a))});
    else
      out.push_back({a, *read_number_attr(loc, a)});
  }
  return out;
}

void write_attrs(const Loc& loc, const std::vector<Attr>& attrs) {
  for (const Attr& a : attrs)
    std::visit([&](const auto& v) { write_attr(loc, a.name, v); }, a.value);
}

}  // namespace bmru::core::h5
