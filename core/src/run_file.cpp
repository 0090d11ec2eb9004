#include "core/run_file.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <string_view>
#include <type_traits>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "core/file_lock.hpp"
#include "core/units.hpp"
#include "h5.hpp"
#include "model_h5.hpp"
#include "run_file_state.hpp"

namespace bmru::core {

namespace {

// Frame traces are stored uncompressed: deflate cost 5x the run time and saved a third of the
// size on 8 x 100k-frame runs (random inputs and switching states compress poorly).
// Every trace of a file, inputs included, shares one chunk length in frames, so that a block of
// that many frames (aligned) writes whole chunks of every dataset and nothing is read back. The
// length keeps one block of all traces near 4 MB: long chunks keep HDF5's chunk index (and so its
// metadata cache) small on long runs, and the bound keeps the writer's memory flat for wide nets.
Index chunk_frames(const TraceShape& s) {
  const Index width = s.n_in + 3 * s.d * s.n_layers + s.n_out;
  const Index bytes_per_frame = std::max<Index>(1, s.sequences * width * 8);
  const Index frames = (Index{4} << 20) / bytes_per_frame;
  return std::max<Index>(1, std::min(s.frames, std::clamp<Index>(frames, 16, 8192)));
}

struct Dataset {
  h5::Id id;
  std::string name;
  Index width = 0;
};

Dataset make_trace(const h5::Loc& g, const std::string& name, const TraceShape& shape, Index width,
                   Index chunk, const std::string& units) {
  Dataset d;
  d.name = g.child(name);
  d.width = width;
  d.id = h5::create_chunked(
      g, name, h5::Type::f64,
      {static_cast<hsize_t>(shape.sequences), static_cast<hsize_t>(shape.frames),
       static_cast<hsize_t>(width)},
      {1, static_cast<hsize_t>(chunk), static_cast<hsize_t>(std::max<Index>(1, width))},
      /*compress=*/false);
  h5::write_object_attr(d.id.get(), g.path, d.name, "units", units);
  return d;
}

// Packs block rows [B] x frames [n] x width from per-frame matrices [B, width], then writes them.
template <typename Get>
void write_frames(const Dataset& d, const std::string& path, Index s0, Index k0, Index batch,
                  Index n, Get get, std::vector<double>& buf) {
  buf.resize(static_cast<size_t>(batch * n * d.width));
  for (Index j = 0; j < n; ++j) {
    const Matrix& m = get(j);
    for (Index b = 0; b < batch; ++b)
      for (Index i = 0; i < d.width; ++i)
        buf[static_cast<size_t>((b * n + j) * d.width + i)] = m(b, i);
  }
  h5::write_slab(
      d.id.get(), path, d.name, h5::Type::f64,
      {static_cast<hsize_t>(s0), static_cast<hsize_t>(k0), 0},
      {static_cast<hsize_t>(batch), static_cast<hsize_t>(n), static_cast<hsize_t>(d.width)},
      buf.data());
}

}  // namespace

double estimate_run_bytes(const TraceShape& s, int engines, int waveform_points) {
  const double frames = static_cast<double>(s.sequences) * static_cast<double>(s.frames);
  const double cells = static_cast<double>(s.d) * static_cast<double>(s.n_layers);
  const double per_frame = static_cast<double>(s.n_in) +
                           engines * (3 * cells + static_cast<double>(s.n_out)) +
                           (engines > 1 ? 4 + (engines - 1) * cells : 0) +
                           0.5 * waveform_points * cells;  // waveforms compress to about half
  return 1e6 + 8 * frames * per_frame;
}

struct InputsWriter::Impl {
  std::shared_ptr<detail::RunFileState> file;
  Dataset inputs;
  std::vector<double> buf;
};

void InputsWriter::write_block(Index s0, Index k0, const std::vector<Matrix>& x) {
  if (x.empty()) return;
  impl_->file->root();
  write_frames(
      impl_->inputs, impl_->file->out.string(), s0, k0, x.front().rows(),
      static_cast<Index>(x.size()),
      [&](Index j) -> const Matrix& { return x[static_cast<size_t>(j)]; }, impl_->buf);
}

struct TraceWriter::Impl {
  std::shared_ptr<detail::RunFileState> file;
  h5::Id group;
  std::string where;
  Index chunk = 1;
  std::vector<std::array<Dataset, 3>> layers;  // candidate, state, output
  Dataset logits;
  std::vector<double> buf;
};

void TraceWriter::write_block(Index s0, Index k0, const std::vector<Frame>& frames) {
  if (frames.empty()) return;
  Impl& t = *impl_;
  t.file->root();
  const std::string path = t.file->out.string();
  const Index batch = frames.front().batch();
  const Index n = static_cast<Index>(frames.size());
  for (size_t l = 0; l < t.layers.size(); ++l) {
    write_frames(
        t.layers[l][0], path, s0, k0, batch, n,
        [&](Index j) -> const Matrix& {
          return frames[static_cast<size_t>(j)].layers[l].candidate;
        },
        t.buf);
    write_frames(
        t.layers[l][1], path, s0, k0, batch, n,
        [&](Index j) -> const Matrix& { return frames[static_cast<size_t>(j)].layers[l].state; },
        t.buf);
    write_frames(
        t.layers[l][2], path, s0, k0, batch, n,
        [&](Index j) -> const Matrix& { return frames[static_cast<size_t>(j)].layers[l].output; },
        t.buf);
  }
  write_frames(
      t.logits, path, s0, k0, batch, n,
      [&](Index j) -> const Matrix& { return frames[static_cast<size_t>(j)].logits; }, t.buf);
}

void TraceWriter::write_decisions(const std::vector<Decision>& decisions) {
  Impl& t = *impl_;
  const h5::Loc g{t.group.get(), t.file->root().path, t.where};
  std::vector<std::int64_t> cls;
  std::vector<double> margin;
  for (const Decision& d : decisions) {
    cls.push_back(d.decision);
    margin.push_back(d.margin);
  }
  const std::vector<hsize_t> dims{decisions.size()};
  h5::write_array(g, "decision", dims, cls.data());
  h5::write_array(g, "vote_margin", dims, margin.data());
  h5::Id dec(H5Dopen2(t.group.get(), "decision", H5P_DEFAULT));
  h5::write_object_attr(dec.get(), g.path, g.child("decision"), "units",
                        "class index; -1 = tie (majority vote over frames of argmax logits)");
  h5::Id mar(H5Dopen2(t.group.get(), "vote_margin", H5P_DEFAULT));
  h5::write_object_attr(mar.get(), g.path, g.child("vote_margin"), "units",
                        "fraction of frames: top class share minus runner-up share");
}

Index TraceWriter::preferred_block() const {
  return impl_->chunk;
}

RunFile::RunFile(const std::filesystem::path& out, const RunInfo& info)
    : impl_(std::make_shared<detail::RunFileState>()) {
  impl_->out = out;
  impl_->part = out.string() + ".part";
  impl_->lock.emplace(out.string() + ".lock", "The output '" + out.string() + "'", true);
  impl_->file = h5::create_file(impl_->part);
  const h5::Loc r = impl_->root();
  h5::write_attr(r, "format", std::string(kRunFormat));
  h5::write_attr(r, "tool_version", info.tool_version);
  h5::write_attr(r, "command_line", info.command_line);
  h5::write_attr(r, "created", h5::utc_now());
}

RunFile::RunFile(RunFile&&) noexcept = default;
RunFile& RunFile::operator=(RunFile&&) noexcept = default;

RunFile::~RunFile() {
  if (impl_ && impl_->file.valid()) H5Fflush(impl_->file.get(), H5F_SCOPE_GLOBAL);
}

const std::filesystem::path& RunFile::path() const {
  return impl_->out;
}

void RunFile::write_config(const std::vector<Attr>& attrs) {
  const h5::Loc r = impl_->root();
  h5::Id g = h5::exists(r, "config") ? h5::open_group(r, "config") : h5::create_group(r, "config");
  const h5::Loc c{g.get(), r.path, "/config"};
  for (const Attr& a : attrs)
    std::visit([&](const auto& v) { h5::write_attr(c, a.name, v); }, a.value);
}

void RunFile::write_model(const Network& net) {
  write_model_group(impl_->root(), net);
}

void RunFile::write_netlist(const std::string& lockstep, const std::string& standalone) {
  const h5::Loc r = impl_->root();
  h5::Id g = h5::create_group(r, "netlist");
  const h5::Loc n{g.get(), r.path, "/netlist"};
  for (const auto& [name, text] :
       {std::pair<const char*, const std::string*>{"lockstep", &lockstep},
        {"standalone", &standalone}}) {
    h5::write_string_dataset(n, name, *text);
    h5::Id ds(H5Dopen2(g.get(), name, H5P_DEFAULT));
    h5::write_object_attr(ds.get(), r.path, n.child(name), "sha256", sha256_hex(*text));
  }
}

InputsWriter RunFile::add_inputs(const TraceShape& shape) {
  auto w = std::make_shared<InputsWriter::Impl>();
  w->file = impl_;
  const h5::Loc r = impl_->root();
  w->inputs = make_trace(r, "inputs", shape, shape.n_in, chunk_frames(shape), "model units");
  return InputsWriter(std::move(w));
}

TraceWriter RunFile::add_traces(const std::string& engine, const TraceShape& shape,
                                const std::string& units) {
  auto t = std::make_shared<TraceWriter::Impl>();
  t->file = impl_;
  t->chunk = chunk_frames(shape);
  const h5::Loc r = impl_->root();
  t->group = h5::create_group(r, engine);
  t->where = r.child(engine);
  const h5::Loc g{t->group.get(), r.path, t->where};
  for (Index l = 0; l < shape.n_layers; ++l) {
    const std::string name = "layer" + std::to_string(l + 1);
    h5::Id lg = h5::create_group(g, name);
    const h5::Loc lloc{lg.get(), r.path, g.child(name)};
    t->layers.push_back({make_trace(lloc, "candidate", shape, shape.d, t->chunk, units),
                         make_trace(lloc, "state", shape, shape.d, t->chunk, units),
                         make_trace(lloc, "output", shape, shape.d, t->chunk, units)});
  }
  t->logits = make_trace(g, "logits", shape, shape.n_out, t->chunk, units);
  return TraceWriter(std::move(t));
}

struct SeriesWriter::Impl {
  std::shared_ptr<detail::RunFileState> file;
  Dataset data;
  bool rows = false;  // a [S, n, width] dataset
};

void SeriesWriter::write(Index s, Index k0, const std::vector<double>& values) {
  if (values.empty()) return;
  impl_->file->root();
  if (!impl_->rows) {
    h5::write_slab(impl_->data.id.get(), impl_->file->out.string(), impl_->data.name, h5::Type::f64,
                   {static_cast<hsize_t>(s), static_cast<hsize_t>(k0)}, {1, values.size()},
                   values.data());
    return;
  }
  const auto width = static_cast<size_t>(impl_->data.width);
  if (values.size() % width != 0)
    throw Error("Writing " + impl_->data.name + ": " + std::to_string(values.size()) +
                " values are not whole rows of " + std::to_string(width));
  h5::write_slab(impl_->data.id.get(), impl_->file->out.string(), impl_->data.name, h5::Type::f64,
                 {static_cast<hsize_t>(s), static_cast<hsize_t>(k0), 0},
                 {1, values.size() / width, width}, values.data());
}

SeriesWriter RunFile::add_series(const std::string& path, Index sequences, Index frames,
                                 const std::string& units) {
  auto w = std::make_shared<SeriesWriter::Impl>();
  w->file = impl_;
  std::vector<h5::Id> keep;
  const h5::Loc loc = groups_of(impl_->root(), path, keep);
  const std::string name = path.substr(path.rfind('/') + 1);
  w->data.name = loc.child(name);
  w->data.width = 1;
  w->data.id = h5::create_chunked(
      loc, name, h5::Type::f64, {static_cast<hsize_t>(sequences), static_cast<hsize_t>(frames)},
      {1, static_cast<hsize_t>(std::max<Index>(1, std::min<Index>(frames, 4096)))}, false);
  h5::write_object_attr(w->data.id.get(), loc.path, w->data.name, "units", units);
  return SeriesWriter(std::move(w));
}

SeriesWriter RunFile::add_rows(const std::string& path, Index sequences, Index rows, Index width,
                               const std::string& units) {
  auto w = std::make_shared<SeriesWriter::Impl>();
  w->file = impl_;
  w->rows = true;
  std::vector<h5::Id> keep;
  const h5::Loc loc = groups_of(impl_->root(), path, keep);
  const std::string name = path.substr(path.rfind('/') + 1);
  w->data.name = loc.child(name);
  w->data.width = width;
  // Chunks of 64 kB: smooth waveforms compress well (shuffle + deflate), and one partly written
  // chunk per sequence stays in HDF5's 1 MB chunk cache for 16 sequences written side by side.
  const Index chunk =
      std::clamp<Index>(8192 / std::max<Index>(1, width), 1, std::max<Index>(1, rows));
  w->data.id = h5::create_chunked(
      loc, name, h5::Type::f64,
      {static_cast<hsize_t>(sequences), static_cast<hsize_t>(rows), static_cast<hsize_t>(width)},
      {1, static_cast<hsize_t>(chunk), static_cast<hsize_t>(width)}, true);
  h5::write_object_attr(w->data.id.get(), loc.path, w->data.name, "units", units);
  return SeriesWriter(std::move(w));
}

void RunFile::set_attr(const std::string& path, const Attr& attr) {
  const h5::Loc root = impl_->root();
  h5::Id obj(H5Oopen(root.id, path.c_str(), H5P_DEFAULT));
  if (!obj.valid()) throw FileError(root.path, path, "does not exist");
  const h5::Loc loc{obj.get(), root.path, path};
  std::visit([&](const auto& v) { h5::write_attr(loc, attr.name, v); }, attr.value);
}

void RunFile::commit() {
  impl_->root();
  // Closed for good (the strong close degree closes the writers' datasets too) and synced before
  // the rename: only a file that closed cleanly replaces an earlier one.
  h5::close_checked(impl_->file, impl_->part);
  publish(impl_->part, impl_->out);
}

}  // namespace bmru::core
