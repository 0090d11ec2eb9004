#include "experiments/fidelity.hpp"
#include "core/physics.hpp"
#include "experiments/worker_jobs.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/driver.hpp"
#include "core/errors.hpp"
#include "core/frame_record.hpp"
#include "core/model_file.hpp"
#include "core/run_file.hpp"
#include "core/stimuli.hpp"
#include "core/units.hpp"
#include "experiments/calibration.hpp"
#include "experiments/netlist.hpp"
#include "experiments/simulate.hpp"
#include "experiments/validate.hpp"
#include "models/circuit_model.hpp"
#include "models/reference_engine.hpp"
#include "pdk/registry.hpp"
#include "spice/pool.hpp"
#include "version.hpp"

#include "fidelity_target.hpp"
#include "lockstep.hpp"
#include "run_limits.hpp"

namespace bmru::experiments {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Probe order of a sequence job: per layer d candidates, d states, d (pos, neg) outputs; then the
// logits as (pos, neg).
std::vector<std::string> probe_list(const models::PortMap& p) {
  std::vector<std::string> out;
  for (const auto& l : p.layers) {
    out.insert(out.end(), l.candidate.begin(), l.candidate.end());
    out.insert(out.end(), l.state.begin(), l.state.end());
    for (const auto& q : l.output) {
      out.push_back(q.pos);
      out.push_back(q.neg);
    }
  }
  for (const auto& q : p.logits) {
    out.push_back(q.pos);
    out.push_back(q.neg);
  }
  return out;
}

// Per-sequence state in the parent (the engines' traces and votes are in their EngineStreams).
struct SequenceState {
  std::array<std::vector<double>, 4> power;  // by core::PowerBlock, the pending block's frames
  core::Index next_k = 0;                    // first frame of the pending power block
  core::Index received = 0;      // frames received; a retried job's repeats of them are skipped
  core::PowerByBlock power_sum;  // this sequence's power by block, summed over its frames
  long long power_frames = 0;
};

core::Frame empty_frame(const core::Network& net) {
  core::Frame f;
  f.layers.resize(static_cast<size_t>(net.n_layers()));
  for (auto& l : f.layers) {
    l.candidate.resize(1, net.d());
    l.state.resize(1, net.d());
    l.output.resize(1, net.d());
  }
  f.logits.resize(1, net.n_out());
  return f;
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
  if (!o.hw) return run_sw_ct(o, progress);
  const auto t_start = Clock::now();
  std::optional<UserPorts> user;
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
  const double unit = net.unit_current_a;
  const auto tech = pdk::open_technology(o.tech.pdk, o.tech.pdk_path);
  pdk::Conditions k = o.tech.conditions;
  check_supply(*tech, k.vdd_v);
  if (o.waveform_points > 10000)
    throw InputError("--waveforms: " + std::to_string(o.waveform_points) +
                     " points per frame is more than the 10000 a frame can use");
  if (!(k.temperature_c > -core::physics::kZeroCelsius_K))
    throw InputError("--temp: " + core::format_number(k.temperature_c) +
                     " C is below absolute zero");
  k.mismatch = o.mismatch_seed.has_value() && !tech->program_mismatch();
  auto source = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                         : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
  const core::Index S = source->sequences(), N = source->frames();
  const core::TraceShape shape{S, N, net.n_in(), net.d(), net.n_layers(), net.n_out()};
  check_output_size(o.out, core::estimate_run_bytes(shape, o.ct ? 3 : 2, o.waveform_points),
                    o.max_output_gb);
  const auto x = core::read_all(*source);
  check_input_currents(x, unit, o.inputs ? o.inputs->string() : "the random inputs");

  spice::WorkerPool pool(o.binary, o.jobs);
  std::optional<models::CtFacts> measured_ct;
  Target target = user ? user_target(o, *user, net, pool, stage)
                       : generated_target(o, net, *tech, k, x.front(), pool, measured_ct, stage);
  if (stage)
    stage("simulating " + std::to_string(S) + " sequences of " + std::to_string(N) + " frames");
  {
    // The run's own settings after every other .option line, so they win.
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
  models::CtFacts ct_facts = measured_ct.value_or(models::CtFacts{});
  if (o.ct_overrides) update_ct_facts(ct_facts, o.ct_overrides->second, o.ct_overrides->first);
  // ngspice's own random numbers (GF180MCU mismatch through agauss) follow the mismatch seed.
  const std::uint64_t ngspice_seed = o.mismatch_seed.value_or(1);

  core::RunFile file(o.out, {kToolVersion, o.command_line});
  const spice::Transient tran{o.axis.print_step(), o.axis.stop_time(N),
                              o.tran_max_step_s.value_or(o.axis.max_step())};
  std::vector<core::Attr> config{
      {"engines", std::string("sw,hw")},
      {"pdk", tech->name()},
      {"pdk_location", tech->location()},
      {"corner", k.corner},
      {"temperature", k.temperature_c},
      {"vdd", k.vdd_v},
      {"frame_period", o.axis.period_s},
      {"ramp", o.axis.ramp_s},
      {"sample_phase", o.axis.sample_phase},
      {"unit_current", unit},
      {"mode", std::string(o.mode == Mode::free ? "free" : "resync")},
      {"tran_step", tran.step_s},
      {"tran_tmax", tran.max_step_s},
      {"inputs", source->describe()},
      {"input_seed", o.inputs ? std::int64_t{-1} : static_cast<std::int64_t>(o.seed)},
      {"mismatch_seed",
       o.mismatch_seed ? static_cast<std::int64_t>(*o.mismatch_seed) : std::int64_t{-1}},
      {"ngspice_seed", static_cast<std::int64_t>(ngspice_seed)},
      {"mc_seed", o.mc_seed ? static_cast<std::int64_t>(*o.mc_seed) : std::int64_t{-1}},
      {"mc_sample", o.mc_sample}};
  config.insert(config.end(), target.config.begin(), target.config.end());
  for (const auto& a : target.sim.config_attrs()) config.push_back(a);  // what the simulator uses
  if (o.ct) {
    config.front() = {"engines", std::string("sw,ct,hw")};
    for (const auto& a : ct_facts_attrs(ct_facts)) config.push_back(a);
  }
  file.write_config(config);
  file.write_model(net);
  file.write_netlist(target.lockstep, target.standalone);
  file.write_netlist_map(target.map);
  core::InputsWriter inputs = file.add_inputs(shape);
  for (core::Index s = 0; s < S; ++s) {
    std::vector<core::Matrix> frames;
    for (core::Index f = 0; f < N; ++f) frames.push_back(x[static_cast<size_t>(s)].row(f));
    inputs.write_block(s, 0, frames);
  }
  LockstepSinks sinks(file, net, shape, true, o.ct, target.has_logits);

  std::vector<core::SeriesWriter> power;
  for (const auto b : core::kPowerBlocks)
    power.push_back(file.add_series(std::string("hw/power/") + core::block_name(b), S, N, "W"));
  std::optional<core::SeriesWriter> waves;
  if (o.waveform_points > 0) {
    waves = file.add_rows("hw/waveforms/state", S, N * o.waveform_points, net.n_layers() * net.d(),
                          "A");
    file.set_attr("/hw/waveforms/state", {"dt", o.axis.period_s / o.waveform_points});
    file.set_attr("/hw/waveforms/state",
                  {"description", std::string("every cell's output current I_out (columns: "
                                              "layer-major, cell), sampled at t = i * dt, "
                                              "linear between SPICE's accepted points")});
  }

  // One job per sequence.
  const std::vector<std::string> probes = probe_list(target.ports);
  std::vector<std::string> supplies;
  for (const auto& [block, name] : target.supplies) supplies.push_back(name);
  supplies.insert(supplies.end(), target.cell_supplies.begin(), target.cell_supplies.end());
  std::vector<spice::Job> jobs;
  const std::string model_json = core::model_to_json(net);
  std::vector<std::string> states;
  for (const auto& l : target.ports.layers)
    states.insert(states.end(), l.state.begin(), l.state.end());
  for (core::Index s = 0; s < S; ++s) {
    const auto& xs = x[static_cast<size_t>(s)];
    std::vector<double> flat;
    for (core::Index f = 0; f < N; ++f)
      for (core::Index i = 0; i < net.n_in(); ++i) flat.push_back(xs(f, i));
    const json req{{"netlist", target.lockstep},
                   {"seed", ngspice_seed},
                   {"model", model_json},
                   {"frames", N},
                   {"inputs", flat},
                   {"axis", {o.axis.period_s, o.axis.ramp_s, o.axis.sample_phase}},
                   {"sources", target.sources},
                   {"probes", probes},
                   {"supplies", supplies},
                   {"tran", {tran.step_s, tran.stop_s, tran.max_step_s}},
                   {"states", states},
                   {"waveform_points", o.waveform_points},
                   {"ct", o.ct ? json::parse(ct_facts_to_json(ct_facts)) : json()},
                   {"resync", o.mode == Mode::resync}};
    jobs.push_back(job(JobKind::sequence, req.dump(), spice::default_timeout_s(tran.stop_s)));
    jobs.back().retries_on_worker_death = 1;  // a killed worker costs a rerun, not the sequence
  }

  FidelityResult result;
  double spice_s = 0, ct_s = 0;
  std::vector<SequenceState> state(static_cast<size_t>(S));
  const size_t P = probes.size();
  const size_t n_blocks = target.supplies.size();
  const size_t n_sup = n_blocks + target.cell_supplies.size();
  std::optional<core::SeriesWriter> cell_power;
  if (!target.cell_supplies.empty()) {
    cell_power = file.add_rows("hw/power/cell", S, N, net.n_layers() * net.d(), "W");
    file.set_attr("/hw/power/cell",
                  {"description", std::string("average power of each cell's own supply lead per "
                                              "frame (columns: layer-major, cell); their sum "
                                              "is /hw/power/cells")});
  }
  const auto d = static_cast<size_t>(net.d());
  const double k_vdd = k.vdd_v;
  const core::Index block = sinks.block();
  const auto flush_power = [&](core::Index s) {
    SequenceState& q = state[static_cast<size_t>(s)];
    if (q.power.front().empty()) return;
    for (size_t b = 0; b < power.size(); ++b) power[b].write(s, q.next_k, q.power[b]);
    q.next_k += static_cast<core::Index>(q.power.front().size());
    for (auto& p : q.power) p.clear();
  };
  const auto t_hw = Clock::now();
  long long frames_done = 0;
  const auto outcomes = pool.run(jobs, [&](size_t job, const std::string& bytes) {
    core::FrameRecord rec = core::decode_frame_record(bytes);
    const size_t cells = static_cast<size_t>(net.n_layers()) * d;
    const size_t wave = static_cast<size_t>(o.waveform_points) * cells;
    if (rec.probes.size() != P || rec.sw.layers.size() != static_cast<size_t>(net.n_layers()) ||
        rec.supply_charge.size() != n_sup || rec.crossings.size() != cells ||
        rec.waveform.size() != wave || rec.ct.has_value() != o.ct)
      throw Error(
          "A worker sent a frame record of another shape than this run's (probes, layers, "
          "supplies, "
          "cells, waveform or ct)");
    const auto s = static_cast<core::Index>(job);
    const core::Index k = rec.k;
    SequenceState& q = state[job];
    // A rerun (after a worker died) sends the frames it already sent again, identically.
    if (k < q.received) return;
    q.received = k + 1;
    // The SPICE adapter's one conversion: probe currents (A, signed pairs as pos - neg) to a frame,
    // and that frame in model units for the comparators and votes.
    const std::vector<double>& r = rec.probes;
    LockstepFrame f;
    f.hw_amps = empty_frame(net);
    core::Frame& h = f.hw_amps;
    core::Frame& hm = f.hw.emplace(empty_frame(net));
    size_t p = 0;
    for (auto l = 0u; l < h.layers.size(); ++l) {
      for (size_t i = 0; i < d; ++i) h.layers[l].candidate(0, static_cast<core::Index>(i)) = r[p++];
      for (size_t i = 0; i < d; ++i) h.layers[l].state(0, static_cast<core::Index>(i)) = r[p++];
      for (size_t i = 0; i < d; ++i, p += 2)
        h.layers[l].output(0, static_cast<core::Index>(i)) = r[p] - r[p + 1];
      for (const auto m :
           {&core::LayerFrame::candidate, &core::LayerFrame::state, &core::LayerFrame::output})
        hm.layers[l].*m = (h.layers[l].*m) / unit;
    }
    for (core::Index j = 0; j < net.n_out(); ++j, p += 2)
      h.logits(0, j) = target.has_logits ? r[p] - r[p + 1] : std::nan("");
    hm.logits = h.logits / unit;
    f.sw = std::move(rec.sw);
    f.hw_crossings.resize(static_cast<size_t>(net.n_layers()));
    for (size_t c = 0; c < cells; ++c) f.hw_crossings[c / d].push_back(rec.crossings[c]);
    if (wave > 0 && waves)
      // Written as it comes (the chunk cache completes the chunk): waveforms are several times the
      // size of the frame traces and would dominate the pending block's memory.
      waves->write(s, k * o.waveform_points, rec.waveform);
    // Supply branch currents flow out of the + node: power = -integral x vdd / T. A block the
    // netlist does not measure is NaN (and so is the total).
    double total = 0;
    core::PowerByBlock watts;
    for (const auto b : core::kSupplyBlocks) watts[b] = std::nan("");
    for (size_t j = 0; j < n_blocks; ++j)
      watts[target.supplies[j].first] = -rec.supply_charge[j] * k_vdd / o.axis.period_s;
    if (cell_power) {
      std::vector<double> per_cell;
      // A sense source carries the cell's current into its + node: power = +integral x vdd / T.
      for (size_t j = n_blocks; j < n_sup; ++j)
        per_cell.push_back(rec.supply_charge[j] * k_vdd / o.axis.period_s);
      cell_power->write(s, k, per_cell);
    }
    for (const auto b : core::kSupplyBlocks) {
      q.power[static_cast<size_t>(b)].push_back(watts[b]);
      q.power_sum[b] += watts[b];
      total += watts[b];
    }
    q.power[static_cast<size_t>(core::PowerBlock::total)].push_back(total);
    q.power_sum[core::PowerBlock::total] += total;
    ++q.power_frames;
    if (o.ct) {
      core::CtFrameRecord& ct = *rec.ct;
      f.ct_crossings.resize(static_cast<size_t>(net.n_layers()));
      for (size_t i = 0; i < cells; ++i) f.ct_crossings[i / d].push_back(ct.crossings[i]);
      spice_s += ct.spice_s;
      ct_s += ct.ct_s;
      f.ct = std::move(ct.frame);
    }
    sinks.add(s, k, std::move(f));
    if (static_cast<core::Index>(q.power.front().size()) >= block) flush_power(s);
    if (progress) progress(++frames_done, static_cast<long long>(S * N));
  });
  result.hw_wall_s = std::chrono::duration<double>(Clock::now() - t_hw).count();
  std::vector<std::string> seq_status, seq_error;
  std::vector<std::int64_t> seq_frames;
  for (core::Index s = 0; s < S; ++s) {
    flush_power(s);
    const auto& q = state[static_cast<size_t>(s)];
    const auto& outcome = outcomes[static_cast<size_t>(s)];
    const bool ok = outcome.ok && q.received == N;
    sinks.end_sequence(s, ok);  // a failed sequence decides nothing
    seq_status.push_back(ok ? "ok" : "failed");
    seq_frames.push_back(q.received);
    std::string error = outcome.ok ? "" : outcome.error;
    if (outcome.ok && !ok)
      error = "the simulation ended after " + std::to_string(q.received) + " of " +
              std::to_string(N) + " frames";
    seq_error.push_back(error);
    if (!ok) {
      result.failed.push_back("sequence " + std::to_string(s) + " (" + std::to_string(q.received) +
                              " of " + std::to_string(N) + " frames): " + error);
    } else if (!outcome.retried_after.empty()) {
      result.retried.push_back("sequence " + std::to_string(s) +
                               ": rerun on a fresh worker after " + outcome.retried_after);
    }
  }
  file.write_sequence_status(seq_status, seq_error, seq_frames);
  const LockstepMetrics m = sinks.finish();
  if (o.ct) {
    result.ct_vs_sw = m.ct_vs_sw;
    result.hw_vs_ct = m.hw_vs_ct;
    result.ct_wall_s = ct_s;
    result.spice_s = spice_s;
    file.write_metrics("metrics/ct_vs_sw", *result.ct_vs_sw, {{"ct_s", ct_s}});
    file.write_metrics("metrics/hw_vs_ct", *result.hw_vs_ct,
                       {{"spice_s", spice_s}, {"ct_s", ct_s}});
  }
  result.metrics = m.metrics;
  if (!target.has_logits) result.metrics.decision_agreement = std::nan("");  // nothing to compare
  // Summed in sequence order, so the mean does not depend on the order frames arrived in.
  core::PowerByBlock power_sum;
  long long power_frames = 0;
  for (const auto& q : state) {
    for (const auto b : core::kPowerBlocks) power_sum[b] += q.power_sum[b];
    power_frames += q.power_frames;
  }
  for (const auto b : core::kPowerBlocks)
    result.power_w[b] = power_frames ? power_sum[b] / static_cast<double>(power_frames) : 0;
  result.simulated_s = tran.stop_s * static_cast<double>(S);
  result.workers = pool.workers();
  // The software side alone, for the speed ratio: the same engine over the same inputs in batch.
  {
    const auto t0 = Clock::now();
    models::ReferenceEngine engine(net);
    auto again = o.inputs
                     ? core::file_stimuli(*o.inputs, net.n_in())
                     : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
    core::run_batch(engine, *again, 256, {});
    result.sw_wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::string failures;
  for (const auto& f : result.failed) failures += f + "\n";
  file.write_metrics("metrics", result.metrics,
                     {{"mean_power_w", result.power_w[core::PowerBlock::total]},
                      {"power_cells_w", result.power_w[core::PowerBlock::cells]},
                      {"power_feedforward_w", result.power_w[core::PowerBlock::feedforward]},
                      {"power_bias_w", result.power_w[core::PowerBlock::bias]},
                      {"failed_sequences", static_cast<std::int64_t>(result.failed.size())},
                      {"errors", failures},
                      {"sw_wall_s", result.sw_wall_s},
                      {"hw_wall_s", result.hw_wall_s},
                      {"wall_s", std::chrono::duration<double>(Clock::now() - t_start).count()}});
  file.commit();
  result.wall_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  return result;
}

}  // namespace bmru::experiments
