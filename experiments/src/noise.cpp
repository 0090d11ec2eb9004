// `--noise` (issue 21): the run is made twice, without and with seeded noise currents in every
// cell's candidate line (or, --noise-at all, in every line of the circuit: SPICE and ct only, the
// discrete model has no lines), and the suppression at each cell boundary is measured per engine:
//
//   candidate deviation  rms(c_noisy - c_clean) / beta_hi      (over every sequence and frame)
//   state deviation      rms(h_noisy - h_clean) / alpha
//   suppression factor   candidate deviation / state deviation
//
// When a cell's discrete state (h > alpha / 2) never differs between the runs, the factor is the
// bound the run length allows: the state deviation of one flipped frame among M is 1 / sqrt(M),
// so the factor is at least candidate deviation x sqrt(M) (a lower bound, marked so). No candidate
// deviation (no noise reached it): no factor (NaN). The state error against time is
// mean |h_noisy - h_clean| / alpha over the sequences and cells, per frame.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/array_file.hpp"
#include "core/errors.hpp"
#include "core/model_file.hpp"
#include "experiments/fidelity.hpp"
#include "experiments/simulate.hpp"
#include "noise_metrics.hpp"

namespace bmru::experiments {

using nlohmann::json;
namespace fs = std::filesystem;

std::string noise_to_json(const core::NoiseSpec& n) {
  return json{{"amplitude", static_cast<int>(n.amplitude)},
              {"value", n.value},
              {"dt", n.dt_s},
              {"corner", n.corner_hz},
              {"seed", n.seed}}
      .dump();
}

core::NoiseSpec noise_from_json(const std::string& text) {
  const json j = json::parse(text);
  core::NoiseSpec n;
  n.amplitude = static_cast<core::NoiseSpec::Amplitude>(j.at("amplitude").get<int>());
  n.value = j.at("value").get<double>();
  n.dt_s = j.at("dt").get<double>();
  n.corner_hz = j.at("corner").get<double>();
  n.seed = j.at("seed").get<std::uint64_t>();
  return n;
}

CellSuppression suppression(const std::vector<double>& c_clean, const std::vector<double>& c_noisy,
                            const std::vector<double>& h_clean, const std::vector<double>& h_noisy,
                            double beta_hi, double alpha, bool discrete) {
  CellSuppression r;
  double sc = 0, sh = 0;
  long long m = 0;
  for (size_t i = 0; i < std::min(c_clean.size(), c_noisy.size()); ++i) {
    const double dc = c_noisy[i] - c_clean[i], dh = h_noisy[i] - h_clean[i];
    if (!std::isfinite(dc) || !std::isfinite(dh)) continue;  // frames a run never reached
    sc += dc * dc;
    sh += dh * dh;
    r.flips += (h_noisy[i] > alpha / 2) != (h_clean[i] > alpha / 2);
    ++m;
  }
  r.frames = m;
  if (m == 0) return r;
  r.candidate_deviation = std::sqrt(sc / static_cast<double>(m)) / beta_hi;
  r.state_deviation = std::sqrt(sh / static_cast<double>(m)) / alpha;
  settle(r, discrete);
  return r;
}

void settle(CellSuppression& r, bool discrete) {
  r.factor = std::nan("");
  r.is_bound = false;
  if (r.frames == 0 || r.candidate_deviation == 0) return;  // no noise reached the candidate
  if ((discrete && r.flips == 0) || r.state_deviation == 0) {
    r.factor = r.candidate_deviation * std::sqrt(static_cast<double>(r.frames));
    r.is_bound = true;
  } else {
    r.factor = r.candidate_deviation / r.state_deviation;
  }
}

std::pair<double, bool> median_suppression(const std::vector<CellSuppression>& cells) {
  std::vector<std::pair<double, bool>> v;
  for (const auto& c : cells)
    if (std::isfinite(c.factor)) v.emplace_back(c.factor, c.is_bound);
  if (v.empty()) return {std::nan(""), false};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  if (n % 2 == 1) return v[n / 2];
  return {(v[n / 2 - 1].first + v[n / 2].first) / 2, v[n / 2 - 1].second || v[n / 2].second};
}

namespace {

std::vector<double> read(const fs::path& file, const std::string& name) {
  return core::read_array(file, name).data;
}

// Per cell boundary of one engine, under the group `m` ("metrics/noise/<engine>/").
void cell_arrays(const std::string& m, const std::vector<std::uint64_t>& dims,
                 const std::vector<CellSuppression>& cells, std::vector<core::NamedArray>& arrays) {
  std::vector<double> factor, bound, cdev, sdev, flips, frames;
  for (const auto& q : cells) {
    factor.push_back(q.factor);
    bound.push_back(q.is_bound ? 1 : 0);
    cdev.push_back(q.candidate_deviation);
    sdev.push_back(q.state_deviation);
    flips.push_back(static_cast<double>(q.flips));
    frames.push_back(static_cast<double>(q.frames));
  }
  arrays.push_back({m + "suppression_factor", dims, factor, ""});
  arrays.push_back({m + "suppression_is_bound", dims, bound, ""});
  arrays.push_back({m + "candidate_deviation", dims, cdev, "1/beta_hi"});
  arrays.push_back({m + "state_deviation", dims, sdev, "1/alpha"});
  arrays.push_back({m + "state_flips", dims, flips, "frames"});
  arrays.push_back({m + "state_frames", dims, frames, "frames"});
}

// The median over the cells as the group's attributes, and as the engine's figure.
FidelityResult::Suppression engine_attrs(const std::string& engine, const std::string& m,
                                         const std::vector<CellSuppression>& cells,
                                         std::vector<std::pair<std::string, core::Attr>>& attrs) {
  const auto [median, is_bound] = median_suppression(cells);
  const std::string group = "/" + m.substr(0, m.size() - 1);
  attrs.push_back({group, {"suppression_factor", median}});
  attrs.push_back({group, {"suppression_is_bound", static_cast<std::int64_t>(is_bound)}});
  return {engine, median, is_bound};
}

}  // namespace

FidelityResult run_with_noise(const FidelityOptions& o,
                              const std::function<void(long long, long long)>& progress,
                              const StageFn& stage) {
  if (o.user_netlist)
    throw InputError(
        "--noise drives sources into the generated circuit's lines: it cannot run on a "
        "user's netlist");
  // The noiseless run of the same circuit, then the noisy one.
  FidelityOptions clean = o;
  clean.noise = {};
  clean.noise_half = true;
  clean.out = o.out.string() + ".noiseless.h5";
  if (stage) stage("the noiseless run (--noise compares against it)");
  const FidelityResult c = run_fidelity(clean, progress, stage);
  FidelityOptions noisy = o;
  noisy.noise_half = true;
  if (stage) stage("the run with noise " + o.noise.describe());
  FidelityResult r = run_fidelity(noisy, progress, stage);

  const core::Network net = load_network(o.model, o.unit_current_a);
  const core::Index L = net.n_layers(), d = net.d();
  const core::Index S = static_cast<core::Index>(r.sequence_ok.size());
  std::vector<core::NamedArray> arrays;
  std::vector<std::pair<std::string, core::Attr>> attrs{
      {"/config", {"noise", o.noise.describe()}},
      {"/config", {"noise_seed", static_cast<std::int64_t>(o.noise.seed)}},
      {"/config", {"noise_dt", o.noise.grid_s(o.axis)}},
      {"/config", {"noise_corner_hz", o.noise.corner_hz}},
      {"/config", {"noise_at", std::string(o.noise_all_lines ? "all" : "candidates")}}};
  for (const std::string e : {"sw", "ct", "hw"}) {
    // Under --noise-at all the discrete model ran without noise: it has no figure.
    if ((e == "hw" && !o.hw) || (e == "ct" && !o.ct) || (e == "sw" && o.noise_all_lines)) continue;
    const double scale = e == "hw" ? net.unit_current_a : 1.0;  // /hw is in amperes
    std::vector<CellSuppression> cells;
    std::vector<double> err;  // the state error against time, over sequences, layers and cells
    for (core::Index l = 0; l < L; ++l) {
      const std::string g = e + "/layer" + std::to_string(l + 1) + "/";
      const auto cc = core::read_array(clean.out, g + "candidate");
      const auto hc = read(clean.out, g + "state");
      const auto cn = read(o.out, g + "candidate");
      const auto hn = read(o.out, g + "state");
      const auto N = static_cast<core::Index>(cc.dims.at(1));
      err.resize(static_cast<size_t>(N), 0.0);
      const auto k = core::cell_constants(net.layers[static_cast<size_t>(l)]);
      for (core::Index i = 0; i < d; ++i) {
        std::vector<double> a, b, x, y;
        for (core::Index s = 0; s < S; ++s)
          for (core::Index f = 0; f < N; ++f) {
            const auto at = static_cast<size_t>((s * N + f) * d + i);
            a.push_back(cc.data[at]);
            b.push_back(cn[at]);
            x.push_back(hc[at]);
            y.push_back(hn[at]);
            const double v = std::abs(hn[at] - hc[at]) / (k.alpha(i) * scale);
            if (std::isfinite(v)) err[static_cast<size_t>(f)] += v / static_cast<double>(S * L * d);
          }
        cells.push_back(
            suppression(a, b, x, y, k.beta_hi(i) * scale, k.alpha(i) * scale, !o.leak.has_value()));
      }
      arrays.push_back({"noiseless/" + g + "candidate", cc.dims, cc.data, ""});
      arrays.push_back({"noiseless/" + g + "state", cc.dims, hc, ""});
    }
    const std::string m = "metrics/noise/" + e + "/";
    const std::vector<std::uint64_t> dims{static_cast<std::uint64_t>(L),
                                          static_cast<std::uint64_t>(d)};
    cell_arrays(m, dims, cells, arrays);
    arrays.push_back(
        {m + "state_error_vs_frame", {static_cast<std::uint64_t>(err.size())}, err, "1/alpha"});
    r.suppression.push_back(engine_attrs(e, m, cells, attrs));
  }
  attrs.push_back(
      {"/metrics/noise",
       {"formulas",
        std::string("per cell boundary: candidate deviation = rms(c_noisy - c_clean) / beta_hi, "
                    "state deviation = rms(h_noisy - h_clean) / alpha over every sequence and "
                    "frame; suppression factor = candidate deviation / state deviation, or, when "
                    "the discrete state never differs, candidate deviation x sqrt(M) (M frames: "
                    "one flipped frame's deviation), a lower bound (suppression_is_bound); no "
                    "candidate deviation: NaN. suppression_factor attribute: the median over the "
                    "cells. state_error_vs_frame: mean |h_noisy - h_clean| / alpha per frame")}});
  core::append_arrays(o.out, arrays, attrs);
  fs::remove(clean.out);
  r.wall_s += c.wall_s;
  return r;
}

std::vector<FidelityResult::Suppression> pooled_suppression(
    const std::vector<fs::path>& runs, bool discrete, std::vector<core::NamedArray>& arrays,
    std::vector<std::pair<std::string, core::Attr>>& attrs) {
  std::vector<FidelityResult::Suppression> out;
  std::vector<std::vector<std::string>> names;  // each run's datasets, listed once
  for (const auto& f : runs) names.push_back(core::list_datasets(f));
  for (const std::string e : {"sw", "ct", "hw"}) {
    const std::string m = "metrics/noise/" + e + "/";
    std::vector<CellSuppression> cells;  // sums of frames x deviation^2 until settled
    std::vector<std::uint64_t> dims;
    for (size_t n = 0; n < runs.size(); ++n) {
      const fs::path& f = runs[n];
      if (std::find(names[n].begin(), names[n].end(), m + "state_frames") == names[n].end())
        continue;
      const auto cd = core::read_array(f, m + "candidate_deviation");
      const auto sd = read(f, m + "state_deviation"), fl = read(f, m + "state_flips"),
                 fr = read(f, m + "state_frames");
      if (dims.empty()) {
        dims = cd.dims;
        cells.resize(cd.data.size());
      }
      if (cd.dims != dims || sd.size() != cells.size() || fl.size() != cells.size() ||
          fr.size() != cells.size())
        throw FileError(f.string(), m,
                        "holds another number of cell boundaries than the other runs");
      for (size_t i = 0; i < cells.size(); ++i) {
        if (!(fr[i] > 0) || !std::isfinite(cd.data[i]) || !std::isfinite(sd[i])) continue;
        cells[i].candidate_deviation += fr[i] * cd.data[i] * cd.data[i];
        cells[i].state_deviation += fr[i] * sd[i] * sd[i];
        cells[i].flips += static_cast<long long>(fl[i]);
        cells[i].frames += static_cast<long long>(fr[i]);
      }
    }
    if (dims.empty()) continue;
    for (auto& c : cells) {
      if (c.frames > 0) {
        c.candidate_deviation = std::sqrt(c.candidate_deviation / static_cast<double>(c.frames));
        c.state_deviation = std::sqrt(c.state_deviation / static_cast<double>(c.frames));
      }
      settle(c, discrete);
    }
    cell_arrays(m, dims, cells, arrays);
    out.push_back(engine_attrs(e, m, cells, attrs));
  }
  return out;
}

}  // namespace bmru::experiments
