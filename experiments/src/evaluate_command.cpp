#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "distribute.hpp"
#include "experiments/evaluate.hpp"
#include "fidelity_cli.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bmru::experiments {
namespace {

std::string percent(double v) {
  if (std::isnan(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f %%", 100 * v);
  return b;
}

void print_confusion(const char* engine, const core::TaskScore& s,
                     const std::vector<std::string>& classes) {
  std::printf("%s confusion (rows: true class, columns: decided):\n  %12s", engine, "");
  for (const auto& c : classes) std::printf(" %8.8s", c.c_str());
  std::printf("\n");
  for (size_t i = 0; i < classes.size(); ++i) {
    std::printf("  %12.12s", classes[i].c_str());
    for (long v : s.confusion[i]) std::printf(" %8ld", v);
    std::printf("\n");
  }
}

void print_evaluation(const EvaluateResult& r, const EvaluateOptions& o) {
  std::printf("%-6s %10s %10s %6s\n", "engine", "accuracy", "balanced", "ties");
  for (const auto& [name, e] :
       {std::pair{"sw", &r.sw}, std::pair{"ct", &r.ct}, std::pair{"hw", &r.hw}})
    if (e->run)
      std::printf("%-6s %10s %10s %6ld\n", name, percent(e->score.accuracy).c_str(),
                  percent(e->score.balanced_accuracy).c_str(), e->score.ties);
  for (const auto& [name, e] :
       {std::pair{"sw", &r.sw}, std::pair{"ct", &r.ct}, std::pair{"hw", &r.hw}})
    if (e->run) print_confusion(name, e->score, r.classes);
  std::printf("decision agreement: %s (%s)", percent(r.decision_agreement).c_str(),
              o.base.hw ? "hw vs sw" : "ct vs sw");
  if (o.base.hw && o.base.ct)
    std::printf("; ct vs sw %s, hw vs ct %s", percent(r.ct_sw_decision_agreement).c_str(),
                percent(r.hw_ct_decision_agreement).c_str());
  std::printf("\nstate agreement: %s (%s)", percent(r.state_agreement).c_str(),
              o.base.hw ? "hw vs sw" : "ct vs sw");
  if (o.base.hw && o.base.ct)
    std::printf("; ct vs sw %s, hw vs ct %s", percent(r.ct_sw_state_agreement).c_str(),
                percent(r.hw_ct_state_agreement).c_str());
  std::printf("\n");
  int shown = 0;
  for (const auto& c : r.clips) {
    const bool differ = (c.hw.run && c.hw.decision.decision != c.sw.decision.decision) ||
                        (c.ct.run && c.ct.decision.decision != c.sw.decision.decision);
    if (!differ || c.status != "ok") continue;
    if (shown++ == 0)
      std::printf("clips where the engines disagree (label: sw / ct / hw, margins):\n");
    if (shown > 20) continue;
    std::printf("  %s (label %lld): %d / %d / %d  (%.3f / %.3f / %.3f)\n", c.name.c_str(),
                static_cast<long long>(c.label), c.sw.decision.decision,
                c.ct.run ? c.ct.decision.decision : -2, c.hw.run ? c.hw.decision.decision : -2,
                c.sw.decision.margin, c.ct.decision.margin, c.hw.decision.margin);
  }
  if (shown > 20) std::printf("  ... and %d more\n", shown - 20);
  if (o.base.hw) {
    std::printf(
        "energy per inference (%.4g s clip): cells %.4g J, feed-forward %.4g J, bias %.4g J, "
        "total %.4g J\n",
        r.clip_duration_s, r.energy_j[core::PowerBlock::cells],
        r.energy_j[core::PowerBlock::feedforward], r.energy_j[core::PowerBlock::bias],
        r.energy_j[core::PowerBlock::total]);
    std::printf("mean power: cells %.4g W, feed-forward %.4g W, bias %.4g W, total %.4g W\n",
                r.mean_power_w[core::PowerBlock::cells],
                r.mean_power_w[core::PowerBlock::feedforward],
                r.mean_power_w[core::PowerBlock::bias], r.mean_power_w[core::PowerBlock::total]);
    std::printf("speed: SPICE %.4g s per clip", r.spice_s_per_clip);
    if (o.base.ct) std::printf(", ct %.4g s per clip", r.ct_s_per_clip);
    std::printf(" (core seconds)\n");
  } else {
    std::printf("speed: ct %.4g s per clip\n", r.ct_s_per_clip);
  }
  for (const auto& c : r.clips)
    if (c.status != "ok")
      std::printf("FAILED clip %lld (%s): %s\n", static_cast<long long>(c.clip), c.name.c_str(),
                  c.error.c_str());
  std::printf("%zu clips (%d ran now, %d from the journal %s)\nwrote %s\n", r.clips.size(), r.ran,
              r.skipped, r.journal.c_str(), o.base.out.c_str());
  const std::string noise_kv =
      print_suppression(r.suppression, "median over cell boundaries, pooled over the clips");
  std::printf(
      "sw_accuracy=%.10g ct_accuracy=%.10g hw_accuracy=%.10g decision_agreement=%.10g "
      "mean_power_w=%.6g energy_per_inference_j=%.6g failed=%ld%s\n",
      r.sw.score.accuracy, r.ct.run ? r.ct.score.accuracy : std::nan(""),
      r.hw.run ? r.hw.score.accuracy : std::nan(""), r.decision_agreement,
      r.mean_power_w[core::PowerBlock::total], r.energy_j[core::PowerBlock::total], r.failed,
      noise_kv.c_str());
  std::fflush(stdout);
  if (r.failed > 0)
    throw PartialFailure(std::to_string(r.failed) + " of " + std::to_string(r.clips.size()) +
                         " clips failed (FAILED lines above; /clips in " + o.base.out.string() +
                         "); rerun them with --retry-failed.");
}

}  // namespace

CLI::Option* add_evaluate_options(CLI::App* cmd, EvaluateOptions& o, bool required) {
  CLI::Option* data = cmd->add_option("--data", o.data, "Labelled dataset (bmru dataset)")
                          ->required(required)
                          ->check(CLI::ExistingFile);
  std::vector<CLI::Option*> task{
      cmd->add_option("--scheme", o.scheme, "Split scheme: speaker, own or voice")
          ->capture_default_str(),
      cmd->add_option("--part", o.part, "Part of the split: train, val or test")
          ->check(CLI::IsMember({"train", "val", "test"}))
          ->capture_default_str(),
      add_count(cmd, "--limit", o.limit,
                "Evaluate N clips evenly spaced over the part (every class of a sorted dataset)"),
      add_count(cmd, "--chunk", o.chunk,
                "Clips per fidelity run in the journal (default: four per worker, at least 8)")};
  add_decision_options(cmd, o.decision, o.tie);
  if (!required)
    for (CLI::Option* t : task) t->needs(data);
  return data;
}

void refuse_own_inputs(const CLI::App* cmd) {
  for (const char* f : {"--inputs", "--random-sequences", "--frames", "--seed"})
    if (cmd->count(f) > 0)
      throw InputError(std::string(f) +
                       " does not apply with --data: the clips come from the dataset");
}

void add_evaluate_command(CLI::App& app, const std::string& command_line, const char* argv0) {
  auto o = std::make_shared<EvaluateOptions>();
  o->base.command_line = command_line;
  o->base.binary = self_binary(argv0);
  auto cli = std::make_shared<FidelityCli>();
  CLI::App* cmd = app.add_subcommand(
      "evaluate",
      "Task accuracy, decision agreement and energy per inference of a model on a dataset's clips, "
      "behavioural against circuit (resumable)");
  add_fidelity_options(cmd, o->base, *cli);
  add_evaluate_options(cmd, *o, true);
  cmd->add_flag("--retry-failed", o->retry_failed, "Rerun the clips the journal records as failed");
  cmd->callback([o, cli, cmd] {
    refuse_own_inputs(cmd);
    apply_fidelity_cli(*cli, o->base);
    Progress bar("evaluate frames (all clips)");
    const MpiWorld world;  // under mpirun: this rank of the job
    const EvaluateResult r = run_evaluate(
        *o, [&](long long done, long long total) { bar.update(done, total); },
        [&](const std::string& line) { bar.note("evaluate: " + line); }, &world);
    bar.clear();
    if (!r.root) return;  // rank 0 reports
    print_evaluation(r, *o);
  });
}

}  // namespace bmru::experiments
