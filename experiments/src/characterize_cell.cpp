#include <cmath>

#include "core/array_file.hpp"
#include "core/errors.hpp"
#include "core/units.hpp"
#include "experiments/calibration.hpp"
#include "experiments/characterize.hpp"
#include "pdk/registry.hpp"

namespace bmru::experiments {
namespace {

// First crossing of `level` in `out` (rising or falling), linearly interpolated in `x`.
double crossing(const std::vector<double>& x, const std::vector<double>& out, double level,
                bool rising) {
  for (size_t i = 1; i < out.size(); ++i) {
    const bool crossed =
        rising ? (out[i - 1] < level && out[i] >= level) : (out[i - 1] > level && out[i] <= level);
    if (crossed) {
      const double f = (level - out[i - 1]) / (out[i] - out[i - 1]);
      return x[i - 1] + f * (x[i] - x[i - 1]);
    }
  }
  return std::nan("");
}

}  // namespace

CellMeasurement measure_cell(spice::Session& session, const pdk::Technology& tech,
                             const pdk::Conditions& conditions, const models::CellBias& bias,
                             double top_a, int points, CellLoop* loop, bool allow_latch) {
  using core::format_number;
  spice::Circuit c = session.load(models::cell_bench(tech, conditions, bias));
  const double step = top_a / points;
  const auto sweep = [&](bool up, std::vector<double>& cand, std::vector<double>& out) {
    c.analysis("dc icand " + format_number(up ? 0.0 : top_a) + " " +
               format_number(up ? top_a : 0.0) + " " + format_number(up ? step : -step));
    // The candidate is the current the cell's input mirror copies (the swept source); the current
    // M1 delivers into V0 is not: once the cell is high, V0 nears the rail and M1 leaves
    // saturation until KCL balances at V0.
    cand = c.vector("i-sweep");
    out = c.vector("v.xcell.vs#branch");  // I_out flows from vdd into the sense source's + node
  };
  CellLoop l;
  sweep(true, l.candidate_up, l.out_up);
  sweep(false, l.candidate_down, l.out_down);
  CellMeasurement m;
  m.off_floor_a = l.out_up.front();
  m.on_level_a = l.out_up.back();
  const double half = 0.5 * (m.on_level_a + m.off_floor_a);
  m.switch_up_a = crossing(l.candidate_up, l.out_up, half, true);
  m.switch_down_a = crossing(l.candidate_down, l.out_down, half, false);
  const bool latched = allow_latch && !std::isnan(m.switch_up_a);
  if (std::isnan(m.switch_up_a) || (std::isnan(m.switch_down_a) && !latched))
    throw Error("The cell did not switch " +
                std::string(std::isnan(m.switch_up_a) ? "up" : "down") +
                " within a candidate sweep of 0-" + format_number(top_a) + " A (biases I_thresh " +
                format_number(bias.ithresh_a) + ", I_width " + format_number(bias.iwidth_a) +
                ", I_gain " + format_number(bias.igain_a) + " A)");
  if (loop) *loop = std::move(l);
  return m;
}

CellResult run_characterize_cell(const CellOptions& o) {
  if (o.bias.has_value() == o.targets.has_value())
    throw InputError(
        "characterize cell needs either bias currents (--ithresh --iwidth --igain) "
        "or model targets (--beta-lo --beta-hi --alpha), not both");
  const auto tech = pdk::open_technology(o.tech.pdk, o.tech.pdk_path);
  spice::Session session;
  CellResult r;
  if (o.targets) {
    const auto cal = cell_calibration(session, *tech, o.tech.conditions);
    r.calibration_from_cache = cal.from_cache;
    r.notes = cal.notes;
    r.calibration_s = cal.build_s;
    r.bias = cal.cell.bias_for(o.targets->beta_lo_a, o.targets->beta_hi_a, o.targets->alpha_a);
  } else {
    r.bias = *o.bias;
  }
  CellLoop loop;
  r.measured = measure_cell(session, *tech, o.tech.conditions, r.bias,
                            1.3 * r.bias.ithresh_a + 20e-12, 4000, &loop);
  if (o.out) {
    const auto array = [](const std::string& name, const std::vector<double>& v) {
      return core::NamedArray{name, {v.size()}, v, "A"};
    };
    core::write_arrays(
        *o.out,
        {array("up/candidate", loop.candidate_up), array("up/output", loop.out_up),
         array("down/candidate", loop.candidate_down), array("down/output", loop.out_down)},
        {{"technology", tech->name()},
         {"corner", o.tech.conditions.corner},
         {"temperature", o.tech.conditions.temperature_c},
         {"vdd", o.tech.conditions.vdd_v},
         {"ithresh", r.bias.ithresh_a},
         {"iwidth", r.bias.iwidth_a},
         {"igain", r.bias.igain_a},
         {"switch_up", r.measured.switch_up_a},
         {"switch_down", r.measured.switch_down_a},
         {"on_level", r.measured.on_level_a},
         {"off_floor", r.measured.off_floor_a}});
  }
  return r;
}

}  // namespace bmru::experiments
