// `bmru fidelity --engines sw,ct`: the discrete and the continuous-time models over the same
// sequences, in this process (no SPICE, no workers).
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/run_file.hpp"
#include "core/stimuli.hpp"
#include "core/vote.hpp"
#include "experiments/fidelity.hpp"
#include "experiments/simulate.hpp"
#include "models/reference_engine.hpp"
#include "spice/pool.hpp"
#include "version.hpp"

namespace bmru::experiments {

std::string ct_facts_to_json(const models::CtFacts& f) {
  return nlohmann::json{{"slope_v", f.slope_v}, {"cap_per_area_f_m2", f.cap_per_area_f_m2},
          {"cap_per_area_p_f_m2", f.cap_per_area_p_f_m2}, {"w_ref_m", f.w_ref_m},
          {"l_m", f.l_m}, {"floor_a", f.floor_a}, {"cell_q_up_c", f.cell_q_up_c},
          {"cell_q_down_c", f.cell_q_down_c}, {"cell_out_cap_f", f.cell_out_cap_f},
          {"mirror_slope_n", f.mirror_slope_n}, {"mirror_slope_p", f.mirror_slope_p},
          {"mirror_slope_pline", f.mirror_slope_pline}, {"mirror_ref_a", f.mirror_ref_a}}
      .dump();
}

models::CtFacts ct_facts_from_json(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  models::CtFacts f;
  f.slope_v = j.at("slope_v");
  f.cap_per_area_f_m2 = j.at("cap_per_area_f_m2");
  f.cap_per_area_p_f_m2 = j.at("cap_per_area_p_f_m2");
  f.w_ref_m = j.at("w_ref_m");
  f.l_m = j.at("l_m");
  f.floor_a = j.at("floor_a");
  f.cell_q_up_c = j.at("cell_q_up_c");
  f.cell_q_down_c = j.at("cell_q_down_c");
  f.cell_out_cap_f = j.at("cell_out_cap_f");
  f.mirror_slope_n = j.at("mirror_slope_n");
  f.mirror_slope_p = j.at("mirror_slope_p");
  f.mirror_slope_pline = j.at("mirror_slope_pline");
  f.mirror_ref_a = j.at("mirror_ref_a");
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
  const std::map<std::string, double*> fields{{"slope_v", &f.slope_v},          {"cap_per_area_f_m2", &f.cap_per_area_f_m2},
                                              {"cap_per_area_p_f_m2", &f.cap_per_area_p_f_m2},
                                              {"w_ref_m", &f.w_ref_m},          {"l_m", &f.l_m},
                                              {"floor_a", &f.floor_a},          {"cell_q_up_c", &f.cell_q_up_c},
                                              {"cell_q_down_c", &f.cell_q_down_c}, {"cell_out_cap_f", &f.cell_out_cap_f},
                                              {"mirror_slope_n", &f.mirror_slope_n}, {"mirror_slope_p", &f.mirror_slope_p},
                                              {"mirror_slope_pline", &f.mirror_slope_pline}, {"mirror_ref_a", &f.mirror_ref_a}};
  for (const auto& [key, value] : j.items()) {
    const auto at = fields.find(key);
    if (at == fields.end()) {
      std::string known;
      for (const auto& [name, ignored] : fields) known += " " + name;
      throw InputError("ct facts '" + file + "': unknown field '" + key + "' (fields:" + known + ")");
    }
    const bool is_slope = key.rfind("mirror_slope_", 0) == 0;  // gain errors have either sign
    if (!value.is_number() || !std::isfinite(value.get<double>()) || (!is_slope && !(value.get<double>() >= 0)))
      throw InputError("ct facts '" + file + "': " + key + " must be a " + (is_slope ? "finite" : "non-negative") +
                       " number");
    *at->second = value.get<double>();
  }
}

std::vector<core::Attr> ct_facts_attrs(const models::CtFacts& f) {
  return {{"ct_slope_v", f.slope_v},          {"ct_cap_per_area_f_m2", f.cap_per_area_f_m2},
          {"ct_cap_per_area_p_f_m2", f.cap_per_area_p_f_m2},
          {"ct_floor_a", f.floor_a},          {"ct_cell_q_up_c", f.cell_q_up_c},
          {"ct_cell_q_down_c", f.cell_q_down_c}, {"ct_cell_out_cap_f", f.cell_out_cap_f},
          {"ct_mirror_slope_n", f.mirror_slope_n}, {"ct_mirror_slope_p", f.mirror_slope_p},
          {"ct_mirror_slope_pline", f.mirror_slope_pline}, {"ct_mirror_ref_a", f.mirror_ref_a}};
}

FidelityResult run_sw_ct(const FidelityOptions& o, const std::function<void(long long, long long)>& progress) {
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  const core::Network net = load_network(o.model, o.unit_current_a);
  auto source = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                         : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
  const core::Index S = source->sequences(), N = source->frames();
  const auto x = core::read_all(*source);
  // Characterized on the technology in a worker (ngspice never runs in this process).
  spice::WorkerPool pool(o.binary, 1);
  models::CtFacts facts = *request_calibration(pool, o, o.tech.conditions, true).ct;
  if (o.ct_overrides) update_ct_facts(facts, o.ct_overrides->second, o.ct_overrides->first);

  core::RunFile file(o.out, {kToolVersion, o.command_line});
  std::vector<core::Attr> config{{"engines", std::string("sw,ct")},
                                 {"pdk", o.tech.pdk},
                                 {"corner", o.tech.conditions.corner},
                                 {"temperature", o.tech.conditions.temperature_c},
                                 {"vdd", o.tech.conditions.vdd_v},
                                 {"frame_period", o.axis.period_s},
                                 {"ramp", o.axis.ramp_s},
                                 {"sample_phase", o.axis.sample_phase},
                                 {"unit_current", net.unit_current_a},
                                 {"mode", std::string(o.mode == Mode::free ? "free" : "resync")},
                                 {"inputs", source->describe()},
                                 {"input_seed", o.inputs ? std::int64_t{-1} : static_cast<std::int64_t>(o.seed)}};
  for (const auto& a : ct_facts_attrs(facts)) config.push_back(a);
  file.write_config(config);
  file.write_model(net);
  const core::TraceShape shape{S, N, net.n_in(), net.d(), net.n_layers(), net.n_out()};
  core::InputsWriter inputs = file.add_inputs(shape);
  core::TraceWriter sw = file.add_traces("sw", shape, "model units");
  core::TraceWriter ct = file.add_traces("ct", shape, "model units");
  core::Comparator comparator(net, S);
  FidelityResult result;
  std::vector<core::Decision> ct_dec, sw_dec;
  const core::Index block = sw.preferred_block();
  double ct_s = 0;
  for (core::Index s = 0; s < S; ++s) {
    const core::Matrix& xs = x[static_cast<size_t>(s)];
    models::ReferenceEngine ref(net);
    ref.reset(1);
    models::ContinuousEngine engine(net, facts, o.axis);
    engine.reset(xs.row(0));
    core::VoteCounter cv(net.n_out()), sv(net.n_out());
    std::vector<core::Frame> bc, bs;
    core::Frame prev;
    std::vector<core::Matrix> bx;
    core::Index k0 = 0;
    for (core::Index k = 0; k < N; ++k) {
      core::Frame c, w;
      const auto t0 = Clock::now();
      engine.step(xs.row(k), c);
      ct_s += std::chrono::duration<double>(Clock::now() - t0).count();
      if (o.mode == Mode::resync && k > 0)
        for (core::Index l = 0; l < net.n_layers(); ++l) {
          // Software state h_{k-1} := the ct state sampled at k-1.
          const auto alpha = core::cell_constants(net.layers[static_cast<size_t>(l)]).alpha;
          core::Matrix h(1, net.d());
          for (core::Index i = 0; i < net.d(); ++i)
            h(0, i) = prev.layers[static_cast<size_t>(l)].state(0, i) > alpha(i) / 2 ? alpha(i) : 0.0;
          ref.set_state(l, h);
        }
      ref.step(xs.row(k), w);
      comparator.add(s, k, c, w);
      std::vector<std::vector<core::Crossings>> cr(static_cast<size_t>(net.n_layers()));
      for (size_t l = 0; l < cr.size(); ++l)
        for (const auto& q : engine.crossings()[l]) cr[l].push_back({static_cast<core::Index>(q.count), q.first_s});
      comparator.add_crossings(s, k, cr);
      cv.add(c.logits.row(0));
      sv.add(w.logits.row(0));
      prev = c;
      bc.push_back(std::move(c));
      bs.push_back(std::move(w));
      bx.push_back(xs.row(k));
      if (static_cast<core::Index>(bc.size()) >= block || k + 1 == N) {
        ct.write_block(s, k0, bc);
        sw.write_block(s, k0, bs);
        inputs.write_block(s, k0, bx);
        k0 += static_cast<core::Index>(bc.size());
        bc.clear();
        bs.clear();
        bx.clear();
      }
      if (progress) progress(s * N + k + 1, S * N);
    }
    ct_dec.push_back(cv.result());
    sw_dec.push_back(sv.result());
    comparator.set_decisions(s, ct_dec.back(), sw_dec.back());
  }
  ct.write_decisions(ct_dec);
  sw.write_decisions(sw_dec);
  result.metrics = comparator.result();
  result.ct_vs_sw = result.metrics;
  result.ct_wall_s = ct_s;
  result.simulated_s = o.axis.stop_time(N) * static_cast<double>(S);
  file.write_metrics("metrics", result.metrics,
                     {{"pair", std::string("ct_vs_sw")}, {"ct_wall_s", ct_s},
                      {"wall_s", std::chrono::duration<double>(Clock::now() - t_start).count()}});
  file.commit();
  result.wall_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  return result;
}

}  // namespace bmru::experiments
