#include "experiments/sweep.hpp"
#include "core/physics.hpp"
#include "experiments/worker_jobs.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <type_traits>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "core/file_lock.hpp"
#include "core/model_file.hpp"
#include "core/stimuli.hpp"
#include "core/units.hpp"
#include "experiments/simulate.hpp"
#include "pdk/registry.hpp"
#include "version.hpp"

#include "distribute.hpp"
#include "options_json.hpp"
#include "run_limits.hpp"
#include "sweep_journal.hpp"

namespace bmru::experiments {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// "27C", "m40C"; "1.8V". Shortest round-trip text, so ids are stable and distinct.
std::string id_number(double v, const char* unit) {
  std::string s = core::format_number(std::abs(v)) + unit;
  return v < 0 ? "m" + s : s;
}

bool same_corner(const std::string& a, const std::string& b) {
  const auto norm = [](const std::string& c) { return c == "typical" ? std::string("tt") : c; };
  return norm(a) == norm(b);
}

// Everything that decides what a run computes, except its grid point: a journal made with other
// values is refused. Content hashes stand in for the model and the inputs.
json fingerprint(const SweepOptions& o, const core::Network& net,
                 const std::vector<core::Matrix>& x) {
  std::ostringstream in;
  in.precision(17);
  for (const auto& m : x)
    in << m.rows() << 'x' << m.cols() << ':' << m.reshaped().transpose() << ';';
  const FidelityOptions& b = o.base;
  return {{"tool_version", kToolVersion},
          {"model_sha256", core::sha256_hex(core::model_to_json(net))},
          {"inputs_sha256", core::sha256_hex(in.str())},
          {"pdk", b.tech.pdk},
          {"pdk_path", b.tech.pdk_path ? b.tech.pdk_path->string() : ""},
          {"frame_period", b.axis.period_s},
          {"ramp", b.axis.ramp_s},
          {"sample_phase", b.axis.sample_phase},
          {"mode", b.mode == Mode::free ? "free" : "resync"},
          {"calibration", o.per_run_calibration ? "per-run" : "nominal"}};
}

SummaryRow empty_row(const SweepPoint& p) {
  SummaryRow r;
  r.id = p.id;
  r.corner = p.corner;
  r.temperature = p.temperature_c;
  r.vdd = p.vdd_v;
  r.mc_sample = p.mc_sample;
  r.mismatch_seed = p.mismatch_seed ? static_cast<std::int64_t>(*p.mismatch_seed) : -1;
  const double nan = std::nan("");
  r.state_agreement = r.decision_agreement = r.candidate_nrmse = r.logit_nrmse = r.mean_power_w =
      nan;
  r.hw_ct_state_agreement = r.ct_sw_state_agreement = nan;
  r.sw_accuracy = r.ct_accuracy = r.hw_accuracy = r.energy_per_inference_j = nan;
  r.suppression_factor = nan;
  r.suppression_is_bound = -1;
  return r;
}

// --noise: the circuit's figure (the last engine: hw, else ct, else sw) in the row.
void set_suppression(const std::vector<FidelityResult::Suppression>& s, SummaryRow& r) {
  if (s.empty()) return;
  r.suppression_factor = s.back().factor;
  r.suppression_is_bound = s.back().is_bound ? 1 : 0;
}

// One fidelity run of the sweep: its headline figures in the row.
void fidelity_point(const FidelityOptions& run, SummaryRow& r,
                    const std::function<void(long long, long long)>& progress) {
  const FidelityResult f = run_fidelity(run, progress);
  r.state_agreement = f.metrics.state_agreement;
  r.decision_agreement = f.metrics.decision_agreement;
  r.candidate_nrmse = f.metrics.candidate_nrmse;
  r.logit_nrmse = f.metrics.logit_nrmse;
  r.first_divergence = f.metrics.first_divergence;
  r.mean_power_w = f.power_w[core::PowerBlock::total];
  if (f.hw_vs_ct) r.hw_ct_state_agreement = f.hw_vs_ct->state_agreement;
  if (f.ct_vs_sw) r.ct_sw_state_agreement = f.ct_vs_sw->state_agreement;
  set_suppression(f.suppression, r);
  r.failed_sequences = static_cast<std::int64_t>(f.failed.size());
  r.status = f.failed.empty() ? "ok" : "failed";
  for (const auto& e : f.failed) r.error += (r.error.empty() ? "" : "\n") + e;
}

// One evaluation of the sweep (--data): task figures in the row; a failed clip fails the run.
void evaluate_point(const EvaluateOptions& e, SummaryRow& r,
                    const std::function<void(long long, long long)>& progress) {
  const EvaluateResult v = run_evaluate(e, progress);
  r.state_agreement = v.state_agreement;
  r.decision_agreement = v.decision_agreement;
  r.hw_ct_state_agreement = v.hw_ct_state_agreement;
  r.ct_sw_state_agreement = v.ct_sw_state_agreement;
  r.mean_power_w = v.mean_power_w[core::PowerBlock::total];
  r.energy_per_inference_j = v.energy_j[core::PowerBlock::total];
  r.sw_accuracy = v.sw.score.accuracy;
  if (v.ct.run) r.ct_accuracy = v.ct.score.accuracy;
  if (v.hw.run) r.hw_accuracy = v.hw.score.accuracy;
  set_suppression(v.suppression, r);
  r.failed_sequences = v.failed;
  r.status = v.failed == 0 ? "ok" : "failed";
  for (const auto& c : v.clips)
    if (c.status != "ok") r.error += (r.error.empty() ? "" : "\n") + c.name + ": " + c.error;
}

// One run of the sweep: its file, then its summary row, both by rename. Never throws for a
// failed run: the failure is the row.
SummaryRow run_point(const FidelityOptions& run, const SweepPoint& p,
                     const std::function<void(long long, long long)>& progress,
                     const std::optional<EvaluateOptions>& task = std::nullopt) {
  fs::remove(run.out);  // a file of an earlier attempt must not stand for this one
  SummaryRow r = empty_row(p);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    if (task) {
      EvaluateOptions e = *task;
      e.base = run;
      evaluate_point(e, r, progress);
    } else {
      fidelity_point(run, r, progress);
    }
  } catch (const Error& e) {
    r.status = "failed";
    r.error = e.what();
    std::error_code ignore;
    fs::remove(run.out.string() + ".part", ignore);
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  core::write_text_atomically(run.out.parent_path() / (p.id + ".json"), row_to_json(r).dump(2));
  return r;
}

}  // namespace

namespace {
// "run 3/12 tt_27C_1.8V ok: state agreement 98.21 %, 12.3 s" (or the run's error).
std::string run_line(const SummaryRow& r, int done, size_t of) {
  char head[160];
  std::snprintf(head, sizeof head, "run %d/%zu %s %s", done, of, r.id.c_str(), r.status.c_str());
  char tail[120];
  if (r.status == "ok")
    std::snprintf(tail, sizeof tail, ": state agreement %.2f %%, %.1f s", 100 * r.state_agreement,
                  r.wall_s);
  else
    std::snprintf(tail, sizeof tail, " after %.1f s: ", r.wall_s);
  return std::string(head) + tail + (r.status == "ok" ? "" : r.error.substr(0, r.error.find('\n')));
}
}  // namespace

fs::path sweep_journal(const fs::path& out) {
  return fs::path(out.string() + ".runs");
}

void run_sweep_point_job(const std::string& payload, spice::JobContext& ctx) {
  ctx.retire();  // HDF5 and ngspice state stay with the run: the next one gets a fresh process
  const json j = json::parse(payload);
  const FidelityOptions run = fidelity_options_from_json(j.at("options"));
  std::optional<EvaluateOptions> task;
  if (j.contains("evaluate") && !j.at("evaluate").is_null())
    task = evaluate_from_json(j.at("evaluate"), run);
  run_point(run, point_from_json(j.at("point")), {}, task);
}

std::vector<SweepPoint> sweep_points(const SweepOptions& o) {
  const pdk::Conditions& k = o.base.tech.conditions;
  const auto corners = o.corners.empty() ? std::vector<std::string>{k.corner} : o.corners;
  const auto temps = o.temps_c.empty() ? std::vector<double>{k.temperature_c} : o.temps_c;
  const auto vdds = o.vdds_v.empty() ? std::vector<double>{k.vdd_v} : o.vdds_v;
  std::vector<SweepPoint> out;
  for (double t : temps)
    if (!(t > -core::physics::kZeroCelsius_K))
      throw InputError("--temps: " + core::format_number(t) + " C is below absolute zero");
  for (double v : vdds)
    if (!(v > 0))
      throw InputError("--vdds: the supply must be positive (got " + core::format_number(v) +
                       " V)");
  for (const auto& c : corners)
    for (double t : temps)
      for (double v : vdds) {
        SweepPoint p{c + "_" + id_number(t, "C") + "_" + id_number(v, "V"),
                     c,
                     t,
                     v,
                     -1,
                     o.base.mismatch_seed};
        if (!o.mc) {
          if (p.mismatch_seed) p.id += "_mm" + std::to_string(*p.mismatch_seed);
          out.push_back(p);
          continue;
        }
        for (core::Index j = 0; j < *o.mc; ++j) {
          SweepPoint q = p;
          q.mc_sample = j;
          q.mismatch_seed = o.mc_seed + static_cast<std::uint64_t>(j);
          q.id += "_mm" + std::to_string(*q.mismatch_seed);
          out.push_back(q);
        }
      }
  std::vector<std::string> ids;
  for (const auto& p : out) ids.push_back(p.id);
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
    throw InputError("The sweep lists a corner, temperature or supply twice");
  return out;
}

namespace {

void check_points(const pdk::Technology& tech, const std::vector<SweepPoint>& points) {
  const auto corners = tech.corners();
  for (const auto& p : points)
    if (std::none_of(corners.begin(), corners.end(),
                     [&](const std::string& c) { return same_corner(c, p.corner); })) {
      std::string list;
      for (const auto& c : corners) list += " " + c;
      throw InputError("--corners: '" + p.corner + "' is not a corner of " + tech.name() +
                       " (corners:" + list + ")");
    }
  for (const auto& p : points) check_supply(tech, p.vdd_v, "--vdds");
}

using PendingRuns = std::vector<std::pair<size_t, FidelityOptions>>;

// The row a run left in the journal, or a failed row if its process died before writing one.
SummaryRow collect_run(const fs::path& journal, const SweepPoint& p,
                       const spice::JobOutcome& outcome) {
  if (const auto j = read_json(journal / (p.id + ".json"))) return row_from_json(*j);
  SummaryRow r = empty_row(p);
  r.status = "failed";
  r.error = outcome.ok ? "the run ended without recording its result" : outcome.error;
  core::write_text_atomically(journal / (p.id + ".json"), row_to_json(r).dump(2));
  return r;
}

// Runs side by side, each in a worker process of its own (HDF5 and ngspice are per process),
// sharing the workers: the same process pool as the simulations'.
void run_side_by_side(PendingRuns& runs, const std::vector<SweepPoint>& points,
                      const std::optional<EvaluateOptions>& task, const fs::path& binary,
                      int side_by_side, int per_run, SweepResult& result,
                      std::vector<std::optional<SummaryRow>>& rows,
                      const std::function<void(size_t)>& done_one) {
  std::vector<spice::Job> jobs;
  for (auto& [i, run] : runs) {
    run.jobs = per_run;
    // A run has no deadline of its own (its simulations have theirs): a week.
    jobs.push_back(job(JobKind::sweep_run,
                       json{{"options", fidelity_options_to_json(run)},
                            {"point", point_to_json(points[i])},
                            {"evaluate", task ? evaluate_task_to_json(*task) : json()}}
                           .dump(),
                       7 * 24 * 3600.0));
  }
  spice::WorkerPool pool(binary, side_by_side);
  pool.run(
      jobs, [](size_t, const std::string&) {},
      [&](size_t n, const spice::JobOutcome& o) {
        const size_t i = runs[n].first;
        rows[i] = collect_run(result.journal, points[i], o);
        done_one(i);
      });
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}
std::string joined(const std::vector<double>& v) {
  std::string out;
  for (const double x : v) out += (out.empty() ? "" : ",") + core::format_number(x);
  return out;
}

// The sweep file, rebuilt from the journal. It holds every run file whole: one that cannot fit is
// refused before it is begun (HDF5's object copy crashes when a write fails under it).
void write_sweep_file(const SweepOptions& o, const pdk::Technology& tech,
                      const std::vector<SweepPoint>& points, const json& print, SweepResult& result,
                      const std::vector<std::optional<SummaryRow>>& rows) {
  double need = 1e6;
  for (const auto& p : points) {
    std::error_code ec;
    const auto size = fs::file_size(result.journal / (p.id + ".h5"), ec);
    if (!ec) need += 1.05 * static_cast<double>(size);
  }
  core::require_space(fs::path(o.base.out.string() + ".part"), need);
  core::RunFile file(o.base.out, {kToolVersion, o.base.command_line});
  const pdk::Conditions& k = o.base.tech.conditions;
  std::vector<core::Attr> config{
      {"kind", std::string("sweep")},
      {"pdk", tech.name()},
      {"corners", joined(o.corners.empty() ? std::vector<std::string>{k.corner} : o.corners)},
      {"temperatures",
       joined(o.temps_c.empty() ? std::vector<double>{k.temperature_c} : o.temps_c)},
      {"vdds", joined(o.vdds_v.empty() ? std::vector<double>{k.vdd_v} : o.vdds_v)},
      {"mc", static_cast<std::int64_t>(o.mc.value_or(0))},
      {"mc_seed", o.mc ? static_cast<std::int64_t>(o.mc_seed) : std::int64_t{-1}},
      {"journal", result.journal.string()}};
  for (const auto& [key, value] : print.items())
    config.push_back({key, value.is_string() ? core::AttrValue(value.get<std::string>())
                                             : core::AttrValue(value.get<double>())});
  file.write_config(config);
  for (size_t i = 0; i < points.size(); ++i) {
    result.rows.push_back(*rows[i]);
    const fs::path f = result.journal / (points[i].id + ".h5");
    if (fs::exists(f)) file.copy_run(points[i].id, f);
  }
  file.write_table("summary", summary_columns(result.rows));
  file.commit();
}

}  // namespace

SweepResult run_sweep(const SweepOptions& o,
                      const std::function<void(long long, long long)>& progress,
                      const std::function<void(const std::string&)>& finished,
                      const MpiWorld* world) {
  if (o.base.out.empty()) throw InputError("sweep needs an output file (--out FILE.h5)");
  o.base.axis.check();
  const auto tech = pdk::open_technology(o.base.tech.pdk, o.base.tech.pdk_path);
  const auto points = sweep_points(o);
  check_points(*tech, points);
  // The inputs and the model are read once here only to fingerprint them; every run reads them
  // again.
  const core::Network net = load_network(o.base.model, o.base.unit_current_a);
  std::vector<core::Matrix> x;
  core::Index sequences = 0;
  long long frames_per_run = 0;
  json task;
  if (o.evaluate) {
    // Each run evaluates the clips; every problem of the dataset is named before any run.
    const EvaluateSelection sel = evaluate_selection(*o.evaluate, net);
    sequences = static_cast<core::Index>(sel.clips.size());
    frames_per_run = static_cast<long long>(sel.clips.size()) * sel.frames;
    task = evaluate_task_to_json(*o.evaluate);
    task.erase("retry_failed");
    task["clips_sha256"] = sel.sha256;
  } else {
    auto source = o.base.inputs ? core::file_stimuli(*o.base.inputs, net.n_in())
                                : core::random_stimuli({o.base.random_sequences, o.base.frames,
                                                        net.n_in(), o.base.seed});
    x = core::read_all(*source);
    sequences = source->sequences();
    frames_per_run = static_cast<long long>(source->sequences() * source->frames());
  }

  const pdk::Conditions nominal{"tt", 27, tech->nominal_vdd(), false};
  // The options of run i, its file in `dir` (the journal; another rank's staging folder).
  const auto options_for = [&](size_t i, const fs::path& dir) {
    const SweepPoint& p = points[i];
    FidelityOptions run = o.base;
    run.tech.conditions = {p.corner, p.temperature_c, p.vdd_v, false};
    run.mismatch_seed = p.mismatch_seed;
    if (o.mc) run.mc_seed = o.mc_seed;
    run.mc_sample = p.mc_sample;
    if (!o.per_run_calibration) run.calibration_conditions = nominal;
    run.out = dir / (p.id + ".h5");
    return run;
  };
  SweepResult result;
  result.journal = sweep_journal(o.base.out);
  const fs::path staging = fs::path(o.base.out.string() + ".staging");
  if (world && !world->root()) {
    // Another rank: run what rank 0 hands out, in a staging folder of this rank; rank 0 moves the
    // file into the journal and writes the row.
    const fs::path mine = staging / ("rank" + std::to_string(world->rank()));
    fs::create_directories(mine);
    distribute(*world, {},
               [&](const std::string& payload) {
                 const size_t i = std::stoul(payload);
                 const SummaryRow r = run_point(options_for(i, mine), points[i], {}, o.evaluate);
                 return json{{"row", row_to_json(r)},
                             {"staged", (mine / (points[i].id + ".h5")).string()}}
                     .dump();
               },
               {});
    result.root = false;
    return result;
  }
  fs::create_directories(result.journal);
  // One sweep per journal: a second one started on it is refused, naming the first (issue 15).
  const core::FileLock journal_lock(result.journal / "lock",
                                    "The sweep journal '" + result.journal.string() + "'", false);
  json print = fingerprint(o, net, x);
  if (o.evaluate) print["evaluate"] = task.dump();
  stamp_journal(result.journal, print, "sweep.json");

  std::vector<std::optional<SummaryRow>> rows(points.size());
  PendingRuns runs;  // options of each run still to make
  for (size_t i = 0; i < points.size(); ++i) {
    if (const auto j = read_json(result.journal / (points[i].id + ".json"))) {
      rows[i] = row_from_json(*j);
      if (!(o.retry_failed && rows[i]->status != "ok")) continue;
      rows[i].reset();
    }
    runs.push_back({i, options_for(i, result.journal)});
  }
  result.skipped = static_cast<int>(points.size() - runs.size());
  const long long total = frames_per_run * static_cast<long long>(runs.size());
  const auto done_one = [&](size_t i) {
    ++result.ran;
    if (finished) finished(run_line(*rows[i], result.ran, runs.size()));
    if (progress) progress(result.ran * frames_per_run, total);
  };
  // With fewer sequences than workers, runs go side by side, sharing the workers; otherwise one
  // run at a time uses them all.
  const int workers = o.base.jobs > 0
                          ? o.base.jobs
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // An evaluation runs its clips in chunks over all the workers: one at a time.
  const int side_by_side =
      o.evaluate ? 1 : std::max(1, workers / static_cast<int>(std::max<core::Index>(1, sequences)));
  if (world && world->size() > 1) {
    // Spread over the ranks; rank 0 commits each result: the run file moved from the rank's
    // staging folder into the journal (with an evaluation's own journal), then the row.
    std::vector<std::string> payloads;
    for (const auto& [i, run] : runs) payloads.push_back(std::to_string(i));
    distribute(
        *world, payloads,
        [&](const std::string& payload) {
          const size_t i = std::stoul(payload);
          const SummaryRow r = run_point(options_for(i, result.journal), points[i], {}, o.evaluate);
          return json{{"row", row_to_json(r)}, {"staged", nullptr}}.dump();
        },
        [&](size_t n, const std::string& text) {
          const size_t i = runs[n].first;
          const json j = json::parse(text);
          if (!j.at("staged").is_null()) {
            const fs::path from = j.at("staged").get<std::string>();
            const fs::path to = result.journal / (points[i].id + ".h5");
            std::error_code ignore;
            fs::remove_all(fs::path(to.string() + ".clips"), ignore);
            if (fs::exists(from)) fs::rename(from, to);
            if (fs::exists(from.string() + ".clips"))
              fs::rename(from.string() + ".clips", to.string() + ".clips");
          }
          rows[i] = row_from_json(j.at("row"));
          core::write_text_atomically(result.journal / (points[i].id + ".json"),
                                      row_to_json(*rows[i]).dump(2));
          done_one(i);
        });
    std::error_code ignore;
    fs::remove_all(staging, ignore);
  } else if (side_by_side == 1 || runs.size() < 2) {
    for (auto& [i, run] : runs) {
      const long long before = result.ran * frames_per_run;
      rows[i] = run_point(
          run, points[i],
          [&](long long done, long long) {
            if (progress) progress(before + done, total);
          },
          o.evaluate);
      done_one(i);
    }
  } else {
    run_side_by_side(runs, points, o.evaluate, o.base.binary, side_by_side,
                     std::max(1, workers / side_by_side), result, rows, done_one);
  }
  write_sweep_file(o, *tech, points, print, result, rows);
  return result;
}

}  // namespace bmru::experiments
