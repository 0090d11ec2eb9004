// `bmru noise-study` (issue 21): BMRU cells against a non-bistable baseline at the same network
// positions (--cell leaky: every cell a leaky integrator h = a h + (1 - a) c), under seeded noise
// currents at the candidates at several levels, on the behavioural model: the suppression factor
// per cell boundary (noise.cpp's definition), the state error and its growth over the sequence,
// and the decisions' agreement with the noiseless run. The circuit's own suppression is measured
// by `fidelity --noise` (SPICE and ct).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "core/array_file.hpp"
#include "core/errors.hpp"
#include "core/noise.hpp"
#include "core/run_file.hpp"
#include "core/stimuli.hpp"
#include "core/vote.hpp"
#include "experiments/simulate.hpp"
#include "lockstep.hpp"
#include "noise_metrics.hpp"
#include "options.hpp"
#include "version.hpp"

namespace bmru::experiments {
namespace {

struct StudyOptions {
  std::optional<std::filesystem::path> model, inputs;
  core::Index sequences = 8, frames = 101;
  std::uint64_t seed = 1;
  std::vector<std::string> levels{"0", "1%", "2%", "5%", "10%"};
  double leak = 0.8;
  core::NoiseSpec noise;  // dt, corner, seed
  core::FrameAxis axis;
  std::filesystem::path out;
  std::string command_line;
};

struct Row {
  std::string cell, level;
  double sigma_rel = 0;
  double factor = std::nan("");
  bool is_bound = false;
  double state_error = 0;        // mean |h_noisy - h_clean| / alpha over cells, frames, sequences
  double growth = std::nan("");  // state error of the last quarter of frames / the first quarter
  double decision_agreement = 1;
  std::vector<double> error_vs_frame;
};

// One cell type at one level: every sequence without and with the noise.
Row run_level(const core::Network& net, const std::vector<core::Matrix>& x, const StudyOptions& o,
              const core::NoiseSpec& spec, bool leaky) {
  const core::Index L = net.n_layers(), d = net.d();
  const auto N = x.front().rows();
  const auto cells = static_cast<size_t>(L * d);
  std::vector<std::vector<double>> c0(cells), c1(cells), h0(cells), h1(cells);
  Row r;
  r.error_vs_frame.assign(static_cast<size_t>(N), 0.0);
  long same = 0;
  for (size_t s = 0; s < x.size(); ++s) {
    // The lockstep's followers (sw only): the noisy one adds each noise current's value at the
    // sample instant, as a fidelity run's discrete model does.
    Followers clean(net, Mode::free, std::nullopt, o.axis, x[s].row(0));
    Followers noisy(net, Mode::free, std::nullopt, o.axis, x[s].row(0));
    if (leaky) {
      clean.set_leaky(o.leak);
      noisy.set_leaky(o.leak);
    }
    noisy.set_noise(candidate_noise(spec, net, x[s], o.axis, s));
    core::Matrix l0(N, net.n_out()), l1(N, net.n_out());
    for (core::Index k = 0; k < N; ++k) {
      clean.step(k, x[s].row(k), {});
      noisy.step(k, x[s].row(k), {});
      const core::Frame& f0 = clean.sw;
      const core::Frame& f1 = noisy.sw;
      l0.row(k) = f0.logits;
      l1.row(k) = f1.logits;
      for (core::Index l = 0; l < L; ++l) {
        const auto alpha = core::cell_constants(net.layers[static_cast<size_t>(l)]).alpha;
        for (core::Index i = 0; i < d; ++i) {
          const auto c = static_cast<size_t>(l * d + i);
          const auto& a = f0.layers[static_cast<size_t>(l)];
          const auto& b = f1.layers[static_cast<size_t>(l)];
          c0[c].push_back(a.candidate(0, i));
          c1[c].push_back(b.candidate(0, i));
          h0[c].push_back(a.state(0, i));
          h1[c].push_back(b.state(0, i));
          r.error_vs_frame[static_cast<size_t>(k)] += std::abs(b.state(0, i) - a.state(0, i)) /
                                                      alpha(i) /
                                                      static_cast<double>(cells * x.size());
        }
      }
    }
    same += core::decide(l0).decision == core::decide(l1).decision;
  }
  std::vector<CellSuppression> per_cell;
  for (core::Index l = 0; l < L; ++l) {
    const auto k = core::cell_constants(net.layers[static_cast<size_t>(l)]);
    for (core::Index i = 0; i < d; ++i) {
      const auto c = static_cast<size_t>(l * d + i);
      per_cell.push_back(suppression(c0[c], c1[c], h0[c], h1[c], k.beta_hi(i), k.alpha(i), !leaky));
    }
  }
  std::tie(r.factor, r.is_bound) = median_suppression(per_cell);
  for (double e : r.error_vs_frame) r.state_error += e / static_cast<double>(N);
  const auto q = std::max<core::Index>(1, N / 4);
  double first = 0, last = 0;
  for (core::Index k = 0; k < q; ++k) {
    first += r.error_vs_frame[static_cast<size_t>(k)];
    last += r.error_vs_frame[static_cast<size_t>(N - 1 - k)];
  }
  r.growth = first > 0 ? last / first : (last > 0 ? INFINITY : std::nan(""));
  r.decision_agreement = static_cast<double>(same) / static_cast<double>(x.size());
  return r;
}

void run_study(const StudyOptions& o) {
  const core::Network net = load_network(o.model, std::nullopt);
  const auto source = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                               : core::random_stimuli({o.sequences, o.frames, net.n_in(), o.seed});
  const std::vector<core::Matrix> x = core::read_all(*source);
  std::vector<Row> rows;
  for (const auto& level : o.levels) {
    // A bare number or percentage is a relative sigma; rel:, abs: and shot as --noise spells them.
    const bool bare = level.find(':') == std::string::npos && level != "shot" && level != "none";
    core::NoiseSpec spec = core::parse_noise(bare ? "rel:" + level : level, "--levels");
    spec.dt_s = o.noise.dt_s;
    spec.corner_hz = o.noise.corner_hz;
    spec.seed = o.noise.seed;
    for (const bool leaky : {false, true}) {
      Row r = spec.active() ? run_level(net, x, o, spec, leaky) : Row{};
      r.cell = leaky ? "leaky" : "bmru";
      r.level = level;
      r.sigma_rel = spec.amplitude == core::NoiseSpec::Amplitude::rel ? spec.value : std::nan("");
      if (!spec.active()) r.error_vs_frame.assign(static_cast<size_t>(x.front().rows()), 0.0);
      rows.push_back(r);
    }
  }
  std::printf(
      "noise at the candidates; behavioural model, %zu sequences x %ld frames; leaky a = %g\n",
      x.size(), static_cast<long>(x.front().rows()), o.leak);
  std::printf("%-8s %-6s %14s %12s %12s %12s\n", "level", "cell", "suppression", "state err",
              "growth", "decisions");
  for (const auto& r : rows) {
    char factor[32] = "-";
    if (!std::isnan(r.factor))
      std::snprintf(factor, sizeof factor, "%s%.4g", r.is_bound ? ">= " : "", r.factor);
    std::printf("%-8s %-6s %14s %12.4g %12.4g %11.1f%%\n", r.level.c_str(), r.cell.c_str(), factor,
                r.state_error, r.growth, 100 * r.decision_agreement);
  }
  // The level where BMRU's suppression falls below the paper's 20x.
  std::string stops = "none of the levels";
  for (const auto& r : rows)
    if (r.cell == "bmru" && !std::isnan(r.factor) && r.factor < 20 && !r.is_bound) {
      stops = r.level;
      break;
    }
  std::printf("the BMRU's median suppression falls below 20x at: %s\n", stops.c_str());

  core::RunFile file(o.out, {kToolVersion, o.command_line});
  std::string levels;
  for (const auto& l : o.levels) levels += (levels.empty() ? "" : ",") + l;
  file.write_config({{"kind", std::string("noise-study")},
                     {"levels", levels},
                     {"leak", o.leak},
                     {"noise_seed", static_cast<std::int64_t>(o.noise.seed)},
                     {"noise_dt", o.noise.grid_s(o.axis)},
                     {"noise_corner_hz", o.noise.corner_hz},
                     {"noise_at", std::string("candidates")},
                     {"engine", std::string("sw")},
                     {"sequences", static_cast<std::int64_t>(x.size())},
                     {"frames", static_cast<std::int64_t>(x.front().rows())},
                     {"frame_period", o.axis.period_s}});
  file.write_model(net);
  std::vector<core::TableColumn> t{{"level", {}},
                                   {"cell", {}},
                                   {"sigma_rel", {}},
                                   {"suppression_factor", {}},
                                   {"suppression_is_bound", {}},
                                   {"state_error", {}},
                                   {"growth", {}},
                                   {"decision_agreement", {}}};
  for (const auto& r : rows) {
    t[0].values.emplace_back(r.level);
    t[1].values.emplace_back(r.cell);
    t[2].values.emplace_back(r.sigma_rel);
    t[3].values.emplace_back(r.factor);
    t[4].values.emplace_back(static_cast<std::int64_t>(r.is_bound));
    t[5].values.emplace_back(r.state_error);
    t[6].values.emplace_back(r.growth);
    t[7].values.emplace_back(r.decision_agreement);
  }
  file.write_table("levels", t);
  const auto S = static_cast<core::Index>(rows.size());
  const auto N = static_cast<core::Index>(rows.front().error_vs_frame.size());
  core::SeriesWriter w = file.add_series("error_vs_frame", S, N, "1/alpha");
  for (core::Index i = 0; i < S; ++i) w.write(i, 0, rows[static_cast<size_t>(i)].error_vs_frame);
  file.set_attr("/error_vs_frame",
                {"description", std::string("row i: the state error per frame of /levels row i, "
                                            "mean |h_noisy - h_clean| / alpha over cells and "
                                            "sequences")});
  file.commit();
  std::printf("wrote %s\n", o.out.c_str());
  double bmru_growth = std::nan(""), leaky_growth = std::nan("");
  for (const auto& r : rows)
    if (r.level == o.levels.back()) (r.cell == "bmru" ? bmru_growth : leaky_growth) = r.growth;
  std::printf(
      "bmru_suppression_at_top=%.6g leaky_suppression_at_top=%.6g "
      "bmru_growth_at_top=%.6g leaky_growth_at_top=%.6g suppression_below_20x_at=%s\n",
      rows[rows.size() - 2].factor, rows.back().factor, bmru_growth, leaky_growth, stops.c_str());
}

}  // namespace

void add_noise_study_command(CLI::App& app, const std::string& command_line) {
  auto o = std::make_shared<StudyOptions>();
  o->command_line = command_line;
  CLI::App* cmd = app.add_subcommand(
      "noise-study",
      "BMRU cells against a leaky (non-bistable) baseline under noise at several levels");
  cmd->add_option("--model", o->model, "Model file (default: the demo network)")
      ->check(CLI::ExistingFile);
  auto* in = cmd->add_option("--inputs", o->inputs, "Input file (HDF5 /inputs or CSV)")
                 ->check(CLI::ExistingFile);
  add_count(cmd, "--random-sequences", o->sequences, "Random input sequences (default 8)")
      ->excludes(in);
  add_count(cmd, "--frames", o->frames, "Frames per random sequence (default 101)")->excludes(in);
  add_count(cmd, "--seed", o->seed, "Seed of the random inputs (default 1)", 0)->excludes(in);
  cmd->add_option("--levels", o->levels,
                  "Noise levels: relative sigmas (1% or 0.01) or as --noise spells them "
                  "(default 0,1%,2%,5%,10%)")
      ->delimiter(',');
  cmd->add_option("--leak", o->leak, "The leaky cell's a in h = a h + (1 - a) c (default 0.8)")
      ->check(CLI::Range(0.0, 0.999));
  add_quantity(cmd, "--noise-dt", o->noise.dt_s, "Noise time grid (default T/100)");
  add_quantity(cmd, "--noise-corner", o->noise.corner_hz, "1/f corner in Hz (default 0)");
  add_count(cmd, "--noise-seed", o->noise.seed, "Seed of the noise (default 1)", 0);
  add_quantity(cmd, "--frame-period", o->axis.period_s, "Frame period (default 10m)");
  cmd->add_option("-o,--out", o->out, "Study file to write (HDF5)")->required();
  cmd->callback([o] { run_study(*o); });
}

}  // namespace bmru::experiments
