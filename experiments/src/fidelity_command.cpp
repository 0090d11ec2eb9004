#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "core/units.hpp"
#include "experiments/fidelity.hpp"
#include "fidelity_cli.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bmru::experiments {

std::filesystem::path self_binary(const char* argv0) {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(argv0) : p;
}

namespace {
// "realised: 12 parameters" and the first 20 changes.
void print_changes(const char* what, const std::vector<models::ParameterChange>& changes) {
  if (changes.empty()) return;
  std::printf("%s: %zu parameter%s\n", what, changes.size(), changes.size() == 1 ? "" : "s");
  for (size_t i = 0; i < changes.size() && i < 20; ++i)
    std::printf("  %s: %s -> %s\n", changes[i].parameter.c_str(),
                core::format_number(changes[i].requested).c_str(),
                core::format_number(changes[i].realised).c_str());
  if (changes.size() > 20) std::printf("  ... and %zu more\n", changes.size() - 20);
}
}  // namespace

void print_fidelity(const FidelityResult& r, const FidelityOptions& o) {
  const auto& m = r.metrics;
  // Without SPICE (--engines sw,ct) the comparison is ct against sw, and there is no power or
  // SPICE time to print.
  const char* other = o.hw ? "hw" : "ct";
  std::printf("per cell: state agreement, candidate NRMSE\n");
  for (size_t l = 0; l < m.cells.size(); ++l)
    for (size_t i = 0; i < m.cells[l].size(); ++i)
      std::printf("  layer%zu cell %zu: %8.4f %% %9.5f\n", l + 1, i,
                  100 * m.cells[l][i].state_agreement, m.cells[l][i].candidate.nrmse);
  std::printf("per sequence: decision sw / %s (vote margins), state agreement, first divergence\n",
              other);
  for (size_t s = 0; s < m.sequences.size(); ++s) {
    const auto& q = m.sequences[s];
    std::printf("  %2zu: %2d / %2d (%.3f / %.3f) %8.4f %% %lld\n", s, q.sw.decision, q.hw.decision,
                q.sw.margin, q.hw.margin, 100 * q.state_agreement,
                static_cast<long long>(q.first_divergence));
  }
  if (o.hw) {
    std::printf(
        "switching latency: median %.4g s, max %.4g s (%lld matched, %lld unmatched transitions, "
        "%lld extra crossings)\n",
        m.latency.median_s, m.latency.max_s, static_cast<long long>(m.latency.matched),
        static_cast<long long>(m.latency.unmatched),
        static_cast<long long>(m.latency.extra_crossings));
    std::printf("power: cells %.4g W, feed-forward %.4g W, bias %.4g W, total %.4g W\n",
                r.power_w[core::PowerBlock::cells], r.power_w[core::PowerBlock::feedforward],
                r.power_w[core::PowerBlock::bias], r.power_w[core::PowerBlock::total]);
    const auto& ideal = r.ideal_power_w;
    std::printf(
        "ideal power (the model's own currents, each once): cells %.4g W, feed-forward %.4g W, "
        "total %.4g W; measured/ideal: cells %.3g, feed-forward %.3g, total %.3g\n",
        ideal[core::PowerBlock::cells], ideal[core::PowerBlock::feedforward],
        ideal[core::PowerBlock::total],
        r.power_w[core::PowerBlock::cells] / ideal[core::PowerBlock::cells],
        r.power_w[core::PowerBlock::feedforward] / ideal[core::PowerBlock::feedforward],
        r.power_w[core::PowerBlock::total] / ideal[core::PowerBlock::total]);
    std::printf(
        "wall: behavioural %.4g s, SPICE %.4g s (ratio %.4g), SPICE %.4g s per simulated second "
        "per worker\n",
        r.sw_wall_s, r.hw_wall_s, r.hw_wall_s / std::max(r.sw_wall_s, 1e-9),
        r.hw_wall_s / std::max(r.simulated_s, 1e-12) *
            std::min<double>(r.workers, static_cast<double>(r.metrics.sequences.size())));
  }
  if (r.ct_vs_sw) {
    const auto& c = *r.ct_vs_sw;
    std::printf("ct (continuous-time model): state agreement with sw %.4f %%",
                100 * c.state_agreement);
    if (r.hw_vs_ct)
      std::printf(", with hw %.4f %% (sw with hw %.4f %%)", 100 * r.hw_vs_ct->state_agreement,
                  100 * m.state_agreement);
    std::printf("\n  ct switching latency: median %.4g s, max %.4g s", c.latency.median_s,
                c.latency.max_s);
    if (o.hw) std::printf("; hw: median %.4g s, max %.4g s", m.latency.median_s, m.latency.max_s);
    std::printf("\n");
    if (r.spice_s > 0)
      std::printf("  speed: SPICE %.4g s, ct %.4g s over the same frames (ct %.4g times faster)\n",
                  r.spice_s, r.ct_wall_s, r.spice_s / std::max(r.ct_wall_s, 1e-12));
    else
      std::printf("  ct %.4g s for %.4g simulated seconds\n", r.ct_wall_s, r.simulated_s);
  }
  print_changes("realised (within the stated accuracy)", r.realised);
  print_changes("clamped (--clamp)", r.clamped);
  if (!std::isnan(r.clamped_sw_decision_agreement))
    std::printf(
        "  the realised network's own sw decisions agree with the given one's on %.4g %% "
        "of the sequences\n",
        100 * r.clamped_sw_decision_agreement);
  for (const auto& f : r.retried) std::printf("retried %s\n", f.c_str());
  for (const auto& f : r.failed) std::printf("FAILED %s\n", f.c_str());
  std::printf("wrote %s\n", o.out.c_str());
  const std::string noise_kv = print_suppression(r.suppression, "median over cell boundaries");
  std::printf(
      "state_agreement=%.10g decision_agreement=%.10g candidate_nrmse=%.6g logit_nrmse=%.6g "
      "first_divergence=%lld mean_power_w=%.6g ideal_power_w=%.6g failed=%zu%s\n",
      m.state_agreement, m.decision_agreement, m.candidate_nrmse, m.logit_nrmse,
      static_cast<long long>(m.first_divergence),
      o.hw ? r.power_w[core::PowerBlock::total] : std::nan(""),
      o.hw ? r.ideal_power_w[core::PowerBlock::total] : std::nan(""), r.failed.size(),
      noise_kv.c_str());
  std::fflush(stdout);
  if (!r.failed.empty())
    throw PartialFailure(std::to_string(r.failed.size()) + " of " +
                         std::to_string(r.metrics.sequences.size()) +
                         " sequences failed (the FAILED lines above; /sequences in " +
                         o.out.string() + "); the figures cover the frames that were simulated.");
}

void add_fidelity_options(CLI::App* cmd, FidelityOptions& o, FidelityCli& cli) {
  cmd->add_option("--model", o.model, "Model file (HDF5 or JSON); default: the demo network")
      ->check(CLI::ExistingFile);
  auto* inputs =
      cmd->add_option("--inputs", o.inputs, "Input file: HDF5 /inputs [S,N,n_in] or CSV [N,n_in]")
          ->check(CLI::ExistingFile);
  add_count(cmd, "--random-sequences", o.random_sequences, "Random input sequences (default 8)")
      ->excludes(inputs);
  add_count(cmd, "--frames", o.frames, "Frames per random sequence (default 101)")
      ->excludes(inputs);
  add_count(cmd, "--seed", o.seed, "Seed of the random inputs (default 1)", 0)->excludes(inputs);
  add_technology_options(cmd, o.tech);
  add_count(cmd, "--mismatch-seed", o.mismatch_seed, "Device mismatch drawn with this seed", 0);
  add_quantity(cmd, "--unit-current", o.unit_current_a,
               "Amperes per model unit (overrides the model)");
  add_quantity(cmd, "--frame-period", o.axis.period_s, "Frame period (default 10m)");
  add_quantity(cmd, "--ramp", cli.ramp_s,
               "Input ramp at each frame start (default 1 % of the period)");
  add_quantity(cmd, "--sample-phase", o.axis.sample_phase,
               "Sample instant within a frame (default 0.9)");
  cmd->add_flag("--clamp", o.clamp,
                "Clamp parameters outside the realisable range to the nearest realisable value "
                "(each change in /clamp and printed); without it such a network is refused");
  cmd->add_option("--mode", cli.mode, "free (default) or resync")
      ->check(CLI::IsMember({"free", "resync"}));
  add_count(cmd, "--jobs", o.jobs, "Worker processes (default: the number of cores)");
  cmd->add_option("--ct-facts", cli.ct_facts,
                  "JSON object of ct model values replacing measured ones")
      ->check(CLI::ExistingFile);
  cmd->add_option("--engines", cli.engines,
                  "Engines to compare: sw,hw (default), sw,ct,hw or sw,ct (no SPICE)")
      ->type_name("sw,hw|sw,ct,hw|sw,ct")
      ->check(CLI::Validator(
          [](const std::string& v) {
            return v == "sw,hw" || v == "sw,ct,hw" || v == "sw,ct"
                       ? std::string()
                       : "'" + v + "' is not one of: sw,hw | sw,ct,hw | sw,ct";
          },
          "", "engines"));
  add_count(
      cmd, "--waveforms", o.waveform_points,
      "Samples per frame of every cell's output current in /hw/waveforms (default 50; 0: none)", 0);
  cmd->add_option("--noise", cli.noise,
                  "Seeded noise currents into every cell's candidate: shot, rel:0.05 (or rel:5%), "
                  "abs:2p or none; the run is made without and with it (/metrics/noise)");
  add_quantity(cmd, "--noise-dt", o.noise.dt_s,
               "Time grid of the noise samples (default T/100; bandwidth 1/(2 dt))");
  add_quantity(cmd, "--noise-corner", o.noise.corner_hz,
               "1/f corner frequency of the noise in Hz (default 0: white)");
  add_count(cmd, "--noise-seed", o.noise.seed, "Seed of the noise (default 1)", 0);
  cmd->add_option("--cell", cli.cell,
                  "bmru (default) or leaky: every cell a leaky integrator h = a h + (1 - a) c, "
                  "the non-bistable baseline (--engines sw,ct only)")
      ->check(CLI::IsMember({"bmru", "leaky"}));
  cmd->add_option("--leak", cli.leak, "The leaky cell's a (default 0.8)")
      ->check(CLI::Range(0.001, 0.999));
  cmd->add_option("--noise-at", cli.noise_at,
                  "Where the noise enters: candidates (default; the lines feeding each cell) or "
                  "all (every line of the circuit: SPICE and ct; the discrete model runs without)")
      ->check(CLI::IsMember({"candidates", "all"}));
  cmd->add_option("--max-output-gb", o.max_output_gb,
                  "Refuse a run whose file would be larger than this, in GB (default 20)");
  cmd->add_option("-o,--out", o.out, "Run file to write (HDF5)")->required();
}

std::string print_suppression(const std::vector<FidelityResult::Suppression>& s,
                              const std::string& over) {
  for (const auto& q : s)
    std::printf("noise %s: suppression factor (%s) %s%.4g\n", q.engine.c_str(), over.c_str(),
                q.is_bound ? ">= " : "", q.factor);
  if (s.empty()) return "";
  char kv[128];
  std::snprintf(kv, sizeof kv, " suppression_factor=%.6g suppression_is_bound=%d", s.back().factor,
                s.back().is_bound ? 1 : 0);
  return kv;
}

void apply_fidelity_cli(const FidelityCli& cli, FidelityOptions& o) {
  o.hw = cli.engines.find("hw") != std::string::npos;
  o.ct = cli.engines.find("ct") != std::string::npos;
  if (cli.ct_facts) {
    std::ifstream in(*cli.ct_facts);
    std::stringstream text;
    text << in.rdbuf();
    o.ct_overrides = {cli.ct_facts->string(), text.str()};
  }
  o.mode = cli.mode == "free" ? Mode::free : Mode::resync;
  o.axis.ramp_s = cli.ramp_s.value_or(o.axis.period_s / 100);
  if (cli.cell == "leaky") o.leak = cli.leak;
  const auto dt = o.noise.dt_s, corner = o.noise.corner_hz;
  const auto seed = o.noise.seed;
  o.noise = core::parse_noise(cli.noise);
  o.noise.dt_s = dt;
  o.noise.corner_hz = corner;
  o.noise.seed = seed;
  o.noise_all_lines = cli.noise_at == "all";
  if (o.noise.active() && dt > 0 && dt > o.axis.period_s)
    throw InputError("--noise-dt " + core::format_number(dt) +
                     " s is longer than a frame: the noise would not change within one");
}

void add_fidelity_command(CLI::App& app, const std::string& command_line, const char* argv0) {
  auto o = std::make_shared<FidelityOptions>();
  o->command_line = command_line;
  o->binary = self_binary(argv0);
  auto cli = std::make_shared<FidelityCli>();
  CLI::App* cmd = app.add_subcommand(
      "fidelity",
      "Run the behavioural model and the transistor-level circuit in lockstep and compare");
  add_fidelity_options(cmd, *o, *cli);
  cmd->callback([o, cli] {
    apply_fidelity_cli(*cli, *o);
    Progress bar("fidelity frames (all sequences)");
    const FidelityResult r = run_fidelity(
        *o, [&](long long done, long long total) { bar.update(done, total); },
        [&](const std::string& text) { bar.stage(text); });
    bar.clear();
    print_fidelity(r, *o);
  });
}

}  // namespace bmru::experiments
