// `bmru scaling`: power against the state dimension d (experiments/scaling.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "experiments/scaling.hpp"
#include "fidelity_cli.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bmru::experiments {
namespace {

// "d^2.01 [1.95, 2.07]" and whether the claimed exponent lies in the interval.
std::string law_text(const PowerLaw& f) {
  char t[96];
  if (std::isnan(f.ci_low))
    std::snprintf(t, sizeof t, "d^%.3f (no interval: %d points)", f.exponent, f.points);
  else
    std::snprintf(t, sizeof t, "d^%.3f [%.3f, %.3f]", f.exponent, f.ci_low, f.ci_high);
  return t;
}
std::string verdict(const PowerLaw& f, double claim) {
  if (std::isnan(f.exponent)) return "not measured";
  if (std::isnan(f.ci_low))
    return std::abs(f.exponent - claim) < 0.1 ? "near the claim" : "away from the claim";
  if (claim >= f.ci_low && claim <= f.ci_high) return "matches the claim";
  return claim < f.ci_low ? "grows faster than the claim" : "grows slower than the claim";
}

void print_scaling(const ScalingResult& r, const ScalingOptions& o) {
  std::printf("%5s %8s %9s %8s %7s %9s %11s %11s %11s %11s  %s\n", "d", "MOSFETs", "peak (nA)",
              "clamped", "range", "wall (s)", "cells (W)", "ff (W)", "bias (W)", "total (W)",
              "source");
  for (const auto& q : r.points) {
    // Clamping is counted by the run: an extrapolated d has none to count.
    const std::string clamped = q.measured ? std::to_string(q.clamped) : "-";
    std::printf("%5ld %8lld %9.3g %8s %7s %9.1f %11.4g %11.4g %11.4g %11.4g  %s\n",
                static_cast<long>(q.d), q.devices, q.peak_node_a * 1e9, clamped.c_str(),
                q.in_range ? "in" : "OUT", q.wall_s, q.power_w[core::PowerBlock::cells],
                q.power_w[core::PowerBlock::feedforward], q.power_w[core::PowerBlock::bias],
                q.power_w[core::PowerBlock::total],
                q.status == "ok" ? "SPICE"
                : q.status == "extrapolated"
                    ? "EXTRAPOLATED (model of the circuit)"
                    : ("FAILED: " + q.error.substr(0, q.error.find('\n'))).c_str());
  }
  if (!r.positions.empty()) {
    std::printf("power by position (W):\n%5s", "d");
    for (const auto& p : r.positions) std::printf(" %11s", p.c_str());
    std::printf("\n");
    for (const auto& q : r.points) {
      if (q.position_power_w.empty()) continue;
      std::printf("%5ld", static_cast<long>(q.d));
      for (const double w : q.position_power_w) std::printf(" %11.4g", w);
      std::printf("\n");
    }
  }
  std::printf("power laws over the simulated d (95 %% intervals):\n");
  std::printf("  cells        %s  (claim ~ d: %s)\n", law_text(r.cells).c_str(),
              verdict(r.cells, 1).c_str());
  std::printf("  feed-forward %s  (claim ~ d^2: %s)\n", law_text(r.feedforward).c_str(),
              verdict(r.feedforward, 2).c_str());
  std::printf("  bias         %s\n", law_text(r.bias).c_str());
  std::printf("  total        %s\n", law_text(r.total).c_str());
  std::printf("  SPICE wall   %s", law_text(r.wall).c_str());
  const auto last = std::find_if(r.points.rbegin(), r.points.rend(),
                                 [](const ScalingPoint& q) { return !q.measured; });
  if (last != r.points.rend() && !std::isnan(r.wall.exponent))
    std::printf(": at d = %ld SPICE would take about %.0f s", static_cast<long>(last->d),
                r.wall.at(static_cast<double>(last->d)));
  std::printf("\n");
  if (r.range_end_d > 0)
    std::printf(
        "the realisable range ends at d = %ld (node currents above %.3g nA or "
        "parameters clamped)\n",
        static_cast<long>(r.range_end_d), models::RealisableRange{}.node_max_a * 1e9);
  if (std::any_of(r.points.begin(), r.points.end(),
                  [](const ScalingPoint& q) { return q.status == "extrapolated"; }))
    std::printf(
        "d above --spice-max-d %ld are extrapolated from a model of the circuit, not "
        "simulated\n",
        static_cast<long>(o.spice_max_d));
  std::printf("wrote %s\n", o.base.out.c_str());
  std::printf(
      "cells_exponent=%.4g cells_exponent_ci_low=%.4g cells_exponent_ci_high=%.4g "
      "feedforward_exponent=%.4g feedforward_exponent_ci_low=%.4g "
      "feedforward_exponent_ci_high=%.4g bias_exponent=%.4g total_exponent=%.4g range_end_d=%ld "
      "spice_max_d=%ld failed=%ld wall_s=%.1f\n",
      r.cells.exponent, r.cells.ci_low, r.cells.ci_high, r.feedforward.exponent,
      r.feedforward.ci_low, r.feedforward.ci_high, r.bias.exponent, r.total.exponent,
      static_cast<long>(r.range_end_d), static_cast<long>(o.spice_max_d), r.failed, r.wall_s);
  std::fflush(stdout);
}

}  // namespace

void add_scaling_command(CLI::App& app, const std::string& command_line, const char* argv0) {
  auto o = std::make_shared<ScalingOptions>();
  o->base.command_line = command_line;
  o->base.binary = self_binary(argv0);
  auto family = std::make_shared<std::string>("fixed");
  CLI::App* cmd = app.add_subcommand(
      "scaling", "Power of the circuit against the state dimension d, fitted per block (SPICE)");
  cmd->add_option("--d", o->ds, "State dimensions (default 4,8,16,32,64,128)")->delimiter(',');
  add_count(cmd, "--layers", o->shape.layers, "Recurrent layers (default 2)");
  add_count(cmd, "--n-in", o->shape.n_in, "Inputs (default 13)");
  add_count(cmd, "--n-out", o->shape.n_out, "Outputs (default 2)");
  cmd->add_option("--family", *family,
                  "fixed (default: |w| from U(0.1, 1) at every d) or scaled (|w| x sqrt(4/d))")
      ->check(CLI::IsMember({"fixed", "scaled"}));
  cmd->add_option("--models", o->models,
                  "Trained model files instead of random networks (one per d)")
      ->delimiter(',')
      ->check(CLI::ExistingFile);
  add_count(cmd, "--frames", o->frames, "Frames per sequence in SPICE (default 4)");
  add_count(cmd, "--sequences", o->sequences, "Random input sequences per d (default 2)");
  add_quantity(cmd, "--input-scale", o->input_scale,
               "Inputs: the random sequences (N(0, 1) clipped to 3) times this (default 0.25)");
  add_count(cmd, "--seed", o->seed, "Seed of the networks and inputs (default 1)", 0);
  add_count(cmd, "--spice-max-d", o->spice_max_d,
            "Largest d simulated in SPICE; larger ones are extrapolated (default 32)");
  add_quantity(cmd, "--unit-current", o->shape.unit_current_a,
               "Current of one model unit (default 1n)");
  add_quantity(cmd, "--frame-period", o->base.axis.period_s, "Frame period (default 10m)");
  add_quantity(cmd, "--tmax", o->tmax_s,
               "SPICE's largest step (default T/10: power is an average; fidelity's is T/40)");
  add_technology_options(cmd, o->base.tech);
  add_count(cmd, "--jobs", o->base.jobs, "Worker processes (default: the number of cores)", 0);
  cmd->add_option("-o,--out", o->base.out, "Scaling file to write (HDF5)")->required();
  cmd->callback([o, family] {
    if (o->tmax_s && !(*o->tmax_s > 0 && *o->tmax_s <= o->base.axis.period_s))
      throw InputError("--tmax " + core::format_number(*o->tmax_s) +
                       " s: SPICE's largest step must be positive and at most a frame");
    o->family = *family == "scaled" ? models::ScalingFamily::scaled : models::ScalingFamily::fixed;
    Progress bar("SPICE frames");
    const ScalingResult r = run_scaling(
        *o,
        [&](const std::string& line) {
          bar.clear();
          bar.note("scaling: " + line);
        },
        [&](long long done, long long total) { bar.update(done, total); });
    bar.clear();
    print_scaling(r, *o);
    if (r.failed > 0)
      throw PartialFailure(std::to_string(r.failed) + " of " + std::to_string(r.points.size()) +
                           " d failed in SPICE (their errors are in the table and in /points)");
  });
}

}  // namespace bmru::experiments
