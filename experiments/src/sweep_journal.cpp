#include "sweep_journal.hpp"

#include "options_json.hpp"

#include <cmath>
#include <fstream>
#include <type_traits>
#include <variant>

#include "core/atomic_file.hpp"
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
      {"ct_sw_state_agreement", &R::ct_sw_state_agreement},
      {"sw_accuracy", &R::sw_accuracy},
      {"ct_accuracy", &R::ct_accuracy},
      {"hw_accuracy", &R::hw_accuracy},
      {"energy_per_inference_j", &R::energy_per_inference_j},
      {"suppression_factor", &R::suppression_factor},
      {"suppression_is_bound", &R::suppression_is_bound}};
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
          if (!j.contains(f.name)) {  // a field newer than the row: NaN, -1 or empty
            if constexpr (std::is_same_v<T, double>)
              r.*member = std::nan("");
            else if constexpr (std::is_same_v<T, std::int64_t>)
              r.*member = -1;
            return;
          }
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

void stamp_journal(const fs::path& journal, const json& print, const char* name) {
  const fs::path stamp = journal / name;
  if (const auto old = read_json(stamp)) {
    std::string diff;
    for (const auto& [key, value] : print.items())
      if (!old->contains(key) || (*old)[key] != value)
        diff += "\n  " + key + ": journal " + (old->contains(key) ? (*old)[key].dump() : "(none)") +
                ", now " + value.dump();
    if (!diff.empty())
      throw InputError("The journal '" + journal.string() +
                       "' holds runs made with other options; resume "
                       "with the same options, or write to another --out:" +
                       diff);
  } else {
    core::write_text_atomically(stamp, print.dump(2));
  }
}

json fidelity_options_to_json(const FidelityOptions& o) {
  return o;
}

FidelityOptions fidelity_options_from_json(const json& j) {
  return j.get<FidelityOptions>();
}

}  // namespace bmru::experiments
