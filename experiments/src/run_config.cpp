#include "run_config.hpp"

#include <cstdint>

namespace bmru::experiments {

std::vector<core::Attr> run_axis_config(const FidelityOptions& o, double unit_current_a,
                                        const std::string& inputs) {
  const pdk::Conditions& k = o.tech.conditions;
  return {{"corner", k.corner},
          {"temperature", k.temperature_c},
          {"vdd", k.vdd_v},
          {"frame_period", o.axis.period_s},
          {"ramp", o.axis.ramp_s},
          {"sample_phase", o.axis.sample_phase},
          {"unit_current", unit_current_a},
          {"mode", std::string(o.mode == Mode::free ? "free" : "resync")},
          {"inputs", inputs},
          {"input_seed", o.inputs ? std::int64_t{-1} : static_cast<std::int64_t>(o.seed)}};
}

std::vector<core::TableColumn> change_table(const std::vector<models::ParameterChange>& changes) {
  std::vector<core::TableColumn> t{{"parameter", {}}, {"requested", {}}, {"realised", {}}};
  for (const auto& c : changes) {
    t[0].values.emplace_back(c.parameter);
    t[1].values.emplace_back(c.requested);
    t[2].values.emplace_back(c.realised);
  }
  return t;
}

}  // namespace bmru::experiments
