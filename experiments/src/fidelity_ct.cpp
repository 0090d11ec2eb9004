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
#include "pdk/registry.hpp"
#include "run_config.hpp"
#include "run_limits.hpp"

namespace bmru::experiments {

namespace {

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

std::vector<core::Attr> ct_facts_attrs(const models::CtFacts& f) {
  std::vector<core::Attr> out;
  for (const CtField& c : ct_fields())
    if (c.in_config) out.push_back({std::string("ct_") + c.name, f.*c.value});
  return out;
}

FidelityResult run_sw_ct(const FidelityOptions& o,
                         const std::function<void(long long, long long)>& progress) {
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  const core::Network net = load_network(o.model, o.unit_current_a);
  if (o.inputs) core::check_input_features(net, *o.inputs);
  auto source = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                         : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
  const core::Index S = source->sequences(), N = source->frames();
  check_supply(*pdk::open_technology(o.tech.pdk, o.tech.pdk_path), o.tech.conditions.vdd_v);
  const core::TraceShape shape{S, N, net.n_in(), net.d(), net.n_layers(), net.n_out()};
  check_output_size(o.out, core::estimate_run_bytes(shape, 2, 0), o.max_output_gb);
  const auto x = core::read_all(*source);
  check_input_currents(x, net.unit_current_a, o.inputs ? o.inputs->string() : "the random inputs");
  // Characterized on the technology in a worker (ngspice never runs in this process).
  spice::WorkerPool pool(o.binary, 1);
  models::CtFacts facts = *request_calibration(pool, o, o.tech.conditions, true).ct;
  if (o.ct_overrides) update_ct_facts(facts, o.ct_overrides->second, o.ct_overrides->first);

  core::RunFile file(o.out, {kToolVersion, o.command_line});
  std::vector<core::Attr> config{{"engines", std::string("sw,ct")}, {"pdk", o.tech.pdk}};
  for (const auto& a : run_axis_config(o, net.unit_current_a, source->describe()))
    config.push_back(a);
  for (const auto& a : ct_facts_attrs(facts)) config.push_back(a);
  file.write_config(config);
  file.write_model(net);
  // ct models the circuit, so it runs the network as the circuit realises it.
  std::vector<models::ParameterChange> realised;
  const core::Network ct_net = models::realise(net, models::RealisableRange{}, realised);
  file.write_table("realisation", change_table(realised));
  core::InputsWriter inputs = file.add_inputs(shape);
  LockstepSinks sinks(file, net, shape, false, true);
  FidelityResult result;
  const core::Index block = sinks.block();
  double ct_s = 0;
  for (core::Index s = 0; s < S; ++s) {
    const core::Matrix& xs = x[static_cast<size_t>(s)];
    // ct leads; the discrete model follows it (resync: from ct's sampled states).
    Followers sw(net, o.mode, std::nullopt, o.axis, xs.row(0));
    models::ContinuousEngine engine(ct_net, facts, o.axis);
    engine.reset(xs.row(0));
    std::vector<core::Matrix> leader(static_cast<size_t>(net.n_layers()));
    std::vector<core::Matrix> bx;
    core::Index k0 = 0;
    for (core::Index k = 0; k < N; ++k) {
      LockstepFrame f;
      f.ct.emplace();
      const auto t0 = Clock::now();
      engine.step(xs.row(k), *f.ct);
      ct_s += std::chrono::duration<double>(Clock::now() - t0).count();
      sw.step(k, xs.row(k), leader);
      for (size_t l = 0; l < leader.size(); ++l) leader[l] = f.ct->layers[l].state;
      f.sw = std::move(sw.sw);
      f.ct_crossings = crossing_rows(engine);
      sinks.add(s, k, std::move(f));
      bx.push_back(xs.row(k));
      if (static_cast<core::Index>(bx.size()) >= block || k + 1 == N) {
        inputs.write_block(s, k0, bx);
        k0 += static_cast<core::Index>(bx.size());
        bx.clear();
      }
      if (progress) progress(s * N + k + 1, S * N);
    }
    sinks.end_sequence(s, true);
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
