#pragma once
// `bmru sweep`: fidelity runs over corners x temperatures x supplies (x Monte Carlo samples).
//
// Every run is written to its own file in the journal folder `<out>.runs/` (`<id>.h5`, committed
// by rename) followed by its summary row (`<id>.json`, also by rename), so a sweep killed at any
// moment loses at most the run in progress. The same command resumes: runs with a row are skipped,
// and a journal made with other options is refused. The sweep file `<out>` (/config, /summary,
// /runs/<id> copied from the journal) is rebuilt from the journal at the end of every invocation.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/run_file.hpp"
#include "experiments/evaluate.hpp"
#include "experiments/fidelity.hpp"
#include "spice/pool.hpp"

namespace bmru::experiments {

struct SweepOptions {
  FidelityOptions base;                 // the run options; base.out is the sweep file
  std::vector<std::string> corners;     // empty: base's corner
  std::vector<double> temps_c, vdds_v;  // empty: base's temperature / supply
  std::optional<core::Index> mc;        // Monte Carlo samples per point
  std::uint64_t mc_seed = 1;            // sample j uses mismatch seed mc_seed + j
  bool per_run_calibration = false;     // default: calibrated once at tt, 27 C, nominal supply
  bool retry_failed = false;            // rerun runs recorded as failed
  // `--data`: each run is an evaluation of the dataset's clips (its base is ignored; the run's
  // options come from `base`), with task accuracy per engine and energy per inference in /summary.
  std::optional<EvaluateOptions> evaluate;
};

// One run of the sweep: its parameters and its id (a pure function of them).
struct SweepPoint {
  std::string id, corner;
  double temperature_c = 27, vdd_v = 1.8;
  std::int64_t mc_sample = -1;
  std::optional<std::uint64_t> mismatch_seed;
};
std::vector<SweepPoint> sweep_points(const SweepOptions& o);

// One row of a sweep's /summary (DESIGN.md section 6): the run's parameters, headline metrics,
// power, status ("ok" or "failed"), error text and wall time. Metrics of a run that produced
// nothing are NaN.
struct SummaryRow {
  std::string id, corner;
  double temperature = 0, vdd = 0;
  std::int64_t mc_sample = -1, mismatch_seed = -1;  // -1: no Monte Carlo / no mismatch
  std::string status, error;
  double wall_s = 0;
  double state_agreement = 0, decision_agreement = 0, candidate_nrmse = 0, logit_nrmse = 0;
  std::int64_t first_divergence = -1, failed_sequences = 0;
  double mean_power_w = 0;
  // With the ct engine (NaN otherwise): state agreement of hw with ct and of ct with sw.
  double hw_ct_state_agreement = 0, ct_sw_state_agreement = 0;
  // With --data (NaN otherwise): accuracy per engine over the clips, energy per inference (J).
  double sw_accuracy = 0, ct_accuracy = 0, hw_accuracy = 0, energy_per_inference_j = 0;
  // With --noise (NaN and -1 otherwise): the circuit's median suppression factor (hw, else ct,
  // else sw; pooled over the clips with --data) and whether it is a lower bound.
  double suppression_factor = 0;
  std::int64_t suppression_is_bound = -1;
};

// The one description of the row: its fields in /summary order, each a member. The journal's JSON
// and the /summary compound dataset are both made from it.
struct SummaryField {
  const char* name;
  std::variant<double SummaryRow::*, std::int64_t SummaryRow::*, std::string SummaryRow::*> member;
};
const std::vector<SummaryField>& summary_fields();

struct SweepResult {
  bool root = true;              // false on an MPI rank other than 0 (it holds nothing)
  std::vector<SummaryRow> rows;  // in sweep order
  int ran = 0, skipped = 0;
  std::filesystem::path journal;
};

// `progress(done, total)` counts frames over all runs to do; `finished` is told of each run that
// ends, with a one-line account of it (for logs: a line per run).
class MpiWorld;  // experiments/src/distribute.hpp
// Under `mpirun -np N` (world of N ranks), the runs are spread over the ranks (issue 20); every
// rank calls run_sweep with the same options, and only rank 0's result holds the rows.
SweepResult run_sweep(const SweepOptions& o,
                      const std::function<void(long long, long long)>& progress = {},
                      const std::function<void(const std::string&)>& finished = {},
                      const MpiWorld* world = nullptr);

// The worker side of a run made side by side with others (when a run has fewer sequences than
// there are workers): one run of the sweep in a worker process of its own (it retires after).
void run_sweep_point_job(const std::string& payload, spice::JobContext& context);

// The journal folder of a sweep file.
std::filesystem::path sweep_journal(const std::filesystem::path& out);

}  // namespace bmru::experiments
