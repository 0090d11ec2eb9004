#include "experiments/fidelity.hpp"
#include "core/physics.hpp"
#include "experiments/worker_jobs.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/dataset_file.hpp"
#include "core/driver.hpp"
#include "core/errors.hpp"
#include "core/frame_record.hpp"
#include "core/model_file.hpp"
#include "core/run_file.hpp"
#include "core/stimuli.hpp"
#include "core/units.hpp"
#include "core/vote.hpp"
#include "experiments/calibration.hpp"
#include "experiments/netlist.hpp"
#include "experiments/simulate.hpp"
#include "experiments/validate.hpp"
#include "models/circuit_model.hpp"
#include "models/ideal_power.hpp"
#include "models/reference_engine.hpp"
#include "pdk/registry.hpp"
#include "spice/pool.hpp"
#include "version.hpp"

#include "fidelity_target.hpp"
#include "hardware_sink.hpp"
#include "run_config.hpp"
#include "run_limits.hpp"

namespace bmru::experiments {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The network a run compares with: the model file (or the demo), or for a user's netlist the
// parameters its port map carries.
core::Network run_network(const FidelityOptions& o, std::optional<UserPorts>& user) {
  if (o.user_netlist) {
    if (!o.user_ports) throw InputError("validate needs a port map (--ports FILE.json)");
    std::ifstream in(*o.user_ports);
    if (!in) throw FileError(o.user_ports->string(), "", "cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    user = read_port_map(text.str(), o.user_ports->string());
    if (!o.model && !user->parameters)
      throw InputError(
          "validate needs the model to compare with: --model FILE, or 'parameters' in the port map "
          "'" +
          o.user_ports->string() + "'");
  }
  core::Network net =
      o.model || !user ? load_network(o.model, o.unit_current_a) : *user->parameters;
  if (!o.model && user && o.unit_current_a) {
    if (!(*o.unit_current_a > 0))
      throw InputError("--unit-current must be a positive current in amperes");
    net.unit_current_a = *o.unit_current_a;
  }
  return net;
}

void check_conditions(const FidelityOptions& o, const pdk::Technology& tech,
                      const pdk::Conditions& k) {
  check_supply(tech, k.vdd_v);
  if (o.waveform_points > 10000)
    throw InputError("--waveforms: " + std::to_string(o.waveform_points) +
                     " points per frame is more than the 10000 a frame can use");
  if (!(k.temperature_c > -core::physics::kZeroCelsius_K))
    throw InputError("--temp: " + core::format_number(k.temperature_c) +
                     " C is below absolute zero");
}

// The run's own simulator settings after every other .option line, so they win.
void apply_run_options(const FidelityOptions& o, Target& target) {
  spice::SimOptions run;
  run.reltol = o.reltol;
  run.abstol_a = o.abstol;
  run.trtol = o.trtol;
  if (const std::string line = run.option_line(); !line.empty()) {
    const auto end = target.lockstep.rfind(".end");
    target.lockstep.insert(end == std::string::npos ? target.lockstep.size() : end, line + "\n");
  }
  target.sim = target.sim.merged(run);
}

struct RunSetting {
  const pdk::Technology& tech;
  double unit;
  spice::Transient tran;
  std::uint64_t ngspice_seed;
  std::string inputs;
};

std::vector<core::Attr> run_config(const FidelityOptions& o, const RunSetting& r,
                                   const Target& target, const models::CtFacts& ct_facts) {
  std::vector<core::Attr> config{
      {"engines", std::string(o.ct ? "sw,ct,hw" : "sw,hw")},
      {"pdk", r.tech.name()},
      {"pdk_location", r.tech.location()},
      {"tran_step", r.tran.step_s},
      {"tran_tmax", r.tran.max_step_s},
      {"mismatch_seed",
       o.mismatch_seed ? static_cast<std::int64_t>(*o.mismatch_seed) : std::int64_t{-1}},
      {"ngspice_seed", static_cast<std::int64_t>(r.ngspice_seed)},
      {"mc_seed", o.mc_seed ? static_cast<std::int64_t>(*o.mc_seed) : std::int64_t{-1}},
      {"mc_sample", o.mc_sample}};
  for (const auto& a : run_axis_config(o, r.unit, r.inputs)) config.push_back(a);
  config.insert(config.end(), target.config.begin(), target.config.end());
  for (const auto& a : target.sim.config_attrs()) config.push_back(a);  // what the simulator uses
  if (o.ct)
    for (const auto& a : ct_facts_attrs(ct_facts)) config.push_back(a);
  return config;
}

// One job per sequence: the netlist, the inputs and what to probe, integrate and sample densely.
std::vector<spice::Job> sequence_jobs(const FidelityOptions& o, const core::Network& net,
                                      const std::vector<core::Matrix>& x, const Target& target,
                                      const RunSetting& r, const models::CtFacts& ct_facts) {
  std::vector<std::string> supplies;
  for (const auto& [block, name] : target.supplies) supplies.push_back(name);
  supplies.insert(supplies.end(), target.cell_supplies.begin(), target.cell_supplies.end());
  supplies.insert(supplies.end(), target.position_supplies.begin(), target.position_supplies.end());
  std::vector<std::string> states;
  for (const auto& l : target.ports.layers)
    states.insert(states.end(), l.state.begin(), l.state.end());
  std::vector<std::string> dense_logits;  // for the time each class leads (time-share)
  if (target.has_logits)
    for (const auto& q : target.ports.logits) {
      dense_logits.push_back(q.pos);
      dense_logits.push_back(q.neg);
    }
  const std::string model_json = core::model_to_json(net);
  // ct models the circuit: the network as the circuit realises it.
  const std::string ct_model_json = core::model_to_json(target.network.value_or(net));
  // The default timeout is sized for the keyword-spotting circuit (about 600 netlist lines); a
  // larger circuit (the scaling study's d = 64 has 40 times the devices) gets proportionally more.
  const double lines =
      static_cast<double>(std::count(target.lockstep.begin(), target.lockstep.end(), '\n'));
  // Noise currents change every T/100, so ngspice takes more steps (3x covers rel:0.5 on the
  // demo with another build sharing the machine).
  const double timeout_s = spice::default_timeout_s(r.tran.stop_s) * std::max(1.0, lines / 600.0) *
                           (o.noise.active() ? 3.0 : 1.0);
  std::vector<spice::Job> jobs;
  for (size_t s = 0; s < x.size(); ++s) {
    const core::Matrix& xs = x[s];
    std::vector<double> flat;
    for (core::Index f = 0; f < xs.rows(); ++f)
      for (core::Index i = 0; i < net.n_in(); ++i) flat.push_back(xs(f, i));
    const json req{
        {"netlist", target.lockstep},
        {"seed", r.ngspice_seed},
        {"model", model_json},
        {"ct_model", ct_model_json},
        {"frames", xs.rows()},
        {"inputs", flat},
        {"axis", {o.axis.period_s, o.axis.ramp_s, o.axis.sample_phase}},
        {"sources", target.sources},
        {"probes", probe_list(target.ports)},
        {"supplies", supplies},
        {"tran", {r.tran.step_s, r.tran.stop_s, r.tran.max_step_s}},
        {"states", states},
        {"dense_logits", dense_logits},
        {"waveform_points", o.waveform_points},
        {"ct", o.ct ? json::parse(ct_facts_to_json(ct_facts)) : json()},
        {"ct_die",
         o.ct && !target.ct_die.nominal() ? json::parse(ct_die_to_json(target.ct_die)) : json()},
        {"resync", o.mode == Mode::resync},
        {"sequence", s},
        {"noise", o.noise.active() ? json::parse(noise_to_json(o.noise)) : json()},
        {"noise_at", o.noise_all_lines ? "all" : "candidates"},
        {"noise_sources", target.noise_sources}};
    jobs.push_back(job(JobKind::sequence, req.dump(), timeout_s));
    jobs.back().retries_on_worker_death = 1;  // a killed worker costs a rerun, not the sequence
  }
  return jobs;
}

// Each sequence's status after the pool has run them: /sequences, and the failed and retried.
void end_sequences(HardwareSink& hw, const std::vector<spice::JobOutcome>& outcomes, core::Index N,
                   core::RunFile& file, FidelityResult& result) {
  std::vector<std::string> status, errors;
  std::vector<std::int64_t> frames;
  for (size_t s = 0; s < outcomes.size(); ++s) {
    const auto& outcome = outcomes[s];
    const core::Index received = hw.frames_received(static_cast<core::Index>(s));
    const bool ok = outcome.ok && received == N;
    hw.end_sequence(static_cast<core::Index>(s), ok);  // a failed sequence decides nothing
    status.push_back(ok ? "ok" : "failed");
    result.sequence_ok.push_back(ok);
    frames.push_back(received);
    std::string error = outcome.ok ? "" : outcome.error;
    if (outcome.ok && !ok)
      error = "the simulation ended after " + std::to_string(received) + " of " +
              std::to_string(N) + " frames";
    errors.push_back(error);
    if (!ok)
      result.failed.push_back("sequence " + std::to_string(s) + " (" + std::to_string(received) +
                              " of " + std::to_string(N) + " frames): " + error);
    else if (!outcome.retried_after.empty())
      result.retried.push_back("sequence " + std::to_string(s) +
                               ": rerun on a fresh worker after " + outcome.retried_after);
  }
  file.write_sequence_status(status, errors, frames);
}

// A network's behavioural decisions over the run's inputs, in batch (a vote per sequence).
std::vector<core::Decision> sw_batch(const FidelityOptions& o, const core::Network& net) {
  models::ReferenceEngine engine(net);
  auto again = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                        : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
  return core::run_batch(engine, *again, 256, {});
}

}  // namespace

FidelityResult run_fidelity(const FidelityOptions& o,
                            const std::function<void(long long, long long)>& progress,
                            const StageFn& stage) {
  if (o.out.empty()) throw InputError("fidelity needs an output file (--out FILE.h5)");
  o.axis.check();
  if (o.user_netlist && (!o.hw || o.ct))
    throw InputError(
        "validate compares the netlist (hw) with the discrete model (sw): --engines sw,hw only; "
        "the ct model follows the generated circuit, not a netlist of yours");
  if (o.leak && o.hw)
    throw InputError(
        "--cell leaky has no circuit: run it with --engines sw,ct (the behavioural "
        "and continuous-time models)");
  if (o.noise.active() && !o.noise_half) return run_with_noise(o, progress, stage);
  if (!o.hw) return run_sw_ct(o, progress);
  const auto t_start = Clock::now();
  std::optional<UserPorts> user;
  const core::Network net = run_network(o, user);
  const auto tech = pdk::open_technology(o.tech.pdk, o.tech.pdk_path);
  pdk::Conditions k = o.tech.conditions;
  check_conditions(o, *tech, k);
  k.mismatch = o.mismatch_seed.has_value() && !tech->program_mismatch();
  if (o.inputs) core::check_input_features(net, *o.inputs);
  auto source = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                         : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
  const core::Index S = source->sequences(), N = source->frames();
  const core::TraceShape shape{S, N, net.n_in(), net.d(), net.n_layers(), net.n_out()};
  check_output_size(o.out, core::estimate_run_bytes(shape, o.ct ? 3 : 2, o.waveform_points),
                    o.max_output_gb);
  const auto x = core::read_all(*source);
  check_input_currents(x, net.unit_current_a, o.inputs ? o.inputs->string() : "the random inputs");

  spice::WorkerPool pool(o.binary, o.jobs);
  std::optional<models::CtFacts> measured_ct;
  Target target = user ? user_target(o, *user, net, pool, stage)
                       : generated_target(o, net, *tech, k, x.front(), pool, measured_ct, stage);
  if (stage)
    stage("simulating " + std::to_string(S) + " sequences of " + std::to_string(N) + " frames");
  apply_run_options(o, target);
  models::CtFacts ct_facts = measured_ct.value_or(models::CtFacts{});
  if (o.ct_overrides) update_ct_facts(ct_facts, o.ct_overrides->second, o.ct_overrides->first);
  // ngspice's own random numbers (GF180MCU mismatch through agauss) follow the mismatch seed.
  const RunSetting r{
      *tech,
      net.unit_current_a,
      {o.axis.print_step(), o.axis.stop_time(N), o.tran_max_step_s.value_or(o.axis.max_step())},
      o.mismatch_seed.value_or(1),
      source->describe()};

  core::RunFile file(o.out, {kToolVersion, o.command_line});
  FidelityResult result;
  file.write_config(run_config(o, r, target, ct_facts));
  file.write_model(net);
  file.write_netlist(target.lockstep, target.standalone);
  file.write_netlist_map(target.map);
  if (target.network) {
    file.write_table("realisation", change_table(target.realised));
    if (o.clamp) file.write_table("clamp", change_table(target.clamped));
  }
  core::InputsWriter inputs = file.add_inputs(shape);
  for (core::Index s = 0; s < S; ++s) {
    std::vector<core::Matrix> frames;
    for (core::Index f = 0; f < N; ++f) frames.push_back(x[static_cast<size_t>(s)].row(f));
    inputs.write_block(s, 0, frames);
  }
  HardwareSink hw(file, net, shape, o, target, k.vdd_v);
  result.realised = target.realised;
  result.clamped = target.clamped;
  const auto t_hw = Clock::now();
  long long frames_done = 0;
  const auto outcomes = pool.run(sequence_jobs(o, net, x, target, r, ct_facts),
                                 [&](size_t job, const std::string& bytes) {
                                   hw.on_record(static_cast<core::Index>(job), bytes);
                                   if (progress)
                                     progress(++frames_done, static_cast<long long>(S * N));
                                 });
  result.hw_wall_s = std::chrono::duration<double>(Clock::now() - t_hw).count();
  end_sequences(hw, outcomes, N, file, result);
  const LockstepMetrics m = hw.finish();
  if (o.ct) {
    result.ct_vs_sw = m.ct_vs_sw;
    result.hw_vs_ct = m.hw_vs_ct;
    result.ct_wall_s = hw.ct_s;
    result.spice_s = hw.spice_s;
    file.write_metrics("metrics/ct_vs_sw", *result.ct_vs_sw, {{"ct_s", hw.ct_s}});
    file.write_metrics("metrics/hw_vs_ct", *result.hw_vs_ct,
                       {{"spice_s", hw.spice_s}, {"ct_s", hw.ct_s}});
  }
  result.metrics = m.metrics;
  if (!target.has_logits) result.metrics.decision_agreement = std::nan("");  // nothing to compare
  result.power_w = hw.mean_power();
  result.position_power_w = hw.mean_position_power();
  if (!result.position_power_w.empty()) result.positions = target.ports.positions;
  result.ideal_power_w = models::ideal_power(net, x, k.vdd_v);
  result.simulated_s = r.tran.stop_s * static_cast<double>(S);
  result.workers = pool.workers();
  // The software side alone, for the speed ratio: the same engine over the same inputs in batch.
  const auto t_sw = Clock::now();
  const std::vector<core::Decision> given = sw_batch(o, net);
  result.sw_wall_s = std::chrono::duration<double>(Clock::now() - t_sw).count();
  std::string failures;
  for (const auto& f : result.failed) failures += f + "\n";
  file.write_metrics(
      "metrics", result.metrics,
      {{"mean_power_w", result.power_w[core::PowerBlock::total]},
       {"power_cells_w", result.power_w[core::PowerBlock::cells]},
       {"power_feedforward_w", result.power_w[core::PowerBlock::feedforward]},
       {"power_bias_w", result.power_w[core::PowerBlock::bias]},
       {"ideal_power_w", result.ideal_power_w[core::PowerBlock::total]},
       {"ideal_power_cells_w", result.ideal_power_w[core::PowerBlock::cells]},
       {"ideal_power_feedforward_w", result.ideal_power_w[core::PowerBlock::feedforward]},
       {"failed_sequences", static_cast<std::int64_t>(result.failed.size())},
       {"errors", failures},
       {"sw_wall_s", result.sw_wall_s},
       {"hw_wall_s", result.hw_wall_s},
       {"wall_s", std::chrono::duration<double>(Clock::now() - t_start).count()}});
  for (size_t p = 0; p < result.positions.size(); ++p)
    file.set_attr("/metrics", {"power_" + result.positions[p] + "_w", result.position_power_w[p]});
  if (target.network && (!target.realised.empty() || !target.clamped.empty())) {
    // What realising and clamping cost the task: the realised network's own sw decisions.
    const std::vector<core::Decision> realised = sw_batch(o, *target.network);
    std::vector<core::TableColumn> t{{"class", {}}, {"margin", {}}};
    double same = 0;
    for (size_t s = 0; s < realised.size(); ++s) {
      t[0].values.emplace_back(static_cast<std::int64_t>(realised[s].decision));
      t[1].values.emplace_back(realised[s].margin);
      same += realised[s].decision == given[s].decision;
    }
    result.clamped_sw_decision_agreement = same / static_cast<double>(realised.size());
    file.write_table("metrics/realised_sw_decisions", t);
    file.set_attr("/metrics",
                  {"realised_sw_decision_agreement", result.clamped_sw_decision_agreement});
  }
  file.commit();
  result.wall_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  return result;
}

}  // namespace bmru::experiments
