#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "distribute.hpp"
#include "experiments/evaluate.hpp"
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

struct Spread {
  double mean = std::nan(""), sd = std::nan(""), p5 = std::nan("");
  size_t n = 0;
};
Spread spread(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  Spread s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0, sq = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(sq / static_cast<double>(v.size() - 1)) : 0;
  // The 5th percentile, linear between order statistics (numpy's default).
  const double at = 0.05 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  s.p5 = v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
  return s;
}

// With --data: accuracy per engine over the Monte Carlo dies of each point (mean, standard
// deviation, 5th percentile) and per corner, against the behavioural accuracy.
void print_task_summary(const SweepResult& r) {
  if (std::none_of(r.rows.begin(), r.rows.end(),
                   [](const SummaryRow& q) { return !std::isnan(q.sw_accuracy); }))
    return;
  std::vector<std::string> groups;
  const auto group_of = [](const SummaryRow& q) {
    char g[96];
    std::snprintf(g, sizeof g, "%s %gC %gV", q.corner.c_str(), q.temperature, q.vdd);
    return std::string(g);
  };
  for (const auto& q : r.rows)
    if (std::find(groups.begin(), groups.end(), group_of(q)) == groups.end())
      groups.push_back(group_of(q));
  std::printf(
      "task accuracy (%%) per point over its dies: mean, sd, 5th percentile; energy (nJ)\n");
  std::printf("  %-22s %5s %7s %7s %7s %7s %7s %7s %9s\n", "point", "dies", "sw", "ct", "hw mean",
              "hw sd", "hw p5", "ct p5", "energy");
  std::vector<double> all_hw, all_sw;
  for (const auto& g : groups) {
    std::vector<double> sw, ct, hw, e;
    for (const auto& q : r.rows)
      if (group_of(q) == g && q.status == "ok") {
        sw.push_back(q.sw_accuracy);
        ct.push_back(q.ct_accuracy);
        hw.push_back(q.hw_accuracy);
        e.push_back(q.energy_per_inference_j * 1e9);
      }
    const Spread s = spread(sw), c = spread(ct), h = spread(hw), en = spread(e);
    std::printf("  %-22s %5zu %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %9.4g\n", g.c_str(), s.n,
                100 * s.mean, 100 * c.mean, 100 * h.mean, 100 * h.sd, 100 * h.p5, 100 * c.p5,
                en.mean);
    all_hw.insert(all_hw.end(), hw.begin(), hw.end());
    all_sw.insert(all_sw.end(), sw.begin(), sw.end());
  }
  const Spread h = spread(all_hw), s = spread(all_sw);
  std::printf(
      "  all runs: hw accuracy %.2f %% (sd %.2f, 5th percentile %.2f) against "
      "behavioural %.2f %%\n",
      100 * h.mean, 100 * h.sd, 100 * h.p5, 100 * s.mean);
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
  print_task_summary(r);
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
  auto task = std::make_shared<EvaluateOptions>();
  add_evaluate_options(cmd, *task, false);
  cmd->callback([o, cli, temps, vdds, calibration, task, cmd] {
    if (cmd->count("--data") > 0) {
      refuse_own_inputs(cmd);
      task->retry_failed = o->retry_failed;
      o->evaluate = *task;
    }
    apply_fidelity_cli(*cli, o->base);
    o->temps_c = quantities(*temps, "--temps");
    o->vdds_v = quantities(*vdds, "--vdds");
    o->per_run_calibration = *calibration == "per-run";
    Progress bar("sweep frames (all runs)");
    const MpiWorld world;  // under mpirun: this rank of the job
    const SweepResult r = run_sweep(
        *o, [&](long long done, long long total) { bar.update(done, total); },
        [&](const std::string& line) { bar.note("sweep: " + line); }, &world);
    bar.clear();
    if (!r.root) return;  // rank 0 reports
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
