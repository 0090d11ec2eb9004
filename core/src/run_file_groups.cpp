// The run file's tables and groups: the element map, generic tables (a sweep's /summary), whole
// runs copied into a sweep file, metrics and per-sequence status.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/run_file.hpp"
#include "run_file_state.hpp"

namespace bmru::core {

void RunFile::write_netlist_map(const std::vector<ElementRow>& rows) {
  const h5::Loc r = impl_->root();
  // A compound of variable-length UTF-8 strings and one double, as h5py reads natively.
  struct Row {
    const char* instance;
    const char* kind;
    const char* parameter;
    double value;
    const char* unit;
  };
  std::vector<Row> data;
  for (const auto& e : rows)
    data.push_back(
        {e.instance.c_str(), e.kind.c_str(), e.parameter.c_str(), e.value, e.unit.c_str()});
  h5::Id str = h5::utf8_vlen_string();
  h5::Id type(H5Tcreate(H5T_COMPOUND, sizeof(Row)));
  H5Tinsert(type.get(), "instance", HOFFSET(Row, instance), str.get());
  H5Tinsert(type.get(), "kind", HOFFSET(Row, kind), str.get());
  H5Tinsert(type.get(), "parameter", HOFFSET(Row, parameter), str.get());
  H5Tinsert(type.get(), "value", HOFFSET(Row, value), H5T_NATIVE_DOUBLE);
  H5Tinsert(type.get(), "unit", HOFFSET(Row, unit), str.get());
  const hsize_t n = data.size();
  h5::Id space(H5Screate_simple(1, &n, nullptr));
  h5::Id ds(H5Dcreate2(r.id, "netlist_map", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT));
  if (!ds.valid() ||
      (n > 0 && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0))
    throw FileError(r.path, "/netlist_map", "could not be written");
}

void RunFile::write_table(const std::string& name, const std::vector<TableColumn>& columns) {
  const h5::Loc r = impl_->root();
  const size_t n_rows = columns.empty() ? 0 : columns.front().values.size();
  h5::Id str = h5::utf8_vlen_string();
  h5::Id type(H5Tcreate(H5T_COMPOUND, std::max<size_t>(8, 8 * columns.size())));
  for (size_t c = 0; c < columns.size(); ++c) {
    const TableColumn& col = columns[c];
    if (col.values.size() != n_rows)
      throw InputError("Table '" + name + "': column '" + col.name + "' has " +
                       std::to_string(col.values.size()) + " rows, the first has " +
                       std::to_string(n_rows));
    const size_t kind = n_rows ? col.values.front().index() : 0;
    for (const auto& v : col.values)
      if (v.index() != kind)
        throw InputError("Table '" + name + "': column '" + col.name + "' mixes kinds");
    const hid_t t = kind == 0 ? H5T_NATIVE_DOUBLE : kind == 1 ? H5T_NATIVE_INT64 : str.get();
    H5Tinsert(type.get(), col.name.c_str(), 8 * c,
              t);  // every field is 8 bytes: a double, an int64 or a pointer
  }
  std::vector<unsigned char> data(8 * columns.size() * n_rows);
  for (size_t row = 0; row < n_rows; ++row)
    for (size_t c = 0; c < columns.size(); ++c) {
      unsigned char* at = data.data() + 8 * (row * columns.size() + c);
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
              const char* p = v.c_str();  // the column keeps the string alive during the write
              std::memcpy(at, &p, sizeof p);
            } else {
              std::memcpy(at, &v, sizeof v);
            }
          },
          columns[c].values[row]);
    }
  const hsize_t n = n_rows;
  h5::Id space(H5Screate_simple(1, &n, nullptr));
  h5::Id ds(H5Dcreate2(r.id, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT));
  if (!ds.valid() ||
      (n > 0 && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0))
    throw FileError(r.path, "/" + name, "could not be written");
}

namespace {
// Every attribute of `src` created on `dst` with the same type, shape and value.
bool copy_attributes(hid_t src, hid_t dst) {
  return H5Aiterate2(
             src, H5_INDEX_NAME, H5_ITER_INC, nullptr,
             [](hid_t loc, const char* name, const H5A_info_t*, void* data) -> herr_t {
               h5::Id a(H5Aopen(loc, name, H5P_DEFAULT));
               h5::Id type(H5Aget_type(a.get()));
               h5::Id space(H5Aget_space(a.get()));
               const auto n = static_cast<size_t>(
                   std::max<hssize_t>(1, H5Sget_simple_extent_npoints(space.get())));
               std::vector<unsigned char> buf(H5Tget_size(type.get()) * n);
               bool good = H5Aread(a.get(), type.get(), buf.data()) >= 0;
               if (good) {
                 h5::Id b(H5Acreate2(*static_cast<hid_t*>(data), name, type.get(), space.get(),
                                     H5P_DEFAULT, H5P_DEFAULT));
                 good = b.valid() && H5Awrite(b.get(), type.get(), buf.data()) >= 0;
                 H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, buf.data());
               }
               return good ? 0 : -1;
             },
             &dst) >= 0;
}
}  // namespace

void RunFile::copy_run(const std::string& id, const std::filesystem::path& run_file) {
  const h5::Loc r = impl_->root();
  h5::Id runs = h5::exists(r, "runs") ? h5::open_group(r, "runs") : h5::create_group(r, "runs");
  const h5::Loc rl{runs.get(), r.path, "/runs"};
  h5::Id g = h5::create_group(rl, id);
  const h5::Loc dst{g.get(), r.path, rl.child(id)};
  h5::Id src = h5::open_file(run_file.string(), false);
  // Objects are copied without their attributes, which are then copied one by one: H5Ocopy of
  // HDF5 1.10 crashes on dense attribute storage holding variable-length strings (our /config).
  h5::Id ocpy(H5Pcreate(H5P_OBJECT_COPY));
  H5Pset_copy_object(ocpy.get(), H5O_COPY_WITHOUT_ATTR_FLAG);
  struct Ctx {
    hid_t dst;
    hid_t ocpy;
    bool ok = true;
  } ctx{g.get(), ocpy.get()};
  H5Literate(
      src.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t loc, const char* name, const H5L_info_t*, void* data) -> herr_t {
        auto* c = static_cast<Ctx*>(data);
        if (H5Ocopy(loc, name, c->dst, name, c->ocpy, H5P_DEFAULT) < 0) c->ok = false;
        return 0;
      },
      &ctx);
  if (ctx.ok) ctx.ok = copy_attributes(src.get(), g.get());
  H5Ovisit(
      src.get(), H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t root, const char* name, const H5O_info_t*, void* data) -> herr_t {
        auto* c = static_cast<Ctx*>(data);
        if (std::string_view(name) == ".") return 0;
        h5::Id from(H5Oopen(root, name, H5P_DEFAULT));
        h5::Id to(H5Oopen(c->dst, name, H5P_DEFAULT));
        if (!from.valid() || !to.valid() || !copy_attributes(from.get(), to.get())) c->ok = false;
        return 0;
      },
      &ctx);
  if (!ctx.ok)
    throw FileError(r.path, dst.where, "could not copy the run file '" + run_file.string() + "'");
}

void RunFile::write_metrics(const std::string& group, const Metrics& m,
                            const std::vector<Attr>& extra) {
  std::vector<h5::Id> keep;
  const h5::Loc root = impl_->root();
  const h5::Loc g = groups_of(root, group + "/", keep);
  h5::write_attr(g, "state_agreement", m.state_agreement);
  h5::write_attr(g, "decision_agreement", m.decision_agreement);
  h5::write_attr(g, "candidate_nrmse", m.candidate_nrmse);
  h5::write_attr(g, "state_nrmse", m.state_nrmse);
  h5::write_attr(g, "output_nrmse", m.output_nrmse);
  h5::write_attr(g, "logit_nrmse", m.logit_nrmse);
  h5::write_attr(g, "first_divergence", static_cast<std::int64_t>(m.first_divergence));
  h5::write_attr(g, "constant_traces", static_cast<std::int64_t>(m.constant_traces));
  h5::write_attr(g, "latency_median_s", m.latency.median_s);
  h5::write_attr(g, "latency_max_s", m.latency.max_s);
  h5::write_attr(g, "latency_matched", static_cast<std::int64_t>(m.latency.matched));
  h5::write_attr(g, "latency_unmatched", static_cast<std::int64_t>(m.latency.unmatched));
  h5::write_attr(g, "extra_crossings", static_cast<std::int64_t>(m.latency.extra_crossings));
  h5::write_attr(
      g, "formulas",
      std::string(
          "DESIGN.md section 5: state agreement = share of (sequence, frame, cell) with "
          "[hw > alpha/2] == [sw > 0]; candidate NRMSE = RMS(hw - sw)/beta_hi; state NRMSE = "
          "RMS(hw - sw)/alpha; output and logit NRMSE = RMS(hw - sw)/RMS(sw); pooled = RMS over "
          "cells; "
          "correlation = Pearson (NaN for a constant trace); decision agreement = share of "
          "sequences "
          "with equal majority-vote decisions (tie = -1); first divergence = earliest frame where "
          "any "
          "state differs (-1 if none); switching latency = first hardware crossing of alpha/2 "
          "within the "
          "frame of a software transition minus the frame start (median, max; unmatched "
          "transitions and "
          "extra crossings counted). Model units; shares are fractions in [0, 1]."));
  for (const Attr& a : extra)
    std::visit([&](const auto& v) { h5::write_attr(g, a.name, v); }, a.value);
  const auto L = m.cells.size(), d = L ? m.cells[0].size() : 0;
  const auto per_cell = [&](const char* name, auto get) {
    std::vector<double> v;
    for (const auto& layer : m.cells)
      for (const auto& c : layer) v.push_back(get(c));
    h5::write_array(g, name, {L, d}, v.data());
  };
  per_cell("cell_state_agreement", [](const CellMetrics& c) { return c.state_agreement; });
  per_cell("cell_candidate_nrmse", [](const CellMetrics& c) { return c.candidate.nrmse; });
  per_cell("cell_candidate_correlation",
           [](const CellMetrics& c) { return c.candidate.correlation; });
  per_cell("cell_state_nrmse", [](const CellMetrics& c) { return c.state.nrmse; });
  per_cell("cell_output_nrmse", [](const CellMetrics& c) { return c.output.nrmse; });
  std::vector<double> agree;
  std::vector<std::int64_t> first;
  for (const auto& s : m.sequences) {
    agree.push_back(s.state_agreement);
    first.push_back(s.first_divergence);
  }
  const std::vector<hsize_t> S{m.sequences.size()};
  h5::write_array(g, "sequence_state_agreement", S, agree.data());
  h5::write_array(g, "sequence_first_divergence", S, first.data());
  std::vector<double> lnrmse, lcorr;
  for (const auto& l : m.logits) {
    lnrmse.push_back(l.nrmse);
    lcorr.push_back(l.correlation);
  }
  h5::write_array(g, "logit_nrmse_per_class", {lnrmse.size()}, lnrmse.data());
  h5::write_array(g, "logit_correlation_per_class", {lcorr.size()}, lcorr.data());
}

void RunFile::write_sequence_status(const std::vector<std::string>& status,
                                    const std::vector<std::string>& error,
                                    const std::vector<std::int64_t>& frames_completed) {
  const h5::Loc r = impl_->root();
  h5::Id g = h5::create_group(r, "sequences");
  const h5::Loc loc{g.get(), r.path, "/sequences"};
  h5::write_strings(loc, "status", status);
  h5::write_strings(loc, "error", error);
  h5::write_array(loc, "frames_completed", {frames_completed.size()}, frames_completed.data());
}

}  // namespace bmru::core
