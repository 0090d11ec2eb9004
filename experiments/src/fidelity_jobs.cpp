// The worker side of `bmru fidelity`: calibration, and the lockstep of one sequence.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/frame_record.hpp"
#include "core/model_file.hpp"
#include "core/units.hpp"
#include "experiments/calibration.hpp"
#include "experiments/ct_facts.hpp"
#include "experiments/fidelity.hpp"
#include "experiments/netlist.hpp"
#include "experiments/worker_jobs.hpp"
#include "models/cell_circuit.hpp"
#include "models/reference_engine.hpp"
#include "pdk/registry.hpp"
#include "version.hpp"

#include "lockstep.hpp"

namespace bmru::experiments {

using nlohmann::json;

void run_calibration_job(const std::string& payload, spice::JobContext& ctx) {
  const json r = json::parse(payload);
  pdk::Conditions k{r.at("corner"), r.at("temperature"), r.at("vdd")};
  std::optional<std::filesystem::path> path;
  if (!r.at("pdk_path").get<std::string>().empty()) path = r.at("pdk_path").get<std::string>();
  const auto tech = pdk::open_technology(r.at("pdk"), path);
  const Calibrated c = calibrated_options(ctx.session(), *tech, k);
  ctx.send(tables_to_json(c.options.cell, c.options.mirror));
  if (r.contains("ct_at")) {
    // The ct model's facts at the run's own conditions (it predicts this corner), with the cells
    // biased as calibrated.
    const json& at = r.at("ct_at");
    models::CircuitOptions options = c.options;
    options.conditions = {at.at("corner"), at.at("temperature"), at.at("vdd")};
    // Cached like the cell's tables (a ct-only Monte Carlo sweep asks once per die): keyed by
    // the tables it biases the cell with, the cell and the technology at these conditions, and
    // the ngspice and tool versions.
    const std::string key =
        "ct|" +
        core::sha256_hex(tables_to_json(c.options.cell, c.options.mirror) +
                         models::cell_bench(*tech, options.conditions, {1e-9, 1e-9, 1e-9})) +
        "|" + tech->name() + "|" + tech->location() + "|ngspice " + ctx.session().version() +
        "|bmru " + kToolVersion;
    std::optional<std::string> facts = read_cached("ct", key);
    if (!facts) {
      facts = ct_facts_to_json(characterize_ct(ctx.session(), *tech, options));
      write_cached("ct", key, *facts);
    }
    ctx.send(*facts);
  }
}

models::CircuitOptions circuit_options(const CalibrationReply& cal, const FidelityOptions& o,
                                       const pdk::Conditions& k) {
  models::CircuitOptions copt;
  copt.cell = cal.cell;
  copt.mirror = cal.mirror;
  copt.conditions = k;
  copt.mismatch_seed = o.mismatch_seed;
  copt.clamp = o.clamp;
  return copt;
}

CalibrationReply request_calibration(spice::WorkerPool& pool, const FidelityOptions& o,
                                     const pdk::Conditions& run, bool ct) {
  const pdk::Conditions cal = o.calibration_conditions.value_or(
      pdk::Conditions{run.corner, run.temperature_c, run.vdd_v, false});
  json req{{"pdk", o.tech.pdk},
           {"pdk_path", o.tech.pdk_path ? o.tech.pdk_path->string() : ""},
           {"corner", cal.corner},
           {"temperature", cal.temperature_c},
           {"vdd", cal.vdd_v}};
  if (ct)
    req["ct_at"] = {{"corner", run.corner}, {"temperature", run.temperature_c}, {"vdd", run.vdd_v}};
  CalibrationReply reply;
  int message = 0;
  const auto r =
      pool.run({job(JobKind::calibration, req.dump(), 900)}, [&](size_t, const std::string& m) {
        if (message++ == 0)
          tables_from_json(m, reply.cell, reply.mirror);
        else
          reply.ct = ct_facts_from_json(m);
      });
  if (!r[0].ok) throw Error("The calibration failed: " + r[0].error);
  if (ct && !reply.ct) throw Error("The calibration worker sent no ct characterization");
  return reply;
}

void run_vectors_job(const std::string& payload, spice::JobContext& ctx) {
  spice::Circuit c = ctx.session().load(payload);
  c.analysis("op");
  ctx.send(json(c.vector_names()).dump());
}

namespace {

// Streams one core::FrameRecord per frame (core/frame_record.hpp): the hardware probes (A), the
// software frame, the supply integrals, each cell's crossings of alpha/2 in the frame, the cells'
// output currents at R evenly spaced instants of the frame (linear between accepted points; R = 0
// sends none), and with the ct engine its frame, crossings and the seconds SPICE and ct spent.
class SequenceHandler final : public spice::LockstepHandler {
 public:
  SequenceHandler(spice::JobContext& ctx, const core::Network& net, const core::Matrix& x,
                  const core::Network& ct_net, Mode mode, const core::FrameAxis& axis,
                  int wave_points, const std::optional<models::CtFacts>& ct, bool dense_logits,
                  const models::CtDie& die, std::vector<size_t> state_probes)
      : ctx_(ctx),
        net_(net),
        x_(x),
        followers_(net, mode, ct, axis, x.row(0), &ct_net, &die),
        axis_(axis),
        wave_points_(wave_points),
        leader_(static_cast<size_t>(net.n_layers()), core::Matrix::Zero(1, net.d())),
        state_probes_(std::move(state_probes)) {
    last_record_ = Clock::now();
    for (const auto& layer : net.layers) {
      const auto alpha = core::cell_constants(layer).alpha;
      for (core::Index i = 0; i < alpha.size(); ++i)
        level_.push_back(alpha(i) * net.unit_current_a / 2);
    }
    count_.assign(level_.size(), 0);
    first_.assign(level_.size(), -1.0);
    if (dense_logits) argmax_s_.assign(static_cast<size_t>(net.n_out()), 0.0);
  }

  void set_noise(std::vector<core::NoiseTrack> tracks, models::ContinuousEngine::NoiseAt at) {
    followers_.set_noise(std::move(tracks), at);
  }

  spice::Action on_sample(core::Index k, std::span<const double> hw) override {
    // The followers see the hardware's states of frame k-1 (resync) and step to frame k.
    followers_.step(k, x_.row(k), leader_);
    const auto d = static_cast<size_t>(net_.d());
    for (size_t l = 0; l < leader_.size(); ++l)
      for (size_t i = 0; i < d; ++i)
        leader_[l](0, static_cast<core::Index>(i)) =
            hw[state_probes_[l * d + i]] / net_.unit_current_a;
    record_ = core::FrameRecord{};
    record_.k = k;
    record_.probes.assign(hw.begin(), hw.end());
    record_.sw = followers_.sw;
    return spice::Action::proceed;
  }

  // Crossings of alpha/2 by each cell's output current, assigned to the frame they fall in; and
  // with logit probes (after the cells' states in `dense`), how long each class leads.
  void on_point(double t, std::span<const double> dense) override {
    const std::span<const double> states = dense.first(level_.size());
    if (!argmax_s_.empty()) lead_time(t, dense.subspan(level_.size()));
    // Waveform instants of the current frame up to t.
    for (; wave_next_ < wave_points_; ++wave_next_) {
      const double tg =
          axis_.frame_start(record_frame_) + wave_next_ * axis_.period_s / wave_points_;
      if (tg > t) break;
      const double f = prev_t_ >= 0 && t > prev_t_ ? (tg - prev_t_) / (t - prev_t_) : 1.0;
      for (size_t c = 0; c < states.size(); ++c)
        wave_.push_back(prev_t_ >= 0 ? prev_[c] + (states[c] - prev_[c]) * std::clamp(f, 0.0, 1.0)
                                     : states[c]);
    }
    if (prev_t_ >= 0)
      for (size_t c = 0; c < states.size(); ++c) {
        const double a = prev_[c] - level_[c], b = states[c] - level_[c];
        if ((a < 0) == (b < 0)) continue;
        const double tc = prev_t_ + (t - prev_t_) * a / (a - b);
        const core::Index k = axis_.frame_at(tc);
        if (k != record_frame_) continue;  // belongs to an already sent frame (at a frame boundary)
        if (count_[c]++ == 0) first_[c] = tc - axis_.frame_start(k);
      }
    prev_t_ = t;
    prev_.assign(states.begin(), states.end());
  }

  void on_frame_end(core::Index, std::span<const double> integrals) override {
    record_.supply_charge.assign(integrals.begin(), integrals.end());
    for (size_t c = 0; c < count_.size(); ++c) record_.crossings.push_back({count_[c], first_[c]});
    std::fill(count_.begin(), count_.end(), 0);
    std::fill(first_.begin(), first_.end(), -1.0);
    for (; wave_next_ < wave_points_; ++wave_next_)
      wave_.insert(wave_.end(), prev_.begin(), prev_.end());
    record_.waveform = std::move(wave_);
    wave_.clear();
    record_.argmax_s = argmax_s_;
    std::fill(argmax_s_.begin(), argmax_s_.end(), 0.0);
    wave_next_ = 0;
    if (followers_.has_ct()) {
      core::CtFrameRecord ct{followers_.ct, {}, 0, followers_.ct_seconds};
      for (const auto& l : followers_.ct_crossings())
        ct.crossings.insert(ct.crossings.end(), l.begin(), l.end());
      const auto now = Clock::now();
      ct.spice_s =
          std::chrono::duration<double>(now - last_record_).count() - followers_.ct_seconds;
      last_record_ = now;
      record_.ct = std::move(ct);
    }
    ++record_frame_;
    ctx_.send(core::encode(record_));
  }

 private:
  // The interval since the last accepted point goes to the class whose logit (pos - neg, the mean
  // of the interval's ends) is the largest; ties go to the lower class, as a frame's vote does.
  void lead_time(double t, std::span<const double> pairs) {
    const size_t n = argmax_s_.size();
    if (logit_t_ >= 0 && t > logit_t_) {
      size_t best = 0;
      double top = -std::numeric_limits<double>::infinity();
      for (size_t j = 0; j < n; ++j) {
        const double y = 0.5 * (pairs[2 * j] - pairs[2 * j + 1] + prev_logit_[j]);
        if (y > top) {
          top = y;
          best = j;
        }
      }
      argmax_s_[best] += t - logit_t_;
    }
    prev_logit_.resize(n);
    for (size_t j = 0; j < n; ++j) prev_logit_[j] = pairs[2 * j] - pairs[2 * j + 1];
    logit_t_ = t;
  }

  spice::JobContext& ctx_;
  const core::Network& net_;
  const core::Matrix& x_;
  Followers followers_;
  core::FrameAxis axis_;
  core::FrameRecord record_;
  std::vector<double> level_, prev_, first_;
  std::vector<core::Index> count_;
  double prev_t_ = -1;
  core::Index record_frame_ = 0;  // the frame whose record is being built
  int wave_points_ = 0, wave_next_ = 0;
  std::vector<double> wave_;
  std::vector<double> argmax_s_, prev_logit_;  // per class: seconds in the lead this frame
  double logit_t_ = -1;
  std::vector<core::Matrix> leader_;  // the hardware's sampled cell states (model units)
  std::vector<size_t> state_probes_;  // each cell's state among the probes (layer-major)
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_record_;
};

}  // namespace

void run_sequence_job(const std::string& payload, spice::JobContext& ctx) {
  const json r = json::parse(payload);
  const core::Network net = core::model_from_json(r.at("model").get<std::string>(), "job model");
  const auto frames = r.at("frames").get<core::Index>();
  const auto flat = r.at("inputs").get<std::vector<double>>();
  const core::Matrix x =
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          flat.data(), frames, net.n_in());
  spice::LockstepSpec spec;
  const auto axis = r.at("axis").get<std::vector<double>>();
  spec.axis = {axis.at(0), axis.at(1), axis.at(2)};
  spec.frames = frames;
  spec.sources = r.at("sources").get<std::vector<std::string>>();
  const double unit = net.unit_current_a;
  spec.frame_values = [&x, unit](core::Index k, std::span<double> v) {
    for (core::Index i = 0; i < x.cols(); ++i) {
      const double a = x(k, i) * unit;
      v[static_cast<size_t>(2 * i)] = a > 0 ? a : 0.0;
      v[static_cast<size_t>(2 * i + 1)] = a < 0 ? -a : 0.0;
    }
  };
  spec.probes = r.at("probes").get<std::vector<std::string>>();
  spec.integrals = r.at("supplies").get<std::vector<std::string>>();
  spec.dense = r.at("states").get<std::vector<std::string>>();
  const auto logits = r.value("dense_logits", std::vector<std::string>{});
  spec.dense.insert(spec.dense.end(), logits.begin(), logits.end());
  // Flat memory over long sequences; `save none` is sticky in ngspice 39, so this worker retires.
  spec.keep_vectors = false;
  ctx.retire();
  const auto t = r.at("tran").get<std::vector<double>>();
  spice::Circuit c =
      ctx.session().load(r.at("netlist").get<std::string>(), r.at("seed").get<std::uint64_t>());
  std::optional<models::CtFacts> ct;
  if (r.contains("ct") && !r.at("ct").is_null()) ct = ct_facts_from_json(r.at("ct").dump());
  const core::Network ct_net =
      r.contains("ct_model")
          ? core::model_from_json(r.at("ct_model").get<std::string>(), "job ct model")
          : net;
  const models::CtDie die = r.contains("ct_die") && !r.at("ct_die").is_null()
                                ? ct_die_from_json(r.at("ct_die").dump())
                                : models::CtDie{};
  // Each cell's state among the probes, by name (a layer's output has as many probes as its
  // bundle has lines, so positions are not fixed).
  std::vector<size_t> state_probes;
  for (const std::string& state : r.at("states").get<std::vector<std::string>>()) {
    const auto at = std::find(spec.probes.begin(), spec.probes.end(), state);
    if (at == spec.probes.end())
      throw Error("The job's state probe '" + state + "' is not among its probes");
    state_probes.push_back(static_cast<size_t>(at - spec.probes.begin()));
  }
  if (state_probes.size() != static_cast<size_t>(net.n_layers() * net.d()))
    throw Error("The job names " + std::to_string(state_probes.size()) + " state probes for " +
                std::to_string(net.n_layers() * net.d()) + " cells");
  SequenceHandler h(ctx, net, x, ct_net, r.at("resync").get<bool>() ? Mode::resync : Mode::free,
                    spec.axis, r.value("waveform_points", 0), ct, !logits.empty(), die,
                    std::move(state_probes));
  // --noise: the same samples into the circuit's candidate lines (or every line), ct's and sw's.
  std::vector<core::NoiseTrack> noise;
  if (r.contains("noise") && !r.at("noise").is_null()) {
    const auto at = r.value("noise_at", std::string("candidates")) == "all"
                        ? models::ContinuousEngine::NoiseAt::lines
                        : models::ContinuousEngine::NoiseAt::candidates;
    noise = noise_tracks(noise_from_json(r.at("noise").dump()), at, net, ct_net, x, spec.axis,
                         r.value("sequence", std::uint64_t{0}));
    spec.signals = r.at("noise_sources").get<std::vector<std::string>>();
    if (spec.signals.size() != noise.size())
      throw Error("The job's " + std::to_string(spec.signals.size()) +
                  " noise sources do not match the circuit's " + std::to_string(noise.size()) +
                  (at == models::ContinuousEngine::NoiseAt::lines ? " lines" : " cells"));
    spec.signal_value = [&noise](size_t i, double t) { return noise[i].at(t); };
    h.set_noise(noise, at);
  }
  c.lockstep({t.at(0), t.at(1), t.at(2)}, spec, h);
}

}  // namespace bmru::experiments
