#include "core/model_file.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <type_traits>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "model_h5.hpp"

namespace bmru::core {
namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::string dims_text(const std::vector<hsize_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

// ---- HDF5 ----

Matrix read_matrix(const h5::Loc& g, const std::string& name) {
  h5::Array a = h5::read_array(g, name);
  if (a.dims.size() != 2)
    throw FileError(g.path, g.child(name),
                    "has shape " + dims_text(a.dims) + ", expected a 2-D kernel [in, out]");
  return Eigen::Map<const RowMajor>(a.data.data(), static_cast<Index>(a.dims[0]),
                                    static_cast<Index>(a.dims[1]));
}

Vector read_vector(const h5::Loc& g, const std::string& name) {
  h5::Array a = h5::read_array(g, name);
  if (a.dims.size() != 1)
    throw FileError(g.path, g.child(name),
                    "has shape " + dims_text(a.dims) + ", expected a 1-D vector");
  return Eigen::Map<const Vector>(a.data.data(), static_cast<Index>(a.dims[0]));
}

void write_matrix(const h5::Loc& g, const std::string& name, const Matrix& m) {
  const RowMajor r = m;
  h5::write_array(g, name, {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())},
                  r.data());
}

void write_vector(const h5::Loc& g, const std::string& name, const Vector& v) {
  h5::write_array(g, name, {static_cast<hsize_t>(v.size())}, v.data());
}

Projection read_projection(const h5::Loc& parent, const std::string& group,
                           const std::string& kernel, const std::string& bias) {
  h5::Id id = h5::open_group(parent, group);
  const h5::Loc g{id.get(), parent.path, parent.child(group)};
  return {read_matrix(g, kernel), read_vector(g, bias)};
}

void check_count_attr(const h5::Loc& g, const std::string& name, Index actual) {
  const auto v = h5::read_number_attr(g, name);
  if (v && *v != static_cast<double>(actual))
    throw FileError(g.path, g.where + "@" + name,
                    "says " + std::to_string(static_cast<long long>(*v)) +
                        " but the datasets give " + std::to_string(actual));
}

}  // namespace

void write_model_group(const h5::Loc& parent, const Network& net) {
  h5::Id id = h5::create_group(parent, "model");
  const h5::Loc m{id.get(), parent.path, parent.child("model")};
  h5::write_attr(m, "format", std::string(kModelFormat));
  h5::write_attr(m, "n_in", static_cast<std::int64_t>(net.n_in()));
  h5::write_attr(m, "d", static_cast<std::int64_t>(net.d()));
  h5::write_attr(m, "n_layers", static_cast<std::int64_t>(net.n_layers()));
  h5::write_attr(m, "n_out", static_cast<std::int64_t>(net.n_out()));
  h5::write_attr(m, "unit_current", net.unit_current_a);
  if (!net.features.empty()) {
    h5::Id f = h5::create_group(m, "features");
    h5::write_attrs({f.get(), m.path, m.child("features")}, net.features);
  }
  std::string open_name;  // parameters of a group come together
  std::optional<h5::Id> gid;
  for_each_parameter(
      net, [&](const std::string& group, const char* field, const auto& array, ParameterKind) {
        if (group != open_name) {
          gid.reset();
          gid.emplace(h5::create_group(m, group));
          open_name = group;
        }
        const h5::Loc g{gid->get(), m.path, m.child(group)};
        if constexpr (std::is_same_v<std::decay_t<decltype(array)>, Matrix>)
          write_matrix(g, field, array);
        else
          write_vector(g, field, array);
      });
}

Network read_model_group(const h5::Loc& parent) {
  h5::Id id = h5::open_group(parent, "model");
  const h5::Loc m{id.get(), parent.path, parent.child("model")};
  if (const auto format = h5::read_string_attr(m, "format"); format && *format != kModelFormat)
    throw FileError(m.path, m.where + "@format",
                    "is '" + *format + "'; this version reads '" + kModelFormat + "'");
  Network net;
  if (const auto unit = h5::read_number_attr(m, "unit_current")) net.unit_current_a = *unit;
  if (h5::exists(m, "features")) {
    h5::Id f = h5::open_group(m, "features");
    net.features = h5::read_attrs({f.get(), m.path, m.child("features")});
  }
  net.pre_proj = read_projection(m, "pre_proj", "kernel", "bias");
  for (int l = 1; h5::exists(m, "layer" + std::to_string(l)); ++l) {
    const std::string name = "layer" + std::to_string(l);
    h5::Id gid = h5::open_group(m, name);
    const h5::Loc g{gid.get(), m.path, m.child(name)};
    Layer layer;
    layer.alphas = read_vector(g, "alphas");
    layer.beta1 = read_vector(g, "beta1");
    layer.delta = read_vector(g, "delta");
    layer.initial_state = read_vector(g, "initial_state");
    layer.candidate = {read_matrix(g, "cand_kernel"), read_vector(g, "cand_bias")};
    layer.post = {read_matrix(g, "post_kernel"), read_vector(g, "post_bias")};
    net.layers.push_back(std::move(layer));
  }
  net.fc = read_projection(m, "fc", "kernel", "bias");
  check_count_attr(m, "n_in", net.n_in());
  check_count_attr(m, "d", net.d());
  check_count_attr(m, "n_layers", net.n_layers());
  check_count_attr(m, "n_out", net.n_out());
  validate(net, "File '" + m.path + "', '/model'");
  return net;
}

namespace {

// ---- JSON ----

using nlohmann::json;

const json& member(const json& j, const std::string& key, const std::string& path,
                   const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw FileError(path, where + "/" + key, "is missing");
  return j.at(key);
}

double number(const json& j, const std::string& path, const std::string& where) {
  if (!j.is_number())
    throw FileError(path, where, "is " + std::string(j.type_name()) + ", expected a number");
  return j.get<double>();
}

Vector json_vector(const json& j, const std::string& path, const std::string& where) {
  if (!j.is_array()) throw FileError(path, where, "must be an array of numbers");
  Vector v(static_cast<Index>(j.size()));
  for (size_t i = 0; i < j.size(); ++i)
    v(static_cast<Index>(i)) = number(j[i], path, where + "[" + std::to_string(i) + "]");
  return v;
}

Matrix json_matrix(const json& j, const std::string& path, const std::string& where) {
  if (!j.is_array()) throw FileError(path, where, "must be an array of rows [in][out]");
  const size_t rows = j.size();
  const size_t cols = rows ? (j[0].is_array() ? j[0].size() : 0) : 0;
  Matrix m(static_cast<Index>(rows), static_cast<Index>(cols));
  for (size_t r = 0; r < rows; ++r) {
    const std::string row = where + "[" + std::to_string(r) + "]";
    if (!j[r].is_array() || j[r].size() != cols)
      throw FileError(path, row,
                      "must be a row of " + std::to_string(cols) + " numbers like the first row");
    for (size_t c = 0; c < cols; ++c)
      m(static_cast<Index>(r), static_cast<Index>(c)) =
          number(j[r][c], path, row + "[" + std::to_string(c) + "]");
  }
  return m;
}

json to_json(const Vector& v) {
  return json(std::vector<double>(v.data(), v.data() + v.size()));
}

json to_json(const Matrix& m) {
  json rows = json::array();
  for (Index r = 0; r < m.rows(); ++r) {
    json row = json::array();
    for (Index c = 0; c < m.cols(); ++c) row.push_back(m(r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

Network network_from_json(const json& doc, const std::string& path);

Network read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError(path, "", "could not be opened for reading");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw FileError(path, "", std::string("is neither HDF5 nor valid JSON: ") + e.what());
  } catch (const json::exception& e) {
    // e.g. 1e999: "number overflow parsing '1e999'"
    throw FileError(path, "", std::string("holds a value JSON cannot represent: ") + e.what());
  }
  return network_from_json(doc, path);
}

// Keys a model file does not define are refused (a misspelt "unit_curent" would otherwise fall
// back to the default silently), naming the key and what is allowed there.
void refuse_unknown_keys(const json& j, const std::vector<std::string>& allowed,
                         const std::string& path, const std::string& where) {
  if (!j.is_object()) return;
  for (const auto& [key, value] : j.items()) {
    (void)value;
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw FileError(path, where + "/" + key,
                    "is not a field of a model file (allowed here: " + list + ")");
  }
}

Network network_from_json(const json& doc, const std::string& path) {
  refuse_unknown_keys(doc, {"model"}, path, "");
  const json& m = member(doc, "model", path, "");
  const std::string w = "/model";
  {
    std::vector<std::string> allowed{"format",       "n_in",     "d",  "n_layers", "n_out",
                                     "unit_current", "pre_proj", "fc", "features"};
    for (int l = 1; m.contains("layer" + std::to_string(l)); ++l)
      allowed.push_back("layer" + std::to_string(l));
    refuse_unknown_keys(m, allowed, path, w);
    for (const char* g : {"pre_proj", "fc"})
      if (m.contains(g)) refuse_unknown_keys(m[g], {"kernel", "bias"}, path, w + "/" + g);
    for (int l = 1; m.contains("layer" + std::to_string(l)); ++l)
      refuse_unknown_keys(m["layer" + std::to_string(l)],
                          {"alphas", "beta1", "delta", "initial_state", "cand_kernel", "cand_bias",
                           "post_kernel", "post_bias"},
                          path, w + "/layer" + std::to_string(l));
  }
  if (m.contains("format") && (!m["format"].is_string() || m["format"] != kModelFormat))
    throw FileError(
        path, w + "/format",
        std::string("is ") + m["format"].dump() + "; this version reads '" + kModelFormat + "'");
  Network net;
  if (m.contains("unit_current"))
    net.unit_current_a = number(m["unit_current"], path, w + "/unit_current");
  if (m.contains("features")) {
    const json& f = m["features"];
    if (!f.is_object())
      throw FileError(path, w + "/features", "must be an object of feature settings");
    for (const auto& [key, value] : f.items()) {
      if (value.is_string())
        net.features.push_back({key, value.get<std::string>()});
      else if (value.is_number_integer())
        net.features.push_back({key, value.get<std::int64_t>()});
      else if (value.is_number())
        net.features.push_back({key, value.get<double>()});
      else
        throw FileError(path, w + "/features/" + key, "must be a string or a number");
    }
  }
  const auto projection = [&](const json& g, const std::string& where, const char* kernel,
                              const char* bias) {
    return Projection{json_matrix(member(g, kernel, path, where), path, where + "/" + kernel),
                      json_vector(member(g, bias, path, where), path, where + "/" + bias)};
  };
  net.pre_proj = projection(member(m, "pre_proj", path, w), w + "/pre_proj", "kernel", "bias");
  for (int l = 1; m.contains("layer" + std::to_string(l)); ++l) {
    const std::string name = "layer" + std::to_string(l);
    const std::string where = w + "/" + name;
    const json& g = m[name];
    Layer layer;
    layer.alphas = json_vector(member(g, "alphas", path, where), path, where + "/alphas");
    layer.beta1 = json_vector(member(g, "beta1", path, where), path, where + "/beta1");
    layer.delta = json_vector(member(g, "delta", path, where), path, where + "/delta");
    layer.initial_state =
        json_vector(member(g, "initial_state", path, where), path, where + "/initial_state");
    layer.candidate = projection(g, where, "cand_kernel", "cand_bias");
    layer.post = projection(g, where, "post_kernel", "post_bias");
    net.layers.push_back(std::move(layer));
  }
  net.fc = projection(member(m, "fc", path, w), w + "/fc", "kernel", "bias");
  for (const auto& [key, actual] : {std::pair<const char*, Index>{"n_in", net.n_in()},
                                    {"d", net.d()},
                                    {"n_layers", net.n_layers()},
                                    {"n_out", net.n_out()}})
    if (m.contains(key) && number(m[key], path, w + "/" + key) != static_cast<double>(actual))
      throw FileError(path, w + "/" + key,
                      "says " + m[key].dump() + " but the arrays give " + std::to_string(actual));
  validate(net, "File '" + path + "'");
  return net;
}

void write_json(const Network& net, std::ostream& out) {
  json m;
  m["format"] = kModelFormat;
  m["n_in"] = net.n_in();
  m["d"] = net.d();
  m["n_layers"] = net.n_layers();
  m["n_out"] = net.n_out();
  m["unit_current"] = net.unit_current_a;
  for (const Attr& a : net.features)
    std::visit([&](const auto& v) { m["features"][a.name] = v; }, a.value);
  for_each_parameter(net, [&](const std::string& group, const char* field, const auto& array,
                              ParameterKind) { m[group][field] = to_json(array); });

  out << json{{"model", m}}.dump(1) << "\n";
}

}  // namespace

std::string model_to_json(const Network& net) {
  std::ostringstream out;
  write_json(net, out);
  return out.str();
}

Network model_from_json(const std::string& text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw FileError(source, "", std::string("is not valid JSON: ") + e.what());
  } catch (const json::exception& e) {
    throw FileError(source, "", std::string("holds a value JSON cannot represent: ") + e.what());
  }
  return network_from_json(doc, source);
}

Network read_model(const std::filesystem::path& path) {
  const std::string p = path.string();
  if (!std::filesystem::exists(path)) throw FileError(p, "", "no such model file");
  if (h5::is_hdf5(p)) {
    h5::Id f = h5::open_file(p, false);
    return read_model_group({f.get(), p, "/"});
  }
  return read_json(p);
}

void write_model(const Network& net, const std::filesystem::path& path) {
  validate(net);
  const std::string p = path.string();
  const std::string tmp = p + ".part";
  if (path.extension() == ".json") {
    std::ostringstream out;
    write_json(net, out);
    write_text_atomically(path, out.str(), ".part");
    return;
  }
  {
    h5::Id f = h5::create_file(tmp);
    write_model_group({f.get(), p, "/"}, net);
    h5::close_checked(f, tmp);
  }
  publish(tmp, path);
}

}  // namespace bmru::core
