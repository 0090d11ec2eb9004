#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "experiments/sweep.hpp"
#include "fidelity_cli.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bmru::experiments {
namespace {

std::vector<double> quantities(const std::vector<std::string>& items, const std::string& option) {
  std::vector<double> out;
  for (const auto& s : items) out.push_back(core::parse_quantity(s, option));
  return out;
}

void print_summary(const SweepResult& r) {
  std::vector<const SummaryRow*> rows;
  for (const auto& row : r.rows) rows.push_back(&row);
  // Lowest state agreement first; failed runs (no figure) before everything.
  std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
    const double x = std::isnan(a->state_agreement) ? -1 : a->state_agreement;
    const double y = std::isnan(b->state_agreement) ? -1 : b->state_agreement;
    return x < y;
  });
  const bool ct = std::any_of(r.rows.begin(), r.rows.end(),
                              [](const auto& q) { return !std::isnan(q.hw_ct_state_agreement); });
  std::printf("%-28s %-6s %10s %9s %9s %11s %8s%s\n", "run", "status", "state agr", "decision",
              "cand nrmse", "power (W)", "wall (s)", ct ? "  ct-hw agr" : "");
  for (const auto* q : rows) {
    std::printf("%-28s %-6s %9.4f%% %9.3f %9.4f %11.4g %8.1f", q->id.c_str(), q->status.c_str(),
                100 * q->state_agreement, q->decision_agreement, q->candidate_nrmse,
                q->mean_power_w, q->wall_s);
    if (ct) std::printf(" %10.4f%%", 100 * q->hw_ct_state_agreement);
    std::printf("\n");
    if (!q->error.empty()) std::printf("    %s\n", q->error.substr(0, q->error.find('\n')).c_str());
  }
  const auto failed =
      std::count_if(r.rows.begin(), r.rows.end(), [](const auto& q) { return q.status != "ok"; });
  std::printf("%zu runs (%d ran now, %d from the journal %s), %ld failed\n", r.rows.size(), r.ran,
              r.skipped, r.journal.c_str(), static_cast<long>(failed));
}

}  // namespace

void add_sweep_command(CLI::App& app, const std::string& command_line, const char* argv0) {
  auto o = std::make_shared<SweepOptions>();
  o->base.command_line = command_line;
  o->base.binary = self_binary(argv0);
  auto cli = std::make_shared<FidelityCli>();
  auto temps = std::make_shared<std::vector<std::string>>();
  auto vdds = std::make_shared<std::vector<std::string>>();
  auto calibration = std::make_shared<std::string>("nominal");
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Fidelity runs over corners, temperatures, supplies and Monte Carlo samples (resumable)");
  add_fidelity_options(cmd, o->base, *cli);
  cmd->add_option("--corners", o->corners,
                  "Process corners, e.g. tt,ff,ss,fs,sf (override --corner)")
      ->delimiter(',');
  cmd->add_option("--temps", *temps, "Temperatures in C, e.g. -40,27,85 (override --temp)")
      ->delimiter(',');
  cmd->add_option("--vdds", *vdds, "Supplies in V, e.g. 1.62,1.8,1.98 (override --vdd)")
      ->delimiter(',');
  add_count(cmd, "--mc", o->mc,
            "Monte Carlo samples per point (device mismatch; sample j uses seed mc-seed + j)");
  add_count(cmd, "--mc-seed", o->mc_seed,
            "First mismatch seed of the Monte Carlo samples (default 1)", 0);
  cmd->add_option(
         "--calibration", *calibration,
         "nominal (default: calibrated at tt 27 C nominal supply, as a fabricated chip) or per-run")
      ->check(CLI::IsMember({"nominal", "per-run"}));
  cmd->add_flag("--retry-failed", o->retry_failed, "Rerun the runs the journal records as failed");
  cmd->callback([o, cli, temps, vdds, calibration] {
    apply_fidelity_cli(*cli, o->base);
    o->temps_c = quantities(*temps, "--temps");
    o->vdds_v = quantities(*vdds, "--vdds");
    o->per_run_calibration = *calibration == "per-run";
    Progress bar("sweep frames (all runs)");
    const SweepResult r = run_sweep(
        *o, [&](long long done, long long total) { bar.update(done, total); },
        [&](const std::string& line) { bar.note("sweep: " + line); });
    bar.clear();
    print_summary(r);
    std::printf("wrote %s\n", o->base.out.c_str());
    std::fflush(stdout);
    const auto failed =
        std::count_if(r.rows.begin(), r.rows.end(), [](const auto& q) { return q.status != "ok"; });
    if (failed > 0)
      throw PartialFailure(
          std::to_string(failed) + " of " + std::to_string(r.rows.size()) +
          " runs failed (their errors are in the table and in /summary); rerun them with "
          "--retry-failed.");
  });
}

}  // namespace bmru::experiments
