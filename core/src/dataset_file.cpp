#include "core/dataset_file.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "h5.hpp"

namespace bmru::core {
namespace {

const std::set<std::string> kParts = {"train", "val", "test"};

}  // namespace

void Dataset::append_clip(const Matrix& f) {
  if (sequences == 0 && inputs.empty()) {
    frames = f.rows();
    features = f.cols();
  }
  if (f.rows() != frames || f.cols() != features)
    throw InputError("A clip's features are [" + std::to_string(f.rows()) + ", " +
                     std::to_string(f.cols()) + "], the dataset's [" + std::to_string(frames) +
                     ", " + std::to_string(features) + "].");
  for (Index t = 0; t < f.rows(); ++t)
    for (Index j = 0; j < f.cols(); ++j) inputs.push_back(f(t, j));
  ++sequences;
}

Matrix Dataset::clip(Index c) const {
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      inputs.data() + c * frames * features, frames, features);
}

void Dataset::frame_of(const std::vector<Index>& which, Index t, Matrix& x) const {
  for (Index b = 0; b < x.rows(); ++b)
    x.row(b) = Eigen::Map<const Eigen::RowVectorXd>(
        inputs.data() + (which[static_cast<size_t>(b)] * frames + t) * features, features);
}

std::vector<std::string> Dataset::problems() const {
  std::vector<std::string> p;
  const auto S = static_cast<size_t>(sequences);
  if (inputs.size() != S * static_cast<size_t>(frames) * static_cast<size_t>(features))
    p.push_back("/inputs holds " + std::to_string(inputs.size()) + " values, expected " +
                std::to_string(sequences) + " x " + std::to_string(frames) + " x " +
                std::to_string(features));
  if (name.size() != S)
    p.push_back("/name has " + std::to_string(name.size()) + " entries for " + std::to_string(S) +
                " clips");
  if (!labels.empty() || !classes.empty()) {
    if (labels.size() != S)
      p.push_back("/labels has " + std::to_string(labels.size()) + " entries for " +
                  std::to_string(S) + " clips");
    if (classes.empty()) p.push_back("/classes is empty but the clips carry labels");
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] < 0 || labels[i] >= static_cast<std::int64_t>(classes.size()))
        p.push_back("/labels[" + std::to_string(i) + "] = " + std::to_string(labels[i]) +
                    " is not a class index (0-" + std::to_string(classes.size()) + " exclusive)");
  }
  if (!speaker.empty() && speaker.size() != S)
    p.push_back("/speaker has " + std::to_string(speaker.size()) + " entries for " +
                std::to_string(S) + " clips");
  for (const Split& s : splits) {
    if (s.part.size() != S)
      p.push_back("/split_" + s.scheme + " has " + std::to_string(s.part.size()) + " entries for " +
                  std::to_string(S) + " clips");
    for (size_t i = 0; i < s.part.size(); ++i)
      if (!kParts.count(s.part[i]))
        p.push_back("/split_" + s.scheme + "[" + std::to_string(i) + "] = '" + s.part[i] +
                    "' is not train, val or test");
  }
  return p;
}

std::vector<Index> Dataset::select(const std::string& scheme, const std::string& part) const {
  const auto it = std::find_if(splits.begin(), splits.end(),
                               [&](const Split& s) { return s.scheme == scheme; });
  if (it == splits.end()) {
    std::string have;
    for (const Split& s : splits) have += (have.empty() ? "" : ", ") + s.scheme;
    throw InputError("The dataset has no split scheme '" + scheme +
                     "' (it has: " + (have.empty() ? "none" : have) + ").");
  }
  if (!kParts.count(part)) throw InputError("Part '" + part + "' is not one of train, val, test.");
  std::vector<Index> out;
  for (size_t i = 0; i < it->part.size(); ++i)
    if (it->part[i] == part) out.push_back(static_cast<Index>(i));
  if (out.empty())
    throw InputError("The '" + part + "' part of split scheme '" + scheme + "' holds no clips.");
  return out;
}

void write_dataset(const std::filesystem::path& path, const Dataset& ds, const RunInfo& info) {
  const auto problems = ds.problems();
  if (!problems.empty())
    throw InputError("The dataset for '" + path.string() + "' is inconsistent (" +
                     std::to_string(problems.size()) + " problems):" + problem_list(problems));
  const std::string p = path.string(), part = p + ".part";
  {
    h5::Id file = h5::create_file(part);
    const h5::Loc root{file.get(), p, "/"};
    h5::write_attr(root, "format", std::string(kDatasetFormat));
    h5::write_attr(root, "tool_version", info.tool_version);
    h5::write_attr(root, "command_line", info.command_line);
    h5::write_attr(root, "created", h5::utc_now());
    h5::write_array(root, "inputs",
                    {static_cast<hsize_t>(ds.sequences), static_cast<hsize_t>(ds.frames),
                     static_cast<hsize_t>(ds.features)},
                    ds.inputs.data());
    {
      h5::Id in(H5Dopen2(file.get(), "inputs", H5P_DEFAULT));
      const h5::Loc loc{in.get(), p, "/inputs"};
      h5::write_attrs(loc, ds.input_attrs);
    }
    h5::write_strings(root, "name", ds.name);
    h5::write_strings(root, "names", ds.name);
    if (!ds.labels.empty()) {
      h5::write_array(root, "labels", {static_cast<hsize_t>(ds.labels.size())}, ds.labels.data());
      h5::write_strings(root, "classes", ds.classes);
    }
    if (!ds.speaker.empty()) h5::write_strings(root, "speaker", ds.speaker);
    for (const Split& s : ds.splits) h5::write_strings(root, "split_" + s.scheme, s.part);
    h5::close_checked(file, part);
  }
  publish(part, path);
}

std::vector<Attr> read_input_attrs(const std::filesystem::path& path) {
  const std::string p = path.string();
  if (!h5::is_hdf5(p)) return {};
  h5::Id file = h5::open_file(p, false);
  const h5::Loc root{file.get(), p, "/"};
  if (!h5::exists(root, "inputs")) return {};
  h5::Id d(H5Dopen2(file.get(), "inputs", H5P_DEFAULT));
  return h5::read_attrs({d.get(), p, "/inputs"});
}

void check_input_features(const Network& net, const std::filesystem::path& path) {
  if (net.features.empty()) return;
  const std::vector<Attr> attrs = read_input_attrs(path);
  // Inputs that state no settings at all (a CSV, an HDF5 file written by hand) cannot be checked.
  if (feature_settings(attrs).empty()) return;
  const auto bad = feature_mismatches(net, attrs);
  if (!bad.empty())
    throw InputError("The inputs in '" + path.string() +
                     "' were made with other feature settings than the model was trained on "
                     "(make them again with the model's settings):" +
                     problem_list(bad));
}

Dataset read_dataset(const std::filesystem::path& path) {
  const std::string p = path.string();
  h5::Id file = h5::open_file(p, false);
  const h5::Loc root{file.get(), p, "/"};
  Dataset ds;
  if (!h5::exists(root, "inputs")) throw FileError(p, "/inputs", "is missing");
  const h5::Array in = h5::read_array(root, "inputs");
  if (in.dims.size() != 3)
    throw FileError(p, "/inputs", "must have three dimensions [clips, frames, features]");
  ds.sequences = static_cast<Index>(in.dims[0]);
  ds.frames = static_cast<Index>(in.dims[1]);
  ds.features = static_cast<Index>(in.dims[2]);
  ds.inputs = in.data;
  for (size_t i = 0; i < ds.inputs.size(); ++i)
    if (!std::isfinite(ds.inputs[i]))
      throw FileError(p, "/inputs", "value number " + std::to_string(i) + " is not finite");
  {
    h5::Id d(H5Dopen2(file.get(), "inputs", H5P_DEFAULT));
    const h5::Loc loc{d.get(), p, "/inputs"};
    ds.input_attrs = h5::read_attrs(loc);
  }
  if (h5::exists(root, "name"))
    ds.name = h5::read_strings(root, "name");
  else if (h5::exists(root, "names"))
    ds.name = h5::read_strings(root, "names");
  else
    ds.name.assign(static_cast<size_t>(ds.sequences), "");
  if (h5::exists(root, "labels")) {
    const h5::Array l = h5::read_array(root, "labels");
    for (double v : l.data) {
      if (v != std::floor(v)) throw FileError(p, "/labels", "holds a value that is not whole");
      ds.labels.push_back(static_cast<std::int64_t>(v));
    }
    if (!h5::exists(root, "classes")) throw FileError(p, "/classes", "is missing beside /labels");
    ds.classes = h5::read_strings(root, "classes");
  }
  if (h5::exists(root, "speaker")) ds.speaker = h5::read_strings(root, "speaker");
  for (const std::string scheme : {"own", "speaker", "voice"})
    if (h5::exists(root, "split_" + std::string(scheme)))
      ds.splits.push_back({scheme, h5::read_strings(root, "split_" + std::string(scheme))});
  const auto problems = ds.problems();
  if (!problems.empty())
    throw FileError(p, "",
                    "is not a consistent dataset (" + std::to_string(problems.size()) +
                        " problems):" + problem_list(problems));
  return ds;
}

}  // namespace bmru::core
