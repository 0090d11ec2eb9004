#include "experiments/calibration.hpp"

#include "core/atomic_file.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "experiments/characterize.hpp"
#include "version.hpp"

namespace bmru::experiments {
namespace {

using nlohmann::json;

// The grid: I_thresh and I_gain from 70 pA to 6 nA (around the realisable 100 pA - 5 nA), and
// I_width as fractions of I_thresh.
std::vector<double> current_grid() {
  std::vector<double> g;
  const int n = 12;
  for (int i = 0; i < n; ++i) g.push_back(70e-12 * std::pow(6e-9 / 70e-12, i / double(n - 1)));
  return g;
}
// Above 0.9 the band nears beta_hi (97 % at 0.95, 99 % at 0.97 for I_thresh = 1 nA): the cell
// latches there at small I_thresh (its switch-down point would lie below the leakage floor), and
// the table records 0 for "latches" (issue 14).
const std::vector<double> kFractions{0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9, 0.95, 0.97};
constexpr double kLevelFraction = 0.9;  // the switch-up point and on-level are read here

std::string key_of(const pdk::Technology& t, const pdk::Conditions& c, const std::string& ngspice) {
  using core::format_number;
  // The bench text covers the cell circuit, its sizes and the technology's models for these
  // conditions: any change to them makes a new key.
  const std::string bench = models::cell_bench(t, c, {1e-9, 1e-9, 1e-9});
  std::string grid;
  for (double v : current_grid()) grid += format_number(v) + ",";
  for (double v : kFractions) grid += format_number(v) + ",";
  return "cell|" + core::sha256_hex(bench + grid) + "|" + t.name() + "|" + t.location() + "|" +
         c.corner + "|" + format_number(c.temperature_c) + "|" + format_number(c.vdd_v) +
         "|ngspice " + ngspice + "|bmru " + kToolVersion;
}

}  // namespace
}  // namespace bmru::experiments

namespace bmru::models {
// The mirror tables as worker replies carry them (field names as in MirrorCalibration).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MirrorCalibration, ratio, gain_n, gain_p, gain_n_high,
                                   gain_p_high, bias_ref_a, bias_gain_n, bias_gain_p,
                                   bias_gain_n_high, bias_gain_p_high)
}  // namespace bmru::models

namespace bmru::experiments {
namespace {

json to_json(const models::CellCalibration& c) {
  return {{"ithresh", c.ithresh_a}, {"up", c.up_a},       {"fraction", c.fraction},
          {"width", c.width_a},     {"igain", c.igain_a}, {"on", c.on_a}};
}

models::CellCalibration from_json(const json& j) {
  models::CellCalibration c;
  j.at("ithresh").get_to(c.ithresh_a);
  j.at("up").get_to(c.up_a);
  j.at("fraction").get_to(c.fraction);
  j.at("width").get_to(c.width_a);
  j.at("igain").get_to(c.igain_a);
  j.at("on").get_to(c.on_a);
  c.check();
  return c;
}

}  // namespace

std::string tables_to_json(const models::CellCalibration& cell,
                           const models::MirrorCalibration& m) {
  return json{{"cell", to_json(cell)}, {"mirror", m}}.dump();
}

void tables_from_json(const std::string& text, models::CellCalibration& cell,
                      models::MirrorCalibration& m) {
  const json j = json::parse(text);
  cell = from_json(j.at("cell"));
  j.at("mirror").get_to(m);
}

std::filesystem::path cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "bmru-cosim";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "/tmp") / ".cache" / "bmru-cosim";
}

namespace {
std::filesystem::path cached_file(const std::string& kind, const std::string& key) {
  return cache_dir() / (kind + "-" + core::sha256_hex(key).substr(0, 32) + ".json");
}
}  // namespace

std::optional<std::string> read_cached(const std::string& kind, const std::string& key) {
  std::ifstream in(cached_file(kind, key));
  if (!in) return std::nullopt;
  try {
    const json j = json::parse(in);
    if (j.at("key").get<std::string>() == key) return j.at("text").get<std::string>();
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

void write_cached(const std::string& kind, const std::string& key, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(cache_dir(), ec);
  try {
    core::write_text_atomically(cached_file(kind, key), json{{"key", key}, {"text", text}}.dump(1),
                                ".tmp" + std::to_string(getpid()));
  } catch (const Error&) {
  }
}

models::CellCalibration calibrate_cell(spice::Session& session, const pdk::Technology& tech,
                                       const pdk::Conditions& conditions,
                                       const std::function<void(int, int)>& progress) {
  models::CellCalibration c;
  c.ithresh_a = current_grid();
  c.igain_a = current_grid();
  c.fraction = kFractions;
  const int total = static_cast<int>(c.ithresh_a.size() * c.fraction.size());
  int done = 0;
  for (const double ith : c.ithresh_a) {
    std::vector<double> widths;
    double up = 0, on = 0;
    for (const double f : c.fraction) {
      const models::CellBias bias{ith, f * ith, ith};
      const CellMeasurement m =
          measure_cell(session, tech, conditions, bias, 1.3 * ith + 20e-12, 2000, nullptr, true);
      // A latched cell never switches down: its output stays on over the whole sweep, or down to
      // zero candidate.
      const bool latched = m.off_floor_a > 0.5 * m.on_level_a || std::isnan(m.switch_down_a);
      widths.push_back(latched ? 0.0 : m.switch_up_a - m.switch_down_a);
      if (f == kLevelFraction) {
        up = m.switch_up_a;
        on = m.on_level_a;
      }
      if (progress) progress(++done, total);
    }
    c.up_a.push_back(up);
    c.on_a.push_back(on);
    c.width_a.push_back(widths);
  }
  c.check();
  return c;
}

CachedCalibration cell_calibration(spice::Session& session, const pdk::Technology& tech,
                                   const pdk::Conditions& conditions,
                                   const std::function<void(int, int)>& progress) {
  const std::string key = key_of(tech, conditions, session.version());
  CachedCalibration out;
  const auto dir = cache_dir();
  // The file name is a stable digest of the key (std::hash may differ between builds).
  out.file = dir / ("cell-" + core::sha256_hex(key).substr(0, 32) + ".json");
  if (std::ifstream in(out.file); in) {
    try {
      const json j = json::parse(in);
      if (j.at("key").get<std::string>() == key) {
        out.cell = from_json(j.at("cell"));
        out.from_cache = true;
        return out;
      }
    } catch (const std::exception& e) {
      out.notes.push_back("the calibration cache " + out.file.string() + " was unreadable (" +
                          e.what() + "); it was rebuilt");
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  out.cell = calibrate_cell(session, tech, conditions, progress);
  out.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // Atomic: a temporary file in the same folder, then rename, so parallel workers never read half.
  try {
    core::write_text_atomically(out.file, json{{"key", key}, {"cell", to_json(out.cell)}}.dump(1),
                                ".tmp" + std::to_string(getpid()));
  } catch (const Error& e) {
    out.notes.push_back(std::string("the calibration could not be cached: ") + e.what());
  }
  return out;
}

MirrorTable measure_mirrors(spice::Session& session, const pdk::Technology& tech,
                            const pdk::Conditions& conditions, pdk::Polarity polarity,
                            const std::vector<double>& ratios, const std::vector<double>& inputs,
                            models::Destination dest, const models::MirrorSizes& sizes) {
  std::vector<models::MirrorPoint> points;
  for (double r : ratios)
    for (double i : inputs) points.push_back({r, i});
  spice::Circuit c =
      session.load(models::mirror_bench(tech, conditions, polarity, points, sizes, dest));
  c.analysis("op");
  MirrorTable t{ratios, inputs, {}};
  size_t k = 0;
  for (size_t a = 0; a < ratios.size(); ++a) {
    t.gain.emplace_back();
    for (size_t b = 0; b < inputs.size(); ++b, ++k) {
      std::string probe(1, 'e');
      probe += std::to_string(k);
      probe += "#branch";
      t.gain.back().push_back(std::abs(c.vector(probe).at(0)) / inputs[b]);
    }
  }
  return t;
}

const std::vector<double>& mirror_calibration_inputs_a() {
  static const std::vector<double> inputs{0.1e-9, 0.2e-9, 0.5e-9, 1e-9, 2e-9, 3e-9};
  return inputs;
}

namespace {
double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double g : v) sum += g;
  return sum / static_cast<double>(v.size());
}
}  // namespace

models::MirrorCalibration calibrate_mirrors(spice::Session& session, const pdk::Technology& tech,
                                            const pdk::Conditions& conditions) {
  using models::Destination;
  using pdk::Polarity;
  models::MirrorCalibration cal;
  // Three benches: the long copies below 0.055 (0.22 um on a 4 um reference, copy_geometry),
  // the core grid, and the widest. Each is its own operating point, so the core grid's gains do
  // not depend on what else is measured. Each polarity into both kinds of destination.
  const std::vector<std::vector<double>> benches{
      {0.009, 0.013, 0.018, 0.025, 0.035, 0.05},
      {0.08, 0.1, 0.13, 0.17, 0.22, 0.3, 0.4, 0.55, 0.75, 1.0, 1.35, 1.8, 2.4, 3.0, 3.6},
      {4.3, 5.0}};
  const std::vector<double>& inputs = mirror_calibration_inputs_a();
  const models::MirrorSizes sizes;
  for (auto ratios : benches) {
    // Only copies the technology can make (a long copy within its largest length).
    std::erase_if(ratios, [&](double r) {
      for (const Polarity pol : {Polarity::n, Polarity::p}) {
        const auto lim = tech.limits(pol);
        if (models::copy_geometry(sizes.w_ref_m * r, sizes, lim.w_min_m).l_m > lim.l_max_m)
          return true;
      }
      return false;
    });
    cal.ratio.insert(cal.ratio.end(), ratios.begin(), ratios.end());
    for (const Polarity pol : {Polarity::n, Polarity::p})
      for (const Destination dest : {Destination::nmos_diode, Destination::pmos_diode}) {
        const MirrorTable t = measure_mirrors(session, tech, conditions, pol, ratios, inputs, dest);
        for (const auto& row : t.gain) cal.gains(pol, dest).push_back(mean(row));
      }
  }
  // Bias mirrors: the narrow reference at bias currents from 5 pA to 5 nA (references 1/8 of it).
  cal.bias_ref_a = {0.3e-12, 1e-12, 3e-12, 10e-12, 30e-12, 100e-12, 300e-12, 1e-9};
  models::MirrorSizes bias_sizes = sizes;
  bias_sizes.w_ref_m = sizes.bias_ref_w_m();
  for (const Polarity pol : {Polarity::n, Polarity::p})
    for (const Destination dest : {Destination::nmos_diode, Destination::pmos_diode}) {
      cal.bias_gains(pol, dest) =
          measure_mirrors(session, tech, conditions, pol, {sizes.bias_ratio}, cal.bias_ref_a, dest,
                          bias_sizes)
              .gain.at(0);
    }
  return cal;
}

}  // namespace bmru::experiments
