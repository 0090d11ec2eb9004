#pragma once
// The continuous-time model's characterization data (models::CtFacts), measured on a technology
// and corner through ngspice: the effective capacitance per area of a mirror line, the floor of an
// idle line, the mirrors' gain error, and the switching charges of a cell (fitted against SPICE
// in a one-cell network built with `options`, whose conditions are the run's). A few seconds.
#include "models/circuit_model.hpp"
#include "models/continuous_engine.hpp"
#include "pdk/technology.hpp"
#include "spice/session.hpp"

namespace bmru::experiments {

models::CtFacts characterize_ct(spice::Session& session, const pdk::Technology& tech,
                                const models::CircuitOptions& options);

}  // namespace bmru::experiments
