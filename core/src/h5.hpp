#pragma once
// A thin RAII layer over the HDF5 C library, private to core. Every failure becomes a FileError
// that names the file and the object (group, dataset or attribute).
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/attr.hpp"

namespace bmru::core::h5 {

// Closes any HDF5 object by its kind; 0 for an id that is no longer valid.
herr_t close_object(hid_t id);

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      close();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Id() { close(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Gives up ownership (for a close whose status the caller must check).
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }
  void close();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// A location (file or group) together with the file path, for messages.
struct Loc {
  hid_t id;
  std::string path;   // file path
  std::string where;  // HDF5 path of this location, "/" for the root
  std::string child(const std::string& name) const {
    return where == "/" ? "/" + name : where + "/" + name;
  }
};

// A numeric array read from a dataset of any integer or float type, converted to double.
struct Array {
  std::vector<hsize_t> dims;
  std::vector<double> data;  // row-major
};

// The current time as ISO 8601 UTC ("2026-12-03T07:04:14Z"), for `created` attributes.
std::string utc_now();

// The string type h5py reads as str: variable length, UTF-8.
Id utf8_vlen_string();

Id open_file(const std::string& path, bool write);
// Flushes and closes a file written by us, checking both (FileError "disk full?" otherwise). Files
// are created with the strong close degree, so this also closes every dataset still open in it.
void close_checked(Id& file, const std::string& path);
Id create_file(const std::string& path);  // truncates
bool is_hdf5(const std::string& path);
bool exists(const Loc& loc, const std::string& name);
Id open_group(const Loc& loc, const std::string& name);
Id create_group(const Loc& loc, const std::string& name);

Array read_array(const Loc& loc, const std::string& name);
std::vector<hsize_t> dataset_dims(const Loc& loc, const std::string& name);
// Reads a row-major hyperslab [start, start + count) as doubles.
std::vector<double> read_slab(const Loc& loc, const std::string& name,
                              const std::vector<hsize_t>& start, const std::vector<hsize_t>& count);

void write_array(const Loc& loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const double* data);
void write_array(const Loc& loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const std::int64_t* data);
void write_string_dataset(const Loc& loc, const std::string& name, const std::string& text);
// A 1-D dataset of UTF-8 strings (h5py reads it as an array of bytes/str), and its reader (fixed or
// variable length).
void write_strings(const Loc& loc, const std::string& name, const std::vector<std::string>& values);
std::vector<std::string> read_strings(const Loc& loc, const std::string& name);
// Names of the attributes on a location, and their kind.
std::vector<std::string> attr_names(const Loc& loc);
bool attr_is_string(const Loc& loc, const std::string& name);
bool attr_is_integer(const Loc& loc, const std::string& name);

// A chunked dataset of doubles or int64s, written by hyperslabs; optionally shuffled and
// deflate-compressed (level 1: about 50 MB/s, worth it for smooth waveforms, not for noisy traces).
enum class Type { f64, i64 };
Id create_chunked(const Loc& loc, const std::string& name, Type type,
                  const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunk,
                  bool compress);
void write_slab(hid_t dataset, const std::string& path, const std::string& name, Type type,
                const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                const void* data);

bool has_attr(const Loc& loc, const std::string& name);
std::optional<std::string> read_string_attr(const Loc& loc, const std::string& name);
std::optional<double> read_number_attr(const Loc& loc, const std::string& name);
void write_attr(const Loc& loc, const std::string& name, const std::string& value);
void write_attr(const Loc& loc, const std::string& name, double value);
void write_attr(const Loc& loc, const std::string& name, std::int64_t value);
// Every attribute of a location, typed (strings, integers, numbers), and the reverse.
std::vector<Attr> read_attrs(const Loc& loc);
void write_attrs(const Loc& loc, const std::vector<Attr>& attrs);
// Attribute on a dataset (or any object) identified by handle, for `units` and formulas.
void write_object_attr(hid_t obj, const std::string& path, const std::string& object,
                       const std::string& name, const std::string& value);

}  // namespace bmru::core::h5
