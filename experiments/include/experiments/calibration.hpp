#pragma once
// Calibration of the circuit model against ngspice: the characterization sweeps that fill
// models::CellCalibration, and their cache (DESIGN.md section 8): under
// $XDG_CACHE_HOME/bmru-cosim (default ~/.cache/bmru-cosim), keyed by technology, corner,
// temperature, supply, ngspice version and tool version, written atomically; a stale or corrupt
// file is rebuilt, never trusted.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/cell_calibration.hpp"
#include "models/mirror_circuit.hpp"
#include "pdk/technology.hpp"
#include "spice/session.hpp"

namespace bmru::experiments {

std::filesystem::path cache_dir();

// A small text cached under cache_dir() by its key (file <kind>-<digest of the key>.json, the key
// stored in it): the text, or nothing when missing, stale or unreadable (then rebuilt, never
// trusted). Written atomically; a cache that cannot be written is only a lost speed-up.
std::optional<std::string> read_cached(const std::string& kind, const std::string& key);
void write_cached(const std::string& kind, const std::string& key, const std::string& text);

// Runs the grid of cell sweeps (about 100 DC sweeps). `progress(done, total)` is optional.
models::CellCalibration calibrate_cell(spice::Session& session, const pdk::Technology& tech,
                                       const pdk::Conditions& conditions,
                                       const std::function<void(int, int)>& progress = {});

struct CachedCalibration {
  models::CellCalibration cell;
  std::filesystem::path file;
  bool from_cache = false;
  double build_s = 0;  // wall time of the characterization when it ran
  std::vector<std::string>
      notes;  // what the caller should tell the user (a cache rebuilt or not written)
};

// The cached calibration for these conditions, built (and cached) when missing or stale.
CachedCalibration cell_calibration(spice::Session& session, const pdk::Technology& tech,
                                   const pdk::Conditions& conditions,
                                   const std::function<void(int, int)>& progress = {});

// The cell and mirror tables as JSON text (cache files, worker replies), and back.
std::string tables_to_json(const models::CellCalibration& cell,
                           const models::MirrorCalibration& mirror);
void tables_from_json(const std::string& text, models::CellCalibration& cell,
                      models::MirrorCalibration& mirror);

// Weight mirrors: the gain I_out / I_in at each width ratio and input current (one operating point
// of a bench of independent mirrors), [ratio][current].
struct MirrorTable {
  std::vector<double> ratio;
  std::vector<double> input_a;
  std::vector<std::vector<double>> gain;
};
MirrorTable measure_mirrors(spice::Session& session, const pdk::Technology& tech,
                            const pdk::Conditions& conditions, pdk::Polarity polarity,
                            const std::vector<double>& ratios, const std::vector<double>& inputs_a,
                            models::Destination dest = models::Destination::nmos_diode,
                            const models::MirrorSizes& sizes = {});

// The input currents the weight-to-width calibration averages a mirror's gain over.
const std::vector<double>& mirror_calibration_inputs_a();

// The weight-to-width calibration (gain averaged over 0.1-3 nA at each ratio of a grid).
models::MirrorCalibration calibrate_mirrors(spice::Session& session, const pdk::Technology& tech,
                                            const pdk::Conditions& conditions);

}  // namespace bmru::experiments
