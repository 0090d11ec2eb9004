#include "experiments/fidelity.hpp"

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/model_file.hpp"
#include "core/run_file.hpp"
#include "core/stimuli.hpp"
#include "core/units.hpp"
#include "experiments/calibration.hpp"
#include "experiments/netlist.hpp"
#include "core/driver.hpp"
#include "experiments/simulate.hpp"
#include "models/reference_engine.hpp"
#include "models/circuit_model.hpp"
#include "pdk/registry.hpp"
#include "spice/pool.hpp"
#include "version.hpp"

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

// Per-sequence state in the parent: frames waiting to be written as a block, votes.
struct SequenceState {
  std::vector<core::Frame> hw, sw;
  std::vector<double> power[4];
  core::Index next_k = 0;  // first frame of the pending block
  core::VoteCounter hw_votes, sw_votes;
  explicit SequenceState(core::Index n_out) : hw_votes(n_out), sw_votes(n_out) {}
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

FidelityResult run_fidelity(const FidelityOptions& o, const std::function<void(long long, long long)>& progress) {
  if (o.out.empty()) throw InputError("fidelity needs an output file (--out FILE.h5)");
  o.axis.check();
  const auto t_start = Clock::now();
  const core::Network net = load_network(o.model, o.unit_current_a);
  const double unit = net.unit_current_a;
  const auto tech = pdk::open_technology(o.tech.pdk, o.tech.pdk_path);
  pdk::Conditions k = o.tech.conditions;
  if (!(k.vdd_v > 0)) throw InputError("--vdd: the supply must be positive (got " + core::format_number(k.vdd_v) + " V)");
  if (!(k.temperature_c > -273.15))
    throw InputError("--temp: " + core::format_number(k.temperature_c) + " C is below absolute zero");
  k.mismatch = o.mismatch_seed.has_value() && !tech->program_mismatch();
  auto source = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                         : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
  const core::Index S = source->sequences(), N = source->frames();
  const auto x = core::read_all(*source);

  spice::WorkerPool pool(o.binary, o.jobs);
  // Calibration runs in a worker too: no ngspice in this process.
  models::CircuitOptions copt;
  std::string ngspice_version = "unknown";
  const pdk::Conditions cal_k = o.calibration_conditions.value_or(k);
  {
    const json req{{"pdk", o.tech.pdk}, {"pdk_path", o.tech.pdk_path ? o.tech.pdk_path->string() : ""},
                   {"corner", cal_k.corner}, {"temperature", cal_k.temperature_c}, {"vdd", cal_k.vdd_v}};
    const auto r = pool.run({{"fidelity.calibration", req.dump(), 900}}, [&](size_t, const std::string& m) {
      tables_from_json(m, copt.cell, copt.mirror);
    });
    if (!r[0].ok) throw Error("The calibration failed: " + r[0].error);
  }
  copt.conditions = k;
  copt.mismatch_seed = o.mismatch_seed;
  const models::CircuitModel circuit = models::build_circuit(net, *tech, copt);
  const std::string lockstep = lockstep_netlist(circuit, *tech, k);
  // ngspice's own random numbers (GF180MCU mismatch through agauss) follow the mismatch seed.
  const std::uint64_t ngspice_seed = o.mismatch_seed.value_or(1);

  core::RunFile file(o.out, {kToolVersion, o.command_line});
  const spice::Transient tran{o.axis.print_step(), o.axis.stop_time(N), o.axis.max_step()};
  file.write_config({{"engines", std::string("sw,hw")},
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
                     {"tran_method", std::string("gear")},
                     {"inputs", source->describe()},
                     {"input_seed", o.inputs ? std::int64_t{-1} : static_cast<std::int64_t>(o.seed)},
                     {"mismatch_seed", o.mismatch_seed ? static_cast<std::int64_t>(*o.mismatch_seed) : std::int64_t{-1}},
                     {"ngspice_seed", static_cast<std::int64_t>(ngspice_seed)},
                     {"mc_seed", o.mc_seed ? static_cast<std::int64_t>(*o.mc_seed) : std::int64_t{-1}},
                     {"mc_sample", o.mc_sample},
                     {"calibration_corner", cal_k.corner},
                     {"calibration_temperature", cal_k.temperature_c},
                     {"calibration_vdd", cal_k.vdd_v}});
  file.write_model(net);
  file.write_netlist(lockstep, standalone_netlist(circuit, *tech, k, x.front(), o.axis, "standalone.data"));
  file.write_netlist_map(circuit.map);
  const core::TraceShape shape{S, N, net.n_in(), net.d(), net.n_layers(), net.n_out()};
  core::InputsWriter inputs = file.add_inputs(shape);
  for (core::Index s = 0; s < S; ++s) {
    std::vector<core::Matrix> frames;
    for (core::Index f = 0; f < N; ++f) frames.push_back(x[static_cast<size_t>(s)].row(f));
    inputs.write_block(s, 0, frames);
  }
  core::TraceWriter sw = file.add_traces("sw", shape, "model units");
  core::TraceWriter hw = file.add_traces("hw", shape, "A");
  const char* blocks[4] = {"cells", "feedforward", "bias", "total"};
  std::vector<core::SeriesWriter> power;
  for (const char* b : blocks) power.push_back(file.add_series(std::string("hw/power/") + b, S, N, "W"));

  // One job per sequence.
  const std::vector<std::string> probes = probe_list(circuit.ports);
  std::vector<std::string> sources;
  for (const auto& in : circuit.inputs) sources.push_back(in.name);
  std::vector<spice::Job> jobs;
  const std::string model_json = core::model_to_json(net);
  std::vector<std::string> states;
  for (const auto& l : circuit.ports.layers) states.insert(states.end(), l.state.begin(), l.state.end());
  for (core::Index s = 0; s < S; ++s) {
    const auto& xs = x[static_cast<size_t>(s)];
    std::vector<double> flat;
    for (core::Index f = 0; f < N; ++f)
      for (core::Index i = 0; i < net.n_in(); ++i) flat.push_back(xs(f, i));
    const json req{{"netlist", lockstep}, {"seed", ngspice_seed}, {"model", model_json}, {"frames", N},
                   {"inputs", flat}, {"axis", {o.axis.period_s, o.axis.ramp_s, o.axis.sample_phase}},
                   {"sources", sources}, {"probes", probes},
                   {"supplies", {circuit.ports.supply_cells + "#branch", circuit.ports.supply_feedforward + "#branch",
                                 circuit.ports.supply_bias + "#branch"}},
                   {"tran", {tran.step_s, tran.stop_s, tran.max_step_s}},
                   {"states", states},
                   {"resync", o.mode == Mode::resync}};
    jobs.push_back({"fidelity.sequence", req.dump(), spice::default_timeout_s(tran.stop_s)});
  }

  FidelityResult result;
  core::Comparator comparator(net, S);
  std::vector<SequenceState> state(static_cast<size_t>(S), SequenceState(net.n_out()));
  const size_t P = probes.size();
  const auto d = static_cast<size_t>(net.d());
  const size_t sw_width = static_cast<size_t>(net.n_layers()) * 3 * d + static_cast<size_t>(net.n_out());
  const core::Index block = hw.preferred_block();
  double power_sum[4] = {0, 0, 0, 0};
  long long power_frames = 0;
  const auto flush = [&](core::Index s) {
    SequenceState& q = state[static_cast<size_t>(s)];
    if (q.hw.empty()) return;
    hw.write_block(s, q.next_k, q.hw);
    sw.write_block(s, q.next_k, q.sw);
    for (int b = 0; b < 4; ++b) power[static_cast<size_t>(b)].write(s, q.next_k, q.power[b]);
    q.next_k += static_cast<core::Index>(q.hw.size());
    q.hw.clear();
    q.sw.clear();
    for (auto& p : q.power) p.clear();
  };
  const auto t_hw = Clock::now();
  long long frames_done = 0;
  const auto outcomes = pool.run(jobs, [&](size_t job, const std::string& bytes) {
    std::vector<double> r(bytes.size() / sizeof(double));
    std::memcpy(r.data(), bytes.data(), r.size() * sizeof(double));
    const size_t cells = static_cast<size_t>(net.n_layers()) * d;
    if (r.size() != 1 + P + sw_width + 3 + 2 * cells) throw Error("A worker sent a frame record of the wrong size");
    const auto s = static_cast<core::Index>(job);
    SequenceState& q = state[job];
    core::Frame h = empty_frame(net), w = empty_frame(net);
    core::Frame hm = empty_frame(net);  // hardware in model units, for the comparator
    size_t p = 1, v = 1 + P;
    for (auto l = 0u; l < h.layers.size(); ++l) {
      for (size_t i = 0; i < d; ++i) h.layers[l].candidate(0, static_cast<core::Index>(i)) = r[p++];
      for (size_t i = 0; i < d; ++i) h.layers[l].state(0, static_cast<core::Index>(i)) = r[p++];
      for (size_t i = 0; i < d; ++i, p += 2) h.layers[l].output(0, static_cast<core::Index>(i)) = r[p] - r[p + 1];
      for (const auto m : {&core::LayerFrame::candidate, &core::LayerFrame::state, &core::LayerFrame::output}) {
        // Software frames are column-major [1, d] blocks in the record.
        for (size_t i = 0; i < d; ++i) (w.layers[l].*m)(0, static_cast<core::Index>(i)) = r[v++];
        hm.layers[l].*m = (h.layers[l].*m) / unit;
      }
    }
    for (core::Index j = 0; j < net.n_out(); ++j, p += 2) h.logits(0, j) = r[p] - r[p + 1];
    for (core::Index j = 0; j < net.n_out(); ++j) w.logits(0, j) = r[v++];
    hm.logits = h.logits / unit;
    comparator.add(s, static_cast<core::Index>(r[0]), hm, w);
    std::vector<std::vector<core::Crossings>> crossings(static_cast<size_t>(net.n_layers()));
    for (size_t c = 0, at = 1 + P + sw_width + 3; c < cells; ++c, at += 2)
      crossings[c / d].push_back({static_cast<core::Index>(r[at]), r[at + 1]});
    comparator.add_crossings(s, static_cast<core::Index>(r[0]), crossings);
    q.hw_votes.add(hm.logits.row(0));
    q.sw_votes.add(w.logits.row(0));
    // Supply branch currents flow out of the + node: power = -integral x vdd / T.
    double total = 0;
    for (int b = 0; b < 3; ++b) {
      const double watts = -r[v + static_cast<size_t>(b)] * k.vdd_v / o.axis.period_s;
      q.power[b].push_back(watts);
      power_sum[b] += watts;
      total += watts;
    }
    q.power[3].push_back(total);
    power_sum[3] += total;
    ++power_frames;
    q.hw.push_back(std::move(h));
    q.sw.push_back(std::move(w));
    if (static_cast<core::Index>(q.hw.size()) >= block) flush(s);
    if (progress) progress(++frames_done, static_cast<long long>(S * N));
  });
  result.hw_wall_s = std::chrono::duration<double>(Clock::now() - t_hw).count();
  std::vector<core::Decision> hw_dec, sw_dec;
  for (core::Index s = 0; s < S; ++s) {
    flush(s);
    const auto& q = state[static_cast<size_t>(s)];
    hw_dec.push_back(q.hw_votes.result());
    sw_dec.push_back(q.sw_votes.result());
    comparator.set_decisions(s, hw_dec.back(), sw_dec.back());
    if (!outcomes[static_cast<size_t>(s)].ok)
      result.failed.push_back("sequence " + std::to_string(s) + ": " + outcomes[static_cast<size_t>(s)].error);
  }
  hw.write_decisions(hw_dec);
  sw.write_decisions(sw_dec);
  result.metrics = comparator.result();
  for (int b = 0; b < 4; ++b) result.power_w[b] = power_frames ? power_sum[b] / static_cast<double>(power_frames) : 0;
  result.simulated_s = tran.stop_s * static_cast<double>(S);
  result.workers = pool.workers();
  // The software side alone, for the speed ratio: the same engine over the same inputs in batch.
  {
    const auto t0 = Clock::now();
    models::ReferenceEngine engine(net);
    auto again = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                          : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
    core::run_batch(engine, *again, 256, {});
    result.sw_wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::string failures;
  for (const auto& f : result.failed) failures += f + "\n";
  file.write_metrics("metrics", result.metrics,
                     {{"mean_power_w", result.power_w[3]}, {"power_cells_w", result.power_w[0]},
                      {"power_feedforward_w", result.power_w[1]}, {"power_bias_w", result.power_w[2]},
                      {"failed_sequences", static_cast<std::int64_t>(result.failed.size())},
                      {"errors", failures},
                      {"sw_wall_s", result.sw_wall_s}, {"hw_wall_s", result.hw_wall_s},
                      {"wall_s", std::chrono::duration<double>(Clock::now() - t_start).count()}});
  file.commit();
  result.wall_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  return result;
}

}  // namespace bmru::experiments
