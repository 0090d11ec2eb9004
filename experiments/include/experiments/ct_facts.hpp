#pragma once
// The continuous-time model's characterization data (models::CtFacts), measured on a technology
// and corner through ngspice: the effective capacitance per area of a mirror line and the
// switching charges of a cell. About a second of simulation.
#include "models/cell_calibration.hpp"
#include "models/continuous_engine.hpp"
#include "models/mirror_circuit.hpp"
#include "pdk/technology.hpp"
#include "spice/session.hpp"

namespace bmru::experiments {

models::CtFacts characterize_ct(spice::Session& session, const pdk::Technology& tech, const pdk::Conditions& conditions,
                                const models::CellCalibration& cell, const models::MirrorSizes& sizes = {});

}  // namespace bmru::experiments
