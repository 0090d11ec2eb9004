#pragma once
// `bmru fidelity`: the behavioural engine and the transistor-level circuit run the same input
// sequences frame by frame (DESIGN.md section 4); the comparator says how far they agree
// (section 5); everything goes to one run file (section 6). Sequences run in worker processes.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <utility>

#include "core/array_file.hpp"
#include "core/comparator.hpp"
#include "core/noise.hpp"
#include "core/power.hpp"
#include "core/run_file.hpp"
#include "core/time_axis.hpp"
#include "experiments/characterize.hpp"
#include "models/cell_calibration.hpp"
#include "models/circuit_model.hpp"
#include "models/continuous_engine.hpp"
#include "models/mirror_circuit.hpp"
#include "models/realisable_range.hpp"
#include "spice/pool.hpp"

namespace bmru::experiments {

enum class Mode { free, resync };

struct FidelityOptions {
  std::optional<std::filesystem::path> model;
  std::optional<std::filesystem::path> inputs;
  core::Index random_sequences = 8;
  core::Index frames = 101;
  std::uint64_t seed = 1;
  TechnologyOptions tech;
  std::optional<std::uint64_t> mismatch_seed;
  // Conditions the widths and bias currents are calibrated at (default: the run's own conditions).
  // A sweep with `--calibration nominal` sets tt 27 C nominal supply here, as a fabricated chip.
  std::optional<pdk::Conditions> calibration_conditions;
  std::optional<std::uint64_t> mc_seed;  // recorded in /config (a sweep's Monte Carlo)
  std::int64_t mc_sample = -1;
  std::optional<double> unit_current_a;
  core::FrameAxis axis;
  Mode mode = Mode::free;
  // Clamp parameters outside the realisable range to the nearest realisable value (each change in
  // /clamp); without it such a network is refused naming every parameter.
  bool clamp = false;
  // Engines (DESIGN.md section 3): sw always; hw = SPICE; ct = the continuous-time model.
  bool hw = true, ct = false;
  // The ct model's facts are characterized on the technology; these fields (file name, JSON
  // object text) replace measured values (`--ct-facts FILE`).
  std::optional<std::pair<std::string, std::string>> ct_overrides;
  // --noise (issue 21): seeded noise currents into every cell's candidate line, the same samples
  // in every engine. The run is made twice, without and with the noise, and the suppression at
  // each cell boundary goes to /metrics/noise (noise.cpp). `noise_half`: this run is one of the
  // two (internal).
  core::NoiseSpec noise;
  bool noise_half = false;
  // --noise-at all: the noise enters every line of the circuit (every summing node, conversion
  // and cell output; CircuitModel::line_noise_sources), not only the candidates. SPICE and ct
  // take it; the discrete model has no lines and runs without (no sw suppression figure).
  bool noise_all_lines = false;
  // --cell leaky --leak a (issue 21's baseline): every cell a leaky integrator
  // h = a h + (1 - a) c in sw and ct (no circuit: --engines sw,ct only).
  std::optional<double> leak;
  int waveform_points = 50;  // per frame, of every cell's output current in /hw/waveforms (0: none)
  // Transient settings beyond DESIGN.md section 4's defaults (the accuracy study's reference).
  std::optional<double> tran_max_step_s, reltol, abstol, trtol;
  // bmru validate: a user's netlist and its port map replace the generated circuit.
  std::optional<std::filesystem::path> user_netlist, user_ports;
  int jobs = 0;               // worker processes; 0 = the number of cores
  double max_output_gb = 20;  // a run whose file would be larger is refused before it starts
  std::filesystem::path out;
  std::filesystem::path binary;  // the bmru executable that runs the workers
  std::string command_line;
};

struct FidelityResult {
  core::Metrics metrics;
  std::vector<std::string> failed;   // one error text per failed sequence (empty when all ran)
  std::vector<bool> sequence_ok;     // per sequence: every frame simulated
  std::vector<std::string> retried;  // sequences rerun after their worker died, and why
  // Parameters the circuit realises other than given (/realisation) and --clamp's changes
  // (/clamp); with changes, the clamped network's own sw decisions agree with the given one's on
  // this fraction of the sequences.
  std::vector<models::ParameterChange> realised, clamped;
  double clamped_sw_decision_agreement = std::nan("");
  core::PowerByBlock power_w;  // mean over frames, by block
  // ... and by position in the network (pre, layer<l>, output), when the netlist measures them.
  std::vector<std::string> positions;
  std::vector<double> position_power_w;
  core::PowerByBlock ideal_power_w;  // what the model's own currents draw (models/ideal_power.hpp)
  double sw_wall_s = 0, hw_wall_s = 0, ct_wall_s = 0, simulated_s = 0;
  double spice_s =
      0;  // seconds the workers spent in SPICE (with the ct engine: measured per frame)
  std::optional<core::Metrics> ct_vs_sw, hw_vs_ct;
  // With --noise: per engine that ran (sw, ct, hw), the median suppression factor over the cell
  // boundaries and whether it is a lower bound (no state ever moved).
  struct Suppression {
    std::string engine;
    double factor = std::nan("");
    bool is_bound = false;
  };
  std::vector<Suppression> suppression;
  int workers = 1;
  double wall_s = 0;
};

// Reports a long step before it begins ("calibrating the circuit ..."), for progress output.
using StageFn = std::function<void(const std::string&)>;

// `progress(frames_done, frames_total)` is called as frames arrive (optional); `stage` before each
// long step that has no frames to count (calibration, the netlist's operating point).
FidelityResult run_fidelity(const FidelityOptions& options,
                            const std::function<void(long long, long long)>& progress = {},
                            const StageFn& stage = {});

// The ct engine's characterization data as JSON (job payloads) and as /config attributes.
std::string ct_facts_to_json(const models::CtFacts& facts);
models::CtFacts ct_facts_from_json(const std::string& text);
std::vector<core::Attr> ct_facts_attrs(const models::CtFacts& facts);

// A ct die (device mismatch as factors on the circuit's elements) as JSON, for job payloads.
std::string ct_die_to_json(const models::CtDie& die);
models::CtDie ct_die_from_json(const std::string& text);

// A noise spec (--noise) as JSON, for job payloads and /config.
std::string noise_to_json(const core::NoiseSpec& spec);
core::NoiseSpec noise_from_json(const std::string& text);

// Replaces the fields `j` names (InputError naming the file and the field otherwise).
void update_ct_facts(models::CtFacts& facts, const std::string& json_text, const std::string& file);

// The suppression per engine over several --noise run files of one network (an evaluation's
// chunks): per cell boundary the deviations pooled over every frame of every run (root mean
// square, weighted by frames), flips and frames summed, the factor as in one run. The arrays and
// attributes for the file that gathers them (/metrics/noise/<engine>) are added to `arrays` and
// `attrs`; runs without /metrics/noise are skipped.
std::vector<FidelityResult::Suppression> pooled_suppression(
    const std::vector<std::filesystem::path>& runs, bool discrete,
    std::vector<core::NamedArray>& arrays, std::vector<std::pair<std::string, core::Attr>>& attrs);

// --noise: the run without and then with the noise, and the suppression per cell boundary and
// engine appended to the run file (/metrics/noise, /noiseless); run_fidelity calls it.
FidelityResult run_with_noise(const FidelityOptions& options,
                              const std::function<void(long long, long long)>& progress,
                              const StageFn& stage);

// sw against ct only, in this process (no SPICE): `--engines sw,ct`.
FidelityResult run_sw_ct(const FidelityOptions& options,
                         const std::function<void(long long, long long)>& progress);

// The worker side: the job that runs the lockstep of one sequence.
void run_sequence_job(const std::string& payload, spice::JobContext& context);
// The job that loads a netlist, runs an operating point and sends its vector names (JSON list).
void run_vectors_job(const std::string& payload, spice::JobContext& context);
// The calibration job run in a worker of `pool`: the tables at the calibration conditions
// (options.calibration_conditions, default `run`) and, with `ct`, the ct model's facts at `run`.
struct CalibrationReply {
  models::CellCalibration cell;
  models::MirrorCalibration mirror;
  std::optional<models::CtFacts> ct;
};
// The generator's options for a run at conditions k: the calibrated tables, and the run's
// mismatch seed and --clamp.
models::CircuitOptions circuit_options(const CalibrationReply& cal, const FidelityOptions& options,
                                       const pdk::Conditions& k);
CalibrationReply request_calibration(spice::WorkerPool& pool, const FidelityOptions& options,
                                     const pdk::Conditions& run, bool ct);
// The job that builds (or reads from the cache) the calibration in a worker.
void run_calibration_job(const std::string& payload, spice::JobContext& context);

}  // namespace bmru::experiments
