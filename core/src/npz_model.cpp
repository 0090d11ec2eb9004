#include "core/npz_model.hpp"

#include <zip.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <regex>
#include <type_traits>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"

namespace bmru::core {
namespace {

struct NpyArray {
  std::vector<Index> shape;
  std::vector<double> data;  // C order
};

std::string shape_text(const std::vector<Index>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

template <class T>
void convert(const char* bytes, size_t n, std::vector<double>& out) {
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, bytes + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(v);
  }
}

// One .npy file (format versions 1-3): magic, version, header length, a Python dict literal
// {'descr': '<f8', 'fortran_order': False, 'shape': (13, 4), }, then the raw data.
NpyArray parse_npy(const std::string& bytes, const std::string& path, const std::string& name) {
  const auto bad = [&](const std::string& what) { return FileError(path, name, what); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw bad("is not a .npy array (no \\x93NUMPY magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw bad("has a truncated .npy header");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    start = 12;
  } else {
    throw bad("is .npy format version " + std::to_string(major) + "; versions 1-3 are read");
  }
  if (bytes.size() < start + header_len) throw bad("has a truncated .npy header");
  const std::string header = bytes.substr(start, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    throw bad("has no 'descr' in its .npy header");
  const std::string descr = m[1];
  if (!std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*(True|False))")))
    throw bad("has no 'fortran_order' in its .npy header");
  const bool fortran = m[1] == "True";
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    throw bad("has no 'shape' in its .npy header");
  NpyArray a;
  const std::string dims = m[1];
  const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    a.shape.push_back(std::stoll(it->str()));
  size_t n = 1;
  for (Index d : a.shape) n *= static_cast<size_t>(d);
  const std::map<std::string, size_t> sizes{{"<f8", 8}, {"<f4", 4}, {"<i8", 8}, {"<i4", 4}};
  const auto size = sizes.find(descr);
  if (size == sizes.end())
    throw bad("has dtype '" + descr +
              "'; little-endian float64, float32, int64 or int32 arrays are read");
  const size_t data_at = start + header_len;
  if (bytes.size() - data_at != n * size->second)
    throw bad("holds " + std::to_string(bytes.size() - data_at) + " bytes of data; shape " +
              shape_text(a.shape) + " of '" + descr + "' needs " +
              std::to_string(n * size->second));
  const char* raw = bytes.data() + data_at;
  if (descr == "<f8") convert<double>(raw, n, a.data);
  if (descr == "<f4") convert<float>(raw, n, a.data);
  if (descr == "<i8") convert<std::int64_t>(raw, n, a.data);
  if (descr == "<i4") convert<std::int32_t>(raw, n, a.data);
  if (fortran && a.shape.size() == 2) {  // column-major -> row-major
    std::vector<double> c(n);
    const size_t rows = static_cast<size_t>(a.shape[0]), cols = static_cast<size_t>(a.shape[1]);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < cols; ++j) c[i * cols + j] = a.data[j * rows + i];
    a.data = std::move(c);
  } else if (fortran && a.shape.size() > 2) {
    throw bad("is a Fortran-order array of more than two dimensions");
  }
  return a;
}

std::string npy_bytes(const std::vector<Index>& shape, const double* data) {
  std::string header =
      "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded with spaces to 64 bytes.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  size_t n = 1;
  for (Index d : shape) n *= static_cast<size_t>(d);
  out.append(reinterpret_cast<const char*>(data), n * sizeof(double));
  return out;
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using Zip = std::unique_ptr<zip_t, ZipCloser>;

std::string zip_message(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

std::map<std::string, NpyArray> read_arrays(const std::filesystem::path& path) {
  const std::string p = path.string();
  int code = 0;
  Zip z(zip_open(p.c_str(), ZIP_RDONLY, &code));
  if (!z) throw FileError(p, "", "is not a readable .npz (zip) file: " + zip_message(code));
  std::map<std::string, NpyArray> out;
  const zip_int64_t n = zip_get_num_entries(z.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(z.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0)
      throw FileError(p, "", std::string("has an unreadable entry: ") + zip_strerror(z.get()));
    std::string name = st.name;
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) continue;
    std::string bytes(static_cast<size_t>(st.size), '\0');
    zip_file_t* f = zip_fopen_index(z.get(), static_cast<zip_uint64_t>(i), 0);
    if (!f) throw FileError(p, name, std::string("cannot be opened: ") + zip_strerror(z.get()));
    const zip_int64_t got = zip_fread(f, bytes.data(), st.size);
    zip_fclose(f);
    if (got != static_cast<zip_int64_t>(st.size))
      throw FileError(p, name, "could not be read whole (a damaged zip?)");
    name.resize(name.size() - 4);
    out[name] = parse_npy(bytes, p, name);
  }
  return out;
}

}  // namespace

Network read_npz_model(const std::filesystem::path& path) {
  const std::string p = path.string();
  std::map<std::string, NpyArray> arrays = read_arrays(path);
  const auto take = [&](const std::string& name) -> NpyArray& {
    const auto it = arrays.find(name);
    if (it == arrays.end())
      throw FileError(p, name, "is missing (a .npz model names its arrays 'pre_proj/kernel', ...)");
    return it->second;
  };
  Network net;
  int layers = 0;
  while (arrays.count("layer" + std::to_string(layers + 1) + "/alphas")) ++layers;
  net.layers.resize(static_cast<size_t>(layers));
  std::vector<std::string> used;
  for_each_parameter(net, [&](const std::string& group, const char* field, auto& array,
                              ParameterKind) {
    const std::string name = group + "/" + field;
    NpyArray& a = take(name);
    used.push_back(name);
    if constexpr (std::is_same_v<std::decay_t<decltype(array)>, Matrix>) {
      if (a.shape.size() != 2)
        throw FileError(p, name,
                        "has shape " + shape_text(a.shape) + ", expected a 2-D kernel [in, out]");
      array =
          Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
              a.data.data(), a.shape[0], a.shape[1]);
    } else {
      if (a.shape.size() != 1)
        throw FileError(p, name, "has shape " + shape_text(a.shape) + ", expected a 1-D vector");
      array = Eigen::Map<const Vector>(a.data.data(), a.shape[0]);
    }
  });
  if (arrays.count("unit_current")) {
    const NpyArray& u = arrays["unit_current"];
    if (u.data.size() != 1)
      throw FileError(p, "unit_current", "must be a single number (a 0-d array), in amperes");
    net.unit_current_a = u.data[0];
    used.push_back("unit_current");
  }
  for (const auto& [name, a] : arrays) {
    (void)a;
    if (std::find(used.begin(), used.end(), name) == used.end())
      throw FileError(p, name,
                      "is not a parameter of a " + std::to_string(layers) +
                          "-layer model (names: pre_proj/kernel, layer<l>/alphas, ..., fc/bias, "
                          "unit_current)");
  }
  validate(net, "File '" + p + "'");
  return net;
}

void write_npz_model(const Network& net, const std::filesystem::path& path) {
  const std::string part = path.string() + ".part";
  std::filesystem::remove(part);
  int code = 0;
  Zip z(zip_open(part.c_str(), ZIP_CREATE | ZIP_EXCL, &code));
  if (!z) throw FileError(part, "", "cannot be created: " + zip_message(code));
  // libzip reads the buffers at zip_close: they live until then.
  std::vector<std::string> buffers;
  const auto add = [&](const std::string& name, std::string bytes) {
    buffers.push_back(std::move(bytes));
    zip_source_t* src = zip_source_buffer(z.get(), buffers.back().data(), buffers.back().size(), 0);
    if (!src) throw FileError(part, name, zip_strerror(z.get()));
    const zip_int64_t at = zip_file_add(z.get(), (name + ".npy").c_str(), src, ZIP_FL_ENC_UTF_8);
    if (at < 0) {
      zip_source_free(src);
      throw FileError(part, name, zip_strerror(z.get()));
    }
    zip_set_file_compression(z.get(), static_cast<zip_uint64_t>(at), ZIP_CM_STORE, 0);
  };
  buffers.reserve(64);
  for_each_parameter(
      net, [&](const std::string& group, const char* field, const auto& array, ParameterKind) {
        if constexpr (std::is_same_v<std::decay_t<decltype(array)>, Matrix>) {
          const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = array;
          add(group + "/" + field, npy_bytes({array.rows(), array.cols()}, r.data()));
        } else {
          add(group + "/" + field, npy_bytes({array.size()}, array.data()));
        }
      });
  add("unit_current", npy_bytes({}, &net.unit_current_a));
  if (zip_close(z.get()) != 0) throw FileError(part, "", zip_strerror(z.get()));
  (void)z.release();  // closed (and freed) by zip_close
  publish(part, path);
}

}  // namespace bmru::core
