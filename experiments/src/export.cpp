#include "experiments/export.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>

#include "core/array_file.hpp"
#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "core/units.hpp"

namespace bmru::experiments {
namespace {

// A per-frame trace [S, N] or [S, N, width] of /sw, /hw or /ct.
struct Trace {
  std::string path;  // "hw/layer1/state"
  core::NamedArray data;
  size_t width() const { return data.dims.size() == 3 ? data.dims[2] : 1; }
};

bool is_frame_trace(const std::string& name, const core::NamedArray& a, size_t S, size_t N) {
  const bool engine =
      name.rfind("sw/", 0) == 0 || name.rfind("hw/", 0) == 0 || name.rfind("ct/", 0) == 0;
  if (!engine || name.find("waveforms") != std::string::npos) return false;
  return (a.dims.size() == 2 || a.dims.size() == 3) && a.dims[0] == S && a.dims[1] == N;
}

// ngspice's name of a vector: letters, digits and underscores, the kind in front of current ones.
std::string vector_name(const std::string& trace, size_t column, size_t width) {
  std::string n = trace;
  for (char& c : n)
    if (c == '/') c = '_';
  if (width > 1) n += "_" + std::to_string(column);
  return n;
}

std::string vector_type(const std::string& trace) {
  if (trace.rfind("hw/power", 0) == 0) return "power";
  if (trace.rfind("hw/", 0) == 0 && trace.find("first_crossing") == std::string::npos)
    return "current";
  return trace.find("first_crossing") != std::string::npos ? "time"
                                                           : "voltage";  // unitless: "voltage"
}

void write_plot(std::ofstream& f, const std::string& title, const std::string& date,
                const std::string& plot,
                const std::vector<std::pair<std::string, std::string>>& vars,
                const std::vector<double>& rows, size_t points) {
  f << "Title: " << title << "\n"
    << "Date: " << date << "\n"
    << "Plotname: " << plot << "\n"
    << "Flags: real\n"
    << "No. Variables: " << vars.size() << "\n"
    << "No. Points: " << points << "\n"
    << "Variables:\n";
  for (size_t v = 0; v < vars.size(); ++v)
    f << "\t" << v << "\t" << vars[v].first << "\t" << vars[v].second << "\n";
  f << "Binary:\n";
  f.write(reinterpret_cast<const char*>(rows.data()),
          static_cast<std::streamsize>(rows.size() * sizeof(double)));
}

}  // namespace

namespace {

// What a run file holds for export: its inputs, the frame traces of every engine, the time axis.
struct RunTraces {
  core::NamedArray inputs;
  size_t S = 0, N = 0;
  double T = std::nan(""), phase = 0.9;
  std::vector<Trace> traces;
  bool has_waves = false;
};

RunTraces read_run(const std::filesystem::path& run) {
  const auto names = core::list_datasets(run);
  if (std::find(names.begin(), names.end(), "inputs") == names.end() ||
      std::find(names.begin(), names.end(), "sw/logits") == names.end())
    throw FileError(run.string(), "", "is not a run file of bmru (no /inputs or /sw/logits)");
  RunTraces r;
  r.inputs = core::read_array(run, "inputs");
  r.S = r.inputs.dims[0];
  r.N = r.inputs.dims[1];
  r.T = core::read_number_attribute(run, "config", "frame_period").value_or(std::nan(""));
  r.phase = core::read_number_attribute(run, "config", "sample_phase").value_or(0.9);
  for (const auto& n : names) {
    if (n.rfind("sw/", 0) && n.rfind("hw/", 0) && n.rfind("ct/", 0)) continue;
    core::NamedArray a = core::read_array(run, n);
    if (is_frame_trace(n, a, r.S, r.N)) r.traces.push_back({n, std::move(a)});
  }
  r.has_waves = std::find(names.begin(), names.end(), "hw/waveforms/state") != names.end();
  return r;
}

// One CSV per trace (sequence, frame or time, then its columns).
ExportResult export_csv(const ExportOptions& o, const RunTraces& run) {
  ExportResult r;
  std::filesystem::create_directories(o.out);
  const auto write_csv = [&](const std::string& file, const std::string& axis,
                             const core::NamedArray& a, double dt) {
    const size_t rows = a.dims[1], width = a.dims.size() == 3 ? a.dims[2] : 1;
    std::string text = "sequence," + axis;
    for (size_t c = 0; c < width; ++c) text += width > 1 ? ",c" + std::to_string(c) : ",value";
    text += "\n";
    for (size_t s = 0; s < run.S; ++s)
      for (size_t k = 0; k < rows; ++k) {
        text +=
            std::to_string(s) + "," + (dt > 0 ? core::format_number(k * dt) : std::to_string(k));
        for (size_t c = 0; c < width; ++c)
          text += "," + core::format_number(a.data[(s * rows + k) * width + c]);
        text += "\n";
      }
    core::write_text_atomically(o.out / file, text);
    ++r.files;
    r.points += static_cast<long long>(run.S * rows);
  };
  for (const auto& t : run.traces)
    write_csv(vector_name(t.path, 0, 1) + ".csv", "frame", t.data, 0);
  write_csv("inputs.csv", "frame", run.inputs, 0);
  if (run.has_waves) {
    const double dt =
        core::read_number_attribute(o.run, "hw/waveforms/state", "dt").value_or(std::nan(""));
    write_csv("hw_waveforms_state.csv", "time_s", core::read_array(o.run, "hw/waveforms/state"),
              dt);
  }
  return r;
}

// The dense waveforms, one plot per sequence.
void write_wave_plots(std::ofstream& f, const ExportOptions& o, const RunTraces& run,
                      const std::string& title, const char* date, ExportResult& r) {
  const core::NamedArray w = core::read_array(o.run, "hw/waveforms/state");
  const double dt =
      core::read_number_attribute(o.run, "hw/waveforms/state", "dt").value_or(run.T / 50);
  const size_t rows = w.dims[1], cells = w.dims[2];
  std::vector<std::pair<std::string, std::string>> vars{{"time", "time"}};
  for (size_t c = 0; c < cells; ++c)
    vars.push_back({"i(cell" + std::to_string(c) + ")", "current"});
  for (size_t s = 0; s < run.S; ++s) {
    std::vector<double> data;
    data.reserve(rows * (cells + 1));
    for (size_t k = 0; k < rows; ++k) {
      data.push_back(static_cast<double>(k) * dt);
      for (size_t c = 0; c < cells; ++c) data.push_back(w.data[(s * rows + k) * cells + c]);
    }
    write_plot(f, title, date, "Transient Analysis: hw waveforms, sequence " + std::to_string(s),
               vars, data, rows);
    ++r.plots;
    r.vectors += static_cast<long long>(vars.size());
    r.points += static_cast<long long>(rows);
  }
}

// The frame traces at their sample instants, one plot per sequence.
void write_frame_plots(std::ofstream& f, const RunTraces& run, const std::string& title,
                       const char* date, ExportResult& r) {
  std::vector<std::pair<std::string, std::string>> vars{{"time", "time"}};
  for (const auto& t : run.traces)
    for (size_t c = 0; c < t.width(); ++c)
      vars.push_back({vector_name(t.path, c, t.width()), vector_type(t.path)});
  for (size_t s = 0; s < run.S; ++s) {
    std::vector<double> data;
    data.reserve(run.N * vars.size());
    for (size_t k = 0; k < run.N; ++k) {
      data.push_back((static_cast<double>(k) + run.phase) * run.T);
      for (const auto& t : run.traces)
        for (size_t c = 0; c < t.width(); ++c)
          data.push_back(t.data.data[(s * run.N + k) * t.width() + c]);
    }
    write_plot(f, title, date, "Transient Analysis: frames, sequence " + std::to_string(s), vars,
               data, run.N);
    ++r.plots;
    r.vectors += static_cast<long long>(vars.size());
    r.points += static_cast<long long>(run.N);
  }
}

ExportResult export_raw(const ExportOptions& o, const RunTraces& run) {
  if (!std::isfinite(run.T))
    throw FileError(o.run.string(), "/config@frame_period", "is missing: the time axis is unknown");
  ExportResult r;
  const std::filesystem::path part = o.out.string() + ".part";
  {
    std::ofstream f(part, std::ios::binary | std::ios::trunc);
    if (!f)
      throw FileError(part.string(), "", "could not be created (check the folder and permissions)");
    const std::string title = "bmru-cosim run " + o.run.filename().string();
    const std::time_t now = std::time(nullptr);
    char date[64];
    std::strftime(date, sizeof date, "%a %b %d %H:%M:%S %Y", std::gmtime(&now));
    if (run.has_waves) write_wave_plots(f, o, run, title, date, r);
    write_frame_plots(f, run, title, date, r);
    f.flush();
    if (!f) throw FileError(part.string(), "", "could not be written (disk full?)");
  }
  core::publish(part, o.out);
  return r;
}

}  // namespace

ExportResult run_export(const ExportOptions& o) {
  if (o.format != "raw" && o.format != "csv")
    throw InputError("--format must be raw or csv (got '" + o.format + "')");
  const RunTraces run = read_run(o.run);
  return o.format == "csv" ? export_csv(o, run) : export_raw(o, run);
}

}  // namespace bmru::experiments
