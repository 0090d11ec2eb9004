#pragma once
// Calibration of the circuit model against ngspice: the characterization sweeps that fill
// models::CellCalibration, and their cache (DESIGN.md section 8): under
// $XDG_CACHE_HOME/bmru-cosim (default ~/.cache/bmru-cosim), keyed by technology, corner,
// temperature, supply, ngspice version and tool version, written atomically; a stale or corrupt
// file is rebuilt, never trusted.
#include <filesystem>
#include <functional>
#include <string>

#include "models/cell_calibration.hpp"
#include "pdk/technology.hpp"
#include "spice/session.hpp"

namespace bmru::experiments {

std::filesystem::path cache_dir();

// Runs the grid of cell sweeps (about 100 DC sweeps). `progress(done, total)` is optional.
models::CellCalibration calibrate_cell(spice::Session& session, const pdk::Technology& tech,
                                       const pdk::Conditions& conditions,
                                       const std::function<void(int, int)>& progress = {});

struct CachedCalibration {
  models::CellCalibration cell;
  std::filesystem::path file;
  bool from_cache = false;
  double build_s = 0;  // wall time of the characterization when it ran
};

// The cached calibration for these conditions, built (and cached) when missing or stale.
CachedCalibration cell_calibration(spice::Session& session, const pdk::Technology& tech,
                                   const pdk::Conditions& conditions,
                                   const std::function<void(int, int)>& progress = {});

}  // namespace bmru::experiments
