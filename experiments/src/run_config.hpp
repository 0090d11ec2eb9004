#pragma once
// What every fidelity run file records the same way, SPICE or models only: the time axis, mode and
// inputs in /config, and parameter changes as (parameter, requested, realised) tables.
#include <string>
#include <vector>

#include "core/run_file.hpp"
#include "experiments/fidelity.hpp"
#include "models/realisable_range.hpp"

namespace bmru::experiments {

// /config: corner, temperature, vdd, frame_period, ramp, sample_phase, unit_current, mode, inputs
// (the source's description) and input_seed.
std::vector<core::Attr> run_axis_config(const FidelityOptions& o, double unit_current_a,
                                        const std::string& inputs);

// (parameter, requested, realised) as a table (/realisation, /clamp).
std::vector<core::TableColumn> change_table(const std::vector<models::ParameterChange>& changes);

}  // namespace bmru::experiments
