#include "experiments/scaling.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <chrono>
#include <cmath>

#include "core/array_file.hpp"
#include "core/driver.hpp"
#include "core/errors.hpp"
#include "core/model_file.hpp"
#include "core/run_file.hpp"
#include "models/circuit_graph.hpp"
#include "models/ideal_power.hpp"
#include "models/realisable_range.hpp"
#include "models/reference_engine.hpp"
#include "version.hpp"

namespace bmru::experiments {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using core::Index;
using core::PowerBlock;

std::string d_name(Index d) {
  return "d" + std::to_string(d);
}

// The study's inputs for n_in inputs: the tool's random sequences times `scale`, as an inputs
// file (written once into `runs`).
fs::path inputs_file(const ScalingOptions& o, Index n_in, const fs::path& runs) {
  const fs::path path = runs / ("inputs_" + std::to_string(n_in) + ".h5");
  if (fs::exists(path)) return path;
  const auto source = core::random_stimuli({o.sequences, o.frames, n_in, o.seed});
  core::NamedArray a{"inputs",
                     {static_cast<std::uint64_t>(o.sequences), static_cast<std::uint64_t>(o.frames),
                      static_cast<std::uint64_t>(n_in)},
                     {},
                     "model units"};
  for (const core::Matrix& xs : core::read_all(*source))
    for (Index k = 0; k < xs.rows(); ++k)
      for (Index i = 0; i < n_in; ++i) a.data.push_back(o.input_scale * xs(k, i));
  core::write_arrays(path, {a}, {{"input_scale", o.input_scale}});
  return path;
}

// The largest current at any node of the network over the inputs (A): the pre-projection's and
// every layer's signed sums (each part is a node of its own), candidates and logits.
double peak_node_current(const core::Network& net, const fs::path& inputs) {
  const auto all = core::file_stimuli(inputs, net.n_in());
  const std::vector<core::Matrix> x = core::read_all(*all);
  double peak = 0;
  for (const auto& xs : x) {
    const core::Matrix u0 = (xs * net.pre_proj.kernel).rowwise() + net.pre_proj.bias.transpose();
    peak = std::max(peak, u0.cwiseAbs().maxCoeff());
  }
  models::ReferenceEngine engine(net);
  const auto source = core::file_stimuli(inputs, net.n_in());
  core::run_batch(engine, *source, 64,
                  [&](Index, const std::vector<core::Matrix>&, const std::vector<core::Frame>& f) {
                    for (const auto& frame : f) {
                      for (const auto& l : frame.layers)
                        peak = std::max({peak, l.candidate.cwiseAbs().maxCoeff(),
                                         l.output.cwiseAbs().maxCoeff()});
                      peak = std::max(peak, frame.logits.cwiseAbs().maxCoeff());
                    }
                  });
  return peak * net.unit_current_a;
}

// A power law's row of /fit.
void fit_row(std::vector<core::TableColumn>& t, const std::string& block, const PowerLaw& f) {
  t[0].values.emplace_back(block);
  t[1].values.emplace_back(f.exponent);
  t[2].values.emplace_back(f.ci_low);
  t[3].values.emplace_back(f.ci_high);
  t[4].values.emplace_back(f.prefactor);
  t[5].values.emplace_back(f.r2);
  t[6].values.emplace_back(static_cast<std::int64_t>(f.points));
}

void write_scaling_file(const ScalingOptions& o, const ScalingResult& r, const fs::path& runs) {
  core::RunFile file(o.base.out, {kToolVersion, o.base.command_line});
  const pdk::Conditions& k = o.base.tech.conditions;
  file.write_config(
      {{"kind", std::string("scaling")},
       {"family", std::string(o.models.empty()
                                  ? (o.family == models::ScalingFamily::fixed ? "fixed" : "scaled")
                                  : "models")},
       {"layers", static_cast<std::int64_t>(o.shape.layers)},
       {"n_in", static_cast<std::int64_t>(o.shape.n_in)},
       {"n_out", static_cast<std::int64_t>(o.shape.n_out)},
       {"frames", static_cast<std::int64_t>(o.frames)},
       {"sequences", static_cast<std::int64_t>(o.sequences)},
       {"seed", static_cast<std::int64_t>(o.seed)},
       {"input_scale", o.input_scale},
       {"spice_max_d", static_cast<std::int64_t>(o.spice_max_d)},
       {"tmax", o.tmax()},
       {"pdk", o.base.tech.pdk},
       {"corner", k.corner},
       {"temperature", k.temperature_c},
       {"vdd", k.vdd_v},
       {"frame_period", o.base.axis.period_s},
       {"extrapolation",
        std::string("d > spice_max_d: cells and feed-forward = the network's ideal power x the "
                    "measured/ideal ratio at the largest simulated d; bias from its fitted law")}});
  std::vector<core::TableColumn> t{{"d", {}},           {"measured", {}}, {"status", {}},
                                   {"error", {}},       {"model", {}},    {"devices", {}},
                                   {"peak_node_a", {}}, {"in_range", {}}, {"realised", {}},
                                   {"clamped", {}},     {"wall_s", {}}};
  for (const auto b : core::kPowerBlocks)
    t.push_back({std::string("power_") + core::block_name(b) + "_w", {}});
  for (const auto b : core::kPowerBlocks)
    t.push_back({std::string("ideal_power_") + core::block_name(b) + "_w", {}});
  for (const auto& p : r.positions) t.push_back({"power_" + p + "_w", {}});
  for (const auto& q : r.points) {
    size_t c = 0;
    t[c++].values.emplace_back(static_cast<std::int64_t>(q.d));
    t[c++].values.emplace_back(static_cast<std::int64_t>(q.measured));
    t[c++].values.emplace_back(q.status);
    t[c++].values.emplace_back(q.error);
    t[c++].values.emplace_back(q.model);
    t[c++].values.emplace_back(static_cast<std::int64_t>(q.devices));
    t[c++].values.emplace_back(q.peak_node_a);
    t[c++].values.emplace_back(static_cast<std::int64_t>(q.in_range));
    t[c++].values.emplace_back(static_cast<std::int64_t>(q.realised));
    t[c++].values.emplace_back(static_cast<std::int64_t>(q.clamped));
    t[c++].values.emplace_back(q.wall_s);
    for (const auto b : core::kPowerBlocks) t[c++].values.emplace_back(q.power_w[b]);
    for (const auto b : core::kPowerBlocks) t[c++].values.emplace_back(q.ideal_power_w[b]);
    for (size_t p = 0; p < r.positions.size(); ++p)
      t[c++].values.emplace_back(p < q.position_power_w.size() ? q.position_power_w[p]
                                                               : std::nan(""));
  }
  file.write_table("points", t);
  std::vector<core::TableColumn> f{{"block", {}},   {"exponent", {}},  {"ci_low", {}},
                                   {"ci_high", {}}, {"prefactor", {}}, {"r2", {}},
                                   {"points", {}}};
  const std::pair<const char*, const PowerLaw*> laws[] = {{"cells", &r.cells},
                                                          {"feedforward", &r.feedforward},
                                                          {"bias", &r.bias},
                                                          {"total", &r.total},
                                                          {"spice_wall", &r.wall}};
  for (const auto& [name, law] : laws) fit_row(f, name, *law);
  file.write_table("fit", f);
  for (const auto& [name, law] : laws) {
    file.set_attr("/fit", {std::string(name) + "_exponent", law->exponent});
    file.set_attr("/fit", {std::string(name) + "_exponent_ci_low", law->ci_low});
    file.set_attr("/fit", {std::string(name) + "_exponent_ci_high", law->ci_high});
  }
  file.set_attr("/fit", {"range_end_d", static_cast<std::int64_t>(r.range_end_d)});
  file.set_attr("/fit", {"failed", static_cast<std::int64_t>(r.failed)});
  file.set_attr("/fit", {"confidence", 0.95});
  file.set_attr("/fit", {"points_used", std::string("the simulated d (measured = 1) only")});
  for (const auto& q : r.points)
    if (q.measured && fs::exists(runs / (d_name(q.d) + ".h5")))
      file.copy_run(d_name(q.d), runs / (d_name(q.d) + ".h5"));
  file.commit();
}

}  // namespace

PowerLaw fit_power_law(const std::vector<double>& x, const std::vector<double>& y,
                       double confidence) {
  std::vector<double> lx, ly;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i]) && x[i] > 0 && y[i] > 0) {
      lx.push_back(std::log(x[i]));
      ly.push_back(std::log(y[i]));
    }
  PowerLaw f;
  f.points = static_cast<int>(lx.size());
  if (lx.size() < 2) return f;
  const auto n = static_cast<double>(lx.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < lx.size(); ++i) {
    mx += lx[i] / n;
    my += ly[i] / n;
  }
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < lx.size(); ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) * (ly[i] - my);
  }
  if (sxx <= 0) return f;  // every point at one x
  f.exponent = sxy / sxx;
  f.prefactor = std::exp(my - f.exponent * mx);
  double sse = 0;
  for (size_t i = 0; i < lx.size(); ++i) {
    const double e = ly[i] - (my + f.exponent * (lx[i] - mx));
    sse += e * e;
  }
  f.r2 = syy > 0 ? 1 - sse / syy : 1.0;
  if (lx.size() > 2) {
    const double se = std::sqrt(sse / (n - 2) / sxx);
    const boost::math::students_t t(n - 2);
    const double half =
        boost::math::quantile(boost::math::complement(t, (1 - confidence) / 2)) * se;
    f.ci_low = f.exponent - half;
    f.ci_high = f.exponent + half;
  }
  return f;
}

long long circuit_devices(const core::Network& net) {
  const models::CircuitGraph g = models::build_graph(net);
  long long n = 0;
  for (const auto& l : g.lines) n += !l.device.empty();
  n += static_cast<long long>(g.copies.size());
  n += 2 * static_cast<long long>(g.biases.size());       // reference diode and output device
  n += (9 + 3) * static_cast<long long>(g.cells.size());  // M1-M9 and three bias diodes
  return n;
}

ScalingResult run_scaling(const ScalingOptions& o,
                          const std::function<void(const std::string&)>& stage,
                          const std::function<void(long long, long long)>& progress) {
  const auto t_start = Clock::now();
  if (o.frames < 1 || o.sequences < 1)
    throw InputError("--frames and --sequences must be at least 1");
  // The networks: trained files, or one random network per d.
  struct Net {
    core::Network net;
    std::string file;
  };
  std::vector<Net> nets;
  const fs::path runs = o.base.out.string() + ".runs";
  fs::create_directories(runs);
  if (!o.models.empty()) {
    for (const auto& m : o.models) nets.push_back({core::read_model(m), m.string()});
    std::sort(nets.begin(), nets.end(),
              [](const Net& a, const Net& b) { return a.net.d() < b.net.d(); });
  } else {
    std::vector<Index> ds = o.ds;
    std::sort(ds.begin(), ds.end());
    ds.erase(std::unique(ds.begin(), ds.end()), ds.end());
    const models::RealisableRange range;
    for (const Index d : ds) {
      if (d < 1 || d > range.d_max)
        throw InputError("--d " + std::to_string(d) + " is outside 1-" +
                         std::to_string(range.d_max) + " (the largest d the tool builds)");
      models::ScalingShape shape = o.shape;
      shape.d = d;
      const auto inputs = core::file_stimuli(inputs_file(o, shape.n_in, runs), shape.n_in);
      nets.push_back({models::scaling_network(shape, o.family, o.seed, *inputs), ""});
    }
  }
  ScalingResult r;
  double measured_d = 0;
  core::PowerByBlock ratio;  // measured / ideal at the largest simulated d
  for (const auto& [net, file] : nets) {
    ScalingPoint q;
    q.d = net.d();
    q.model = file;
    const fs::path in = inputs_file(o, net.n_in(), runs);
    const std::vector<core::Matrix> x = core::read_all(*core::file_stimuli(in, net.n_in()));
    q.devices = circuit_devices(net);
    q.peak_node_a = peak_node_current(net, in);
    q.ideal_power_w = models::ideal_power(net, x, o.base.tech.conditions.vdd_v);
    q.in_range = q.peak_node_a <= models::RealisableRange{}.node_max_a &&
                 models::range_problems(net).empty();
    if (q.d <= o.spice_max_d) {
      if (stage)
        stage("d = " + std::to_string(q.d) + ": " + std::to_string(q.devices) +
              " MOSFETs, SPICE over " + std::to_string(o.sequences) + " x " +
              std::to_string(o.frames) + " frames");
      FidelityOptions f = o.base;
      f.model = runs / (d_name(q.d) + ".model.h5");
      core::write_model(net, *f.model);
      f.inputs = in;
      f.clamp = true;  // a network past the range still runs; its changes are counted
      f.hw = true;
      f.ct = false;
      f.waveform_points = 0;
      f.tran_max_step_s = o.tmax();
      f.out = runs / (d_name(q.d) + ".h5");
      const auto t0 = Clock::now();
      try {
        const FidelityResult fr = run_fidelity(f, progress);
        q.measured = true;
        q.power_w = fr.power_w;
        q.position_power_w = fr.position_power_w;
        if (r.positions.empty()) r.positions = fr.positions;
        q.realised = static_cast<long>(fr.realised.size());
        q.clamped = static_cast<long>(fr.clamped.size());
        if (q.clamped > 0) q.in_range = false;
        if (!fr.failed.empty()) {
          q.status = "failed";
          q.error = fr.failed.front();
        }
      } catch (const std::exception& e) {
        q.status = "failed";
        q.error = e.what();
      }
      q.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
      if (q.status == "ok" && q.d > measured_d) {
        measured_d = static_cast<double>(q.d);
        for (const auto b : {PowerBlock::cells, PowerBlock::feedforward})
          ratio[b] = q.power_w[b] / q.ideal_power_w[b];
      }
    }
    r.failed += q.status != "ok";
    if (!q.in_range && r.range_end_d < 0) r.range_end_d = q.d;
    r.points.push_back(q);
  }
  // Fits over the simulated points that finished.
  const auto law = [&](PowerBlock b) {
    std::vector<double> d, p;
    for (const auto& q : r.points)
      if (q.measured && q.status == "ok") {
        d.push_back(static_cast<double>(q.d));
        p.push_back(q.power_w[b]);
      }
    return fit_power_law(d, p);
  };
  r.cells = law(PowerBlock::cells);
  r.feedforward = law(PowerBlock::feedforward);
  r.bias = law(PowerBlock::bias);
  r.total = law(PowerBlock::total);
  {
    std::vector<double> d, w;
    for (const auto& q : r.points)
      if (q.measured && q.status == "ok") {
        d.push_back(static_cast<double>(q.d));
        w.push_back(q.wall_s);
      }
    r.wall = fit_power_law(d, w);
  }
  // Past --spice-max-d: the model of the circuit.
  for (auto& q : r.points) {
    if (q.measured || measured_d == 0) continue;
    for (const auto b : {PowerBlock::cells, PowerBlock::feedforward})
      q.power_w[b] = q.ideal_power_w[b] * ratio[b];
    q.power_w[PowerBlock::bias] = r.bias.at(static_cast<double>(q.d));
    q.power_w[PowerBlock::total] = q.power_w[PowerBlock::cells] +
                                   q.power_w[PowerBlock::feedforward] + q.power_w[PowerBlock::bias];
    q.status = "extrapolated";
  }
  write_scaling_file(o, r, runs);
  fs::remove_all(runs);
  r.wall_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  return r;
}

}  // namespace bmru::experiments
