#include "sweep_journal.hpp"

#include <cmath>
#include <fstream>
#include <type_traits>
#include <variant>

#include "core/errors.hpp"

namespace bmru::experiments {

using nlohmann::json;
namespace fs = std::filesystem;

const std::vector<SummaryField>& summary_fields() {
  using R = SummaryRow;
  static const std::vector<SummaryField> fields{
      {"id", &R::id},
      {"corner", &R::corner},
      {"temperature", &R::temperature},
      {"vdd", &R::vdd},
      {"mc_sample", &R::mc_sample},
      {"mismatch_seed", &R::mismatch_seed},
      {"status", &R::status},
      {"error", &R::error},
      {"wall_s", &R::wall_s},
      {"state_agreement", &R::state_agreement},
      {"decision_agreement", &R::decision_agreement},
      {"candidate_nrmse", &R::candidate_nrmse},
      {"logit_nrmse", &R::logit_nrmse},
      {"first_divergence", &R::first_divergence},
      {"failed_sequences", &R::failed_sequences},
      {"mean_power_w", &R::mean_power_w},
      {"hw_ct_state_agreement", &R::hw_ct_state_agreement},
      {"ct_sw_state_agreement", &R::ct_sw_state_agreement}};
  return fields;
}

json row_to_json(const SummaryRow& r) {
  json j = json::object();
  for (const auto& f : summary_fields())
    std::visit([&](auto member) { j[f.name] = r.*member; }, f.member);
  return j;
}

SummaryRow row_from_json(const json& j) {
  SummaryRow r;
  for (const auto& f : summary_fields())
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(r.*member)>;
          const auto& v = j.at(f.name);
          // JSON has no NaN: a metric that could not be computed is stored as null, read as NaN.
          if constexpr (std::is_same_v<T, double>)
            r.*member = v.is_null() ? std::nan("") : v.get<double>();
          else
            r.*member = v.get<T>();
        },
        f.member);
  return r;
}

std::vector<core::TableColumn> summary_columns(const std::vector<SummaryRow>& rows) {
  std::vector<core::TableColumn> columns;
  for (const auto& f : summary_fields()) {
    core::TableColumn c{f.name, {}};
    // One visit per column, then a loop of one kind (a variant built inside std::visit makes
    // GCC 12 warn of an uninitialized string).
    std::visit(
        [&](auto member) {
          for (const auto& r : rows) c.values.emplace_back(r.*member);
        },
        f.member);
    columns.push_back(std::move(c));
  }
  return columns;
}

std::optional<json> read_json(const fs::path& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    throw FileError(
        path.string(), "",
        std::string("is not valid JSON (") + e.what() + "); delete it to rerun that run");
  }
}

json point_to_json(const SweepPoint& p) {
  return {{"id", p.id},
          {"corner", p.corner},
          {"temperature", p.temperature_c},
          {"vdd", p.vdd_v},
          {"mc_sample", p.mc_sample},
          {"mismatch_seed", p.mismatch_seed ? json(*p.mismatch_seed) : json()}};
}

SweepPoint point_from_json(const json& j) {
  SweepPoint p;
  p.id = j.at("id");
  p.corner = j.at("corner");
  p.temperature_c = j.at("temperature");
  p.vdd_v = j.at("vdd");
  p.mc_sample = j.at("mc_sample");
  if (!j.at("mismatch_seed").is_null())
    p.mismatch_seed = j.at("mismatch_seed").get<std::uint64_t>();
  return p;
}

template <typename T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json();
}
template <typename T>
std::optional<T> opt_from(const json& j) {
  return j.is_null() ? std::nullopt : std::optional<T>(j.get<T>());
}

// Every field of a run's options, for a run made in another process.
json fidelity_options_to_json(const FidelityOptions& o) {
  const auto path = [](const std::optional<fs::path>& p) { return p ? json(p->string()) : json(); };
  json cal;
  if (o.calibration_conditions)
    cal = {o.calibration_conditions->corner, o.calibration_conditions->temperature_c,
           o.calibration_conditions->vdd_v};
  return {{"model", path(o.model)},
          {"inputs", path(o.inputs)},
          {"random_sequences", o.random_sequences},
          {"frames", o.frames},
          {"seed", o.seed},
          {"pdk", o.tech.pdk},
          {"pdk_path", path(o.tech.pdk_path)},
          {"corner", o.tech.conditions.corner},
          {"temperature", o.tech.conditions.temperature_c},
          {"vdd", o.tech.conditions.vdd_v},
          {"mismatch_seed", opt(o.mismatch_seed)},
          {"calibration", cal},
          {"mc_seed", opt(o.mc_seed)},
          {"mc_sample", o.mc_sample},
          {"unit_current", opt(o.unit_current_a)},
          {"axis", {o.axis.period_s, o.axis.ramp_s, o.axis.sample_phase}},
          {"resync", o.mode == Mode::resync},
          {"hw", o.hw},
          {"ct", o.ct},
          {"ct_overrides",
           o.ct_overrides ? json{o.ct_overrides->first, o.ct_overrides->second} : json()},
          {"waveform_points", o.waveform_points},
          {"tmax", opt(o.tran_max_step_s)},
          {"reltol", opt(o.reltol)},
          {"abstol", opt(o.abstol)},
          {"trtol", opt(o.trtol)},
          {"jobs", o.jobs},
          {"out", o.out.string()},
          {"binary", o.binary.string()},
          {"command_line", o.command_line}};
}

FidelityOptions fidelity_options_from_json(const json& j) {
  FidelityOptions o;
  const auto path = [](const json& v) {
    return v.is_null() ? std::nullopt : std::optional<fs::path>(v.get<std::string>());
  };
  o.model = path(j.at("model"));
  o.inputs = path(j.at("inputs"));
  o.random_sequences = j.at("random_sequences");
  o.frames = j.at("frames");
  o.seed = j.at("seed");
  o.tech.pdk = j.at("pdk");
  o.tech.pdk_path = path(j.at("pdk_path"));
  o.tech.conditions = {j.at("corner"), j.at("temperature"), j.at("vdd"), false};
  o.mismatch_seed = opt_from<std::uint64_t>(j.at("mismatch_seed"));
  if (const json& c = j.at("calibration"); !c.is_null())
    o.calibration_conditions = pdk::Conditions{c.at(0), c.at(1), c.at(2), false};
  o.mc_seed = opt_from<std::uint64_t>(j.at("mc_seed"));
  o.mc_sample = j.at("mc_sample");
  o.unit_current_a = opt_from<double>(j.at("unit_current"));
  o.axis = {j.at("axis").at(0), j.at("axis").at(1), j.at("axis").at(2)};
  o.mode = j.at("resync").get<bool>() ? Mode::resync : Mode::free;
  o.hw = j.at("hw");
  o.ct = j.at("ct");
  if (const json& c = j.at("ct_overrides"); !c.is_null()) o.ct_overrides = {{c.at(0), c.at(1)}};
  o.waveform_points = j.at("waveform_points");
  o.tran_max_step_s = opt_from<double>(j.at("tmax"));
  o.reltol = opt_from<double>(j.at("reltol"));
  o.abstol = opt_from<double>(j.at("abstol"));
  o.trtol = opt_from<double>(j.at("trtol"));
  o.jobs = j.at("jobs");
  o.out = j.at("out").get<std::string>();
  o.binary = j.at("binary").get<std::string>();
  o.command_line = j.at("command_line");
  return o;
}

}  // namespace bmru::experiments
