#pragma once
// The JSON form of a run's options, for a run made in another process (the sweep hands each run
// to a child this way). One field list per type, through nlohmann's own macros: a field added to a
// type is added here once, and both directions follow.
#include <nlohmann/json.hpp>
#include <optional>

#include "core/noise.hpp"
#include "core/time_axis.hpp"
#include "core/vote.hpp"
#include "experiments/characterize.hpp"
#include "experiments/evaluate.hpp"
#include "experiments/fidelity.hpp"
#include "pdk/technology.hpp"

namespace nlohmann {
// std::optional as null or the value (nlohmann 3.11 has no conversion of its own).
template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v)
      j = *v;
    else
      j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& v) {
    if (j.is_null())
      v.reset();
    else
      v = j.get<T>();
  }
};
}  // namespace nlohmann

namespace bmru::pdk {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Conditions, corner, temperature_c, vdd_v, mismatch)
}  // namespace bmru::pdk

namespace bmru::core {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FrameAxis, period_s, ramp_s, sample_phase)
NLOHMANN_JSON_SERIALIZE_ENUM(NoiseSpec::Amplitude, {{NoiseSpec::Amplitude::none, "none"},
                                                    {NoiseSpec::Amplitude::shot, "shot"},
                                                    {NoiseSpec::Amplitude::rel, "rel"},
                                                    {NoiseSpec::Amplitude::abs, "abs"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NoiseSpec, amplitude, value, dt_s, corner_hz, seed)
NLOHMANN_JSON_SERIALIZE_ENUM(DecisionRule, {{DecisionRule::vote, "vote"},
                                            {DecisionRule::last, "last"},
                                            {DecisionRule::time_share, "time-share"}})
NLOHMANN_JSON_SERIALIZE_ENUM(TiePolicy, {{TiePolicy::none, "none"}, {TiePolicy::first, "first"}})
}  // namespace bmru::core

namespace bmru::experiments {
NLOHMANN_JSON_SERIALIZE_ENUM(Mode, {{Mode::free, "free"}, {Mode::resync, "resync"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TechnologyOptions, pdk, pdk_path, conditions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FidelityOptions, model, inputs, random_sequences, frames, seed,
                                   tech, mismatch_seed, calibration_conditions, mc_seed, mc_sample,
                                   unit_current_a, axis, mode, clamp, hw, ct, ct_overrides, noise,
                                   noise_half, noise_all_lines, leak, waveform_points,
                                   tran_max_step_s, reltol, abstol, trtol, user_netlist, user_ports,
                                   jobs, max_output_gb, out, binary, command_line)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EvaluateOptions, base, data, scheme, part, limit, decision, tie,
                                   chunk, retry_failed)
// The task part of an evaluation: its options without the run options (`base`), which travel as
// the run's own FidelityOptions.
inline nlohmann::json evaluate_task_to_json(const EvaluateOptions& o) {
  nlohmann::json j = o;
  j.erase("base");
  return j;
}
inline EvaluateOptions evaluate_from_json(nlohmann::json task, const FidelityOptions& base) {
  task["base"] = base;
  return task.get<EvaluateOptions>();
}
}  // namespace bmru::experiments
