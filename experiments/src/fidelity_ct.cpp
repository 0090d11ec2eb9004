// `bmru fidelity --engines sw,ct`: the discrete and the continuous-time models over the same
// sequences, in this process (no SPICE, no workers).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/dataset_file.hpp"
#include "core/errors.hpp"
#include "core/run_file.hpp"
#include "core/stimuli.hpp"
#include "core/vote.hpp"
#include "experiments/fidelity.hpp"
#include "experiments/simulate.hpp"
#include "models/reference_engine.hpp"
#include "spice/pool.hpp"
#include "version.hpp"

#include "lockstep.hpp"
#include "models/circuit_model.hpp"
#include "pdk/registry.hpp"
#include "run_config.hpp"
#include "run_limits.hpp"

namespace bmru::experiments {

namespace {

// Sequences integrated together as lanes of one ct engine (bmru bench ct-throughput: with
// AVX-512's 8 doubles about 3 times the throughput of one lane at a time, with SSE2's 2 about 1.5
// times at 64 lanes and 1.1-1.3 times at 8); more lanes only hold more frames pending per sequence.
constexpr core::Index kCtLanes = 64;

// Every ct fact once: its JSON (and --ct-facts) name, where it lives, and whether /config carries
// it as ct_<name> (the reference mirror's geometry is the generator's, not a measured fact).
enum class Range { positive, non_negative, any };
struct CtField {
  const char* name;
  double models::CtFacts::*value;
  Range range = Range::non_negative;
  bool in_config = true;
};
const std::vector<CtField>& ct_fields() {
  using F = models::CtFacts;
  static const std::vector<CtField> fields{
      {"slope_v", &F::slope_v, Range::positive},
      {"cap_per_area_f_m2", &F::cap_per_area_f_m2},
      {"cap_per_area_p_f_m2", &F::cap_per_area_p_f_m2},
      {"line_cap_scale", &F::line_cap_scale, Range::positive},
      {"w_ref_m", &F::w_ref_m, Range::positive, false},
      {"l_m", &F::l_m, Range::positive, false},
      {"w_min_m", &F::w_min_m, Range::positive, false},
      {"floor_a", &F::floor_a, Range::positive},
      {"floor_p_a", &F::floor_p_a, Range::positive},
      {"thermal_v", &F::thermal_v, Range::positive},
      {"cell_q_up_c", &F::cell_q_up_c},
      {"cell_q_down_c", &F::cell_q_down_c},
      {"cell_out_cap_f", &F::cell_out_cap_f},
      {"mirror_slope_n", &F::mirror_slope_n, Range::any},  // gain errors have either sign
      {"mirror_slope_p", &F::mirror_slope_p, Range::any},
      {"mirror_slope_pline", &F::mirror_slope_pline, Range::any},
      {"mirror_ref_a", &F::mirror_ref_a, Range::positive}};
  return fields;
}

}  // namespace

std::string ct_facts_to_json(const models::CtFacts& f) {
  nlohmann::json j = nlohmann::json::object();
  for (const CtField& c : ct_fields()) j[c.name] = f.*c.value;
  return j.dump();
}

models::CtFacts ct_facts_from_json(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  models::CtFacts f;
  for (const CtField& c : ct_fields()) f.*c.value = j.at(c.name).get<double>();
  return f;
}

void update_ct_facts(models::CtFacts& f, const std::string& json_text, const std::string& file) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("ct facts '" + file + "' is not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw InputError("ct facts '" + file + "' must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    const auto& fields = ct_fields();
    const auto at =
        std::find_if(fields.begin(), fields.end(), [&](const CtField& c) { return key == c.name; });
    if (at == fields.end()) {
      std::string known;
      for (const CtField& c : fields) known += std::string(" ") + c.name;
      throw InputError("ct facts '" + file + "': unknown field '" + key + "' (fields:" + known +
                       ")");
    }
    const double v = value.is_number() ? value.get<double>() : std::nan("");
    const bool ok = std::isfinite(v) &&
                    (at->range == Range::any || (at->range == Range::positive ? v > 0 : v >= 0));
    if (!ok)
      throw InputError("ct facts '" + file + "': " + key + " must be a " +
                       (at->range == Range::any        ? "finite"
                        : at->range == Range::positive ? "positive"
                                                       : "non-negative") +
                       " number");
    f.*at->value = value.get<double>();
  }
}

std::string ct_die_to_json(const models::CtDie& d) {
  return nlohmann::json{{"copy", d.copy},       {"bias", d.bias},       {"cell_ith", d.cell_ith},
                        {"cell_iw", d.cell_iw}, {"cell_ig", d.cell_ig}, {"cell_in", d.cell_in}}
      .dump();
}

models::CtDie ct_die_from_json(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  models::CtDie d;
  for (auto [name, v] : {std::pair{"copy", &d.copy},
                         {"bias", &d.bias},
                         {"cell_ith", &d.cell_ith},
                         {"cell_iw", &d.cell_iw},
                         {"cell_ig", &d.cell_ig},
                         {"cell_in", &d.cell_in}})
    *v = j.at(name).get<std::vector<double>>();
  return d;
}

std::vector<core::Attr> ct_facts_attrs(const models::CtFacts& f) {
  std::vector<core::Attr> out;
  for (const CtField& c : ct_fields())
    if (c.in_config) out.push_back({std::string("ct_") + c.name, f.*c.value});
  return out;
}

namespace {

// Lane b's rows of a batch frame [B rows] as a frame of one sequence.
core::Frame lane_frame(const core::Frame& f, core::Index b) {
  core::Frame out;
  for (const auto& layer : f.layers)
    out.layers.push_back({layer.candidate.row(b), layer.state.row(b), layer.output.row(b)});
  out.logits = f.logits.row(b);
  return out;
}

// The die of the generated netlist for this network and mismatch seed (the program's own Pelgrom
// draws, on a technology where the program draws them), and the network as that circuit realises
// it: ct under mismatch is the SPICE netlist's die.
std::pair<core::Network, models::CtDie> circuit_die(const FidelityOptions& o,
                                                    const core::Network& net,
                                                    const pdk::Technology& tech,
                                                    const CalibrationReply& cal) {
  const models::CircuitModel circuit =
      models::build_circuit(net, tech, circuit_options(cal, o, o.tech.conditions));
  return {circuit.network, models::die_factors(circuit.draws, cal.ct->slope_v)};
}

}  // namespace

FidelityResult run_sw_ct(const FidelityOptions& o,
                         const std::function<void(long long, long long)>& progress) {
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  const core::Network net = load_network(o.model, o.unit_current_a);
  if (o.inputs) core::check_input_features(net, *o.inputs);
  auto source = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                         : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
  const core::Index S = source->sequences(), N = source->frames();
  const auto tech = pdk::open_technology(o.tech.pdk, o.tech.pdk_path);
  check_supply(*tech, o.tech.conditions.vdd_v);
  if (o.mismatch_seed && !tech->program_mismatch())  // refused before any simulation
    throw InputError(
        "--mismatch-seed with --engines sw,ct: ct draws the netlist's mismatch on "
        "technologies whose mismatch this program draws (generic180); " +
        tech->name() + "'s models draw their own inside ngspice (run with hw)");
  const core::TraceShape shape{S, N, net.n_in(), net.d(), net.n_layers(), net.n_out()};
  check_output_size(o.out, core::estimate_run_bytes(shape, 2, 0), o.max_output_gb);
  const auto x = core::read_all(*source);
  check_input_currents(x, net.unit_current_a, o.inputs ? o.inputs->string() : "the random inputs");
  // Characterized on the technology in a worker (ngspice never runs in this process).
  spice::WorkerPool pool(o.binary, 1);
  const CalibrationReply cal = request_calibration(pool, o, o.tech.conditions, true);
  models::CtFacts facts = *cal.ct;
  if (o.ct_overrides) update_ct_facts(facts, o.ct_overrides->second, o.ct_overrides->first);

  // ct models the circuit, so it runs the network as the circuit realises it; under mismatch, as
  // the generated netlist of that seed realises it, on that netlist's die.
  std::vector<models::ParameterChange> realised;
  core::Network ct_net = models::realise(net, models::RealisableRange{}, realised);
  models::CtDie die;
  if (o.mismatch_seed) {
    auto [circuit_net, d] = circuit_die(o, net, *tech, cal);
    ct_net = std::move(circuit_net);
    die = std::move(d);
  }
  core::RunFile file(o.out, {kToolVersion, o.command_line});
  std::vector<core::Attr> config{{"engines", std::string("sw,ct")},
                                 {"pdk", o.tech.pdk},
                                 {"cell", std::string(o.leak ? "leaky" : "bmru")},
                                 {"leak", o.leak.value_or(std::nan(""))}};
  for (const auto& a : run_axis_config(o, net.unit_current_a, source->describe()))
    config.push_back(a);
  config.push_back({"mismatch_seed", o.mismatch_seed ? static_cast<std::int64_t>(*o.mismatch_seed)
                                                     : std::int64_t{-1}});
  config.push_back({"ct_lanes", static_cast<std::int64_t>(std::min(S, kCtLanes))});
  for (const auto& a : ct_facts_attrs(facts)) config.push_back(a);
  file.write_config(config);
  file.write_model(net);
  file.write_table("realisation", change_table(realised));
  core::InputsWriter inputs = file.add_inputs(shape);
  LockstepSinks sinks(file, net, shape, false, true);
  FidelityResult result;
  double ct_s = 0;
  // The sequences run as lanes of one ct engine, kCtLanes at a time; the discrete model follows
  // each lane (resync: from ct's sampled states).
  for (core::Index s0 = 0; s0 < S; s0 += kCtLanes) {
    const core::Index B = std::min(kCtLanes, S - s0);
    models::ContinuousEngine engine(ct_net, facts, o.axis);
    if (!die.nominal()) engine.set_dies({die});
    if (o.leak) engine.set_leaky(*o.leak);
    core::Matrix xk(B, net.n_in());
    const auto frame_inputs = [&](core::Index k) {
      for (core::Index b = 0; b < B; ++b) xk.row(b) = x[static_cast<size_t>(s0 + b)].row(k);
    };
    frame_inputs(0);
    // --noise: the same samples as a SPICE run of these sequences (from the operating point on).
    std::vector<std::vector<core::NoiseTrack>> noise;
    const auto noise_at = o.noise_all_lines ? models::ContinuousEngine::NoiseAt::lines
                                            : models::ContinuousEngine::NoiseAt::candidates;
    for (core::Index b = 0; b < B && o.noise.active(); ++b) {
      noise.push_back(noise_tracks(o.noise, noise_at, net, ct_net, x[static_cast<size_t>(s0 + b)],
                                   o.axis, static_cast<std::uint64_t>(s0 + b)));
      engine.set_noise(b, noise.back(), noise_at);
    }
    engine.reset(xk);
    std::vector<Followers> sw;
    for (core::Index b = 0; b < B; ++b)
      sw.emplace_back(net, o.mode, std::nullopt, o.axis, xk.row(b));
    for (core::Index b = 0; b < B && o.noise.active(); ++b)  // sw has no lines to take them
      sw[static_cast<size_t>(b)].set_noise(noise[static_cast<size_t>(b)], noise_at);
    for (auto& f : sw)
      if (o.leak) f.set_leaky(*o.leak);
    std::vector<std::vector<core::Matrix>> leader(
        static_cast<size_t>(B), std::vector<core::Matrix>(static_cast<size_t>(net.n_layers())));
    core::Frame ct;
    std::vector<core::Matrix> bx;  // inputs of the frames not yet written, [B, n_in] each
    core::Index k0 = 0;
    for (core::Index k = 0; k < N; ++k) {
      frame_inputs(k);
      bx.push_back(xk);
      if (static_cast<core::Index>(bx.size()) >= sinks.block() || k + 1 == N) {
        inputs.write_block(s0, k0, bx);
        k0 += static_cast<core::Index>(bx.size());
        bx.clear();
      }
      const auto t0 = Clock::now();
      engine.step(xk, ct);
      ct_s += std::chrono::duration<double>(Clock::now() - t0).count();
      for (core::Index b = 0; b < B; ++b) {
        const auto bi = static_cast<size_t>(b);
        LockstepFrame f;
        f.ct = lane_frame(ct, b);
        sw[bi].step(k, xk.row(b), leader[bi]);
        for (size_t l = 0; l < leader[bi].size(); ++l) leader[bi][l] = f.ct->layers[l].state;
        f.sw = std::move(sw[bi].sw);
        f.ct_crossings = crossing_rows(engine, b);
        sinks.add(s0 + b, k, std::move(f));
      }
      if (progress) progress(s0 * N + (k + 1) * B, S * N);
    }
    for (core::Index b = 0; b < B; ++b) sinks.end_sequence(s0 + b, true);
  }
  const LockstepMetrics m = sinks.finish();
  result.metrics = m.metrics;
  result.sequence_ok.assign(static_cast<size_t>(S), true);
  result.realised = realised;
  result.ct_vs_sw = result.metrics;
  result.ct_wall_s = ct_s;
  result.simulated_s = o.axis.stop_time(N) * static_cast<double>(S);
  file.write_metrics("metrics", result.metrics,
                     {{"pair", std::string("ct_vs_sw")},
                      {"ct_wall_s", ct_s},
                      {"wall_s", std::chrono::duration<double>(Clock::now() - t_start).count()}});
  file.commit();
  result.wall_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  return result;
}

}  // namespace bmru::experiments
