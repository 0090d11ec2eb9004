#include "lockstep.hpp"

#include <chrono>
#include <cmath>

#include "models/circuit_graph.hpp"

namespace bmru::experiments {

core::Matrix discrete_states(const core::Matrix& sampled, const core::Vector& alpha) {
  core::Matrix h(1, alpha.size());
  for (core::Index i = 0; i < alpha.size(); ++i)
    h(0, i) = sampled(0, i) > alpha(i) / 2 ? alpha(i) : 0.0;
  return h;
}

Followers::Followers(const core::Network& net, Mode mode, const std::optional<models::CtFacts>& ct,
                     const core::FrameAxis& axis, const core::Matrix& x0,
                     const core::Network* ct_net, const models::CtDie* die)
    : net_(net), resync_(mode == Mode::resync), sw_engine_(net), axis_(axis) {
  for (const auto& layer : net.layers) alpha_.push_back(core::cell_constants(layer).alpha);
  sw_engine_.reset(1);
  if (ct) {
    ct_engine_.emplace(ct_net ? *ct_net : net, *ct, axis);
    if (die && !die->nominal()) ct_engine_->set_dies({*die});
    ct_engine_->reset(x0);
  }
}

void Followers::step(core::Index k, const core::Matrix& x_k,
                     const std::vector<core::Matrix>& leader_states) {
  const bool resync = resync_ && k > 0;
  if (resync)
    for (size_t l = 0; l < alpha_.size(); ++l)
      sw_engine_.set_state(static_cast<core::Index>(l),
                           discrete_states(leader_states[l], alpha_[l]));
  if (!noise_.empty()) {
    const double t = axis_.sample_time(k), u = net_.unit_current_a;
    const core::Index d = net_.d();
    std::vector<core::Matrix> n(alpha_.size(), core::Matrix(1, d));
    for (size_t l = 0; l < n.size(); ++l)
      for (core::Index i = 0; i < d; ++i)
        n[l](0, i) = noise_[l * static_cast<size_t>(d) + static_cast<size_t>(i)].at(t) / u;
    sw_engine_.set_candidate_noise(std::move(n));
  }
  sw_engine_.step(x_k, sw);
  if (!ct_engine_) return;
  const auto t0 = std::chrono::steady_clock::now();
  if (resync)
    for (size_t l = 0; l < alpha_.size(); ++l)
      ct_engine_->set_state(static_cast<core::Index>(l),
                            discrete_states(leader_states[l], alpha_[l]));
  ct_engine_->step(x_k, ct);
  ct_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Followers::set_leaky(double a) {
  sw_engine_.set_leaky(a);
  if (ct_engine_) ct_engine_->set_leaky(a);
}

void Followers::set_noise(std::vector<core::NoiseTrack> tracks,
                          models::ContinuousEngine::NoiseAt at) {
  if (ct_engine_) ct_engine_->set_noise(0, tracks, at);
  if (at == models::ContinuousEngine::NoiseAt::candidates) noise_ = std::move(tracks);
}

std::vector<core::NoiseTrack> candidate_noise(const core::NoiseSpec& spec, const core::Network& net,
                                              const core::Matrix& x, const core::FrameAxis& axis,
                                              std::uint64_t sequence) {
  if (!spec.active()) return {};
  const std::vector<core::Frame> clean = models::run_sequence(net, x);
  const core::Index d = net.d();
  std::vector<core::NoiseTrack> tracks;
  for (core::Index l = 0; l < net.n_layers(); ++l)
    for (core::Index i = 0; i < d; ++i) {
      std::vector<double> sigma;
      for (const core::Frame& f : clean)
        sigma.push_back(spec.sigma(
            f.layers[static_cast<size_t>(l)].candidate(0, i) * net.unit_current_a, axis));
      tracks.emplace_back(spec, axis, sequence, static_cast<std::uint64_t>(l * d + i), sigma);
    }
  return tracks;
}

std::vector<core::NoiseTrack> line_noise(const core::NoiseSpec& spec,
                                         const core::Network& circuit_net, const core::Matrix& x,
                                         const core::FrameAxis& axis, std::uint64_t sequence) {
  if (!spec.active()) return {};
  const std::vector<core::Frame> clean = models::run_sequence(circuit_net, x);
  const models::CircuitGraph g = models::build_graph(circuit_net);
  std::vector<std::vector<double>> sigma(g.lines.size());
  for (size_t k = 0; k < clean.size(); ++k) {
    std::vector<bool> on;
    for (const auto& layer : clean[k].layers)
      for (core::Index i = 0; i < layer.state.cols(); ++i) on.push_back(layer.state(0, i) > 0);
    const std::vector<double> I =
        models::ideal_line_currents(g, x.row(static_cast<core::Index>(k)).transpose(), on);
    for (size_t l = 0; l < I.size(); ++l) sigma[l].push_back(spec.sigma(I[l], axis));
  }
  std::vector<core::NoiseTrack> tracks;
  for (size_t l = 0; l < g.lines.size(); ++l)
    if (g.lines[l].kind != models::CircuitGraph::LineKind::held)
      tracks.emplace_back(spec, axis, sequence, static_cast<std::uint64_t>(tracks.size()),
                          sigma[l]);
  return tracks;
}

std::vector<core::NoiseTrack> noise_tracks(const core::NoiseSpec& spec,
                                           models::ContinuousEngine::NoiseAt at,
                                           const core::Network& net,
                                           const core::Network& circuit_net, const core::Matrix& x,
                                           const core::FrameAxis& axis, std::uint64_t sequence) {
  return at == models::ContinuousEngine::NoiseAt::lines
             ? line_noise(spec, circuit_net, x, axis, sequence)
             : candidate_noise(spec, net, x, axis, sequence);
}

CrossingRows Followers::ct_crossings() const {
  return crossing_rows(*ct_engine_);
}

CrossingRows crossing_rows(const models::ContinuousEngine& ct, core::Index lane) {
  CrossingRows out;
  for (const auto& layer : ct.crossings(lane)) {
    out.emplace_back();
    for (const auto& q : layer)
      out.back().push_back({static_cast<core::Index>(q.count), q.first_s});
  }
  return out;
}

LockstepSinks::LockstepSinks(core::RunFile& file, const core::Network& net,
                             const core::TraceShape& shape, bool hw, bool ct, bool hw_logits)
    : net_(net),
      hw_logits_(hw_logits),
      sw_(file, "sw", shape, "model units", false),
      primary_(net, shape.sequences) {
  for (const auto& layer : net.layers) alpha_.push_back(core::cell_constants(layer).alpha);
  if (hw) hw_.emplace(file, "hw", shape, "A", true);
  if (ct) ct_.emplace(file, "ct", shape, "model units", true);
  if (hw && ct) {
    ct_sw_.emplace(net, shape.sequences);
    hw_ct_.emplace(net, shape.sequences);
  }
  const core::Decision none{core::kTie, std::nan("")};
  for (auto* d : {&sw_dec_, &hw_dec_, &ct_dec_})
    d->assign(static_cast<size_t>(shape.sequences), none);
}

void LockstepSinks::add(core::Index s, core::Index k, LockstepFrame f) {
  if (f.hw) {
    primary_.add(s, k, *f.hw, f.sw, &f.hw_crossings);
    if (f.ct) {
      ct_sw_->add(s, k, *f.ct, f.sw, &f.ct_crossings);
      // ct as the reference of the hardware: its states as the discrete levels they stand for.
      core::Frame cd = *f.ct;
      for (size_t l = 0; l < cd.layers.size(); ++l)
        cd.layers[l].state = discrete_states(cd.layers[l].state, alpha_[l]);
      hw_ct_->add(s, k, *f.hw, cd, &f.hw_crossings);
    }
    hw_->add(s, k, std::move(f.hw_amps), hw_logits_ ? &f.hw->logits : nullptr, &f.hw_crossings);
  } else if (f.ct) {
    primary_.add(s, k, *f.ct, f.sw, &f.ct_crossings);
  }
  if (f.ct) {
    const core::Matrix logits = f.ct->logits;
    ct_->add(s, k, std::move(*f.ct), &logits, &f.ct_crossings);
  }
  const core::Matrix logits = f.sw.logits;
  sw_.add(s, k, std::move(f.sw), &logits);
}

void LockstepSinks::end_sequence(core::Index s, bool complete) {
  const auto i = static_cast<size_t>(s);
  for (EngineStream* e : {&sw_, hw_ ? &*hw_ : nullptr, ct_ ? &*ct_ : nullptr})
    if (e) e->flush(s);
  if (complete) {
    sw_dec_[i] = sw_.decision(s);
    if (hw_ && hw_logits_) hw_dec_[i] = hw_->decision(s);
    if (ct_) ct_dec_[i] = ct_->decision(s);
  } else {
    primary_.set_incomplete(s);
    if (ct_sw_) ct_sw_->set_incomplete(s);
    if (hw_ct_) hw_ct_->set_incomplete(s);
  }
  primary_.set_decisions(s, hw_ ? hw_dec_[i] : ct_dec_[i], sw_dec_[i]);
  if (ct_sw_) ct_sw_->set_decisions(s, ct_dec_[i], sw_dec_[i]);
  if (hw_ct_) hw_ct_->set_decisions(s, hw_dec_[i], ct_dec_[i]);
}

LockstepMetrics LockstepSinks::finish() {
  if (hw_) hw_->write_decisions(hw_dec_);
  sw_.write_decisions(sw_dec_);
  if (ct_) ct_->write_decisions(ct_dec_);
  LockstepMetrics m;
  m.metrics = primary_.result();
  if (ct_sw_) m.ct_vs_sw = ct_sw_->result();
  if (hw_ct_) m.hw_vs_ct = hw_ct_->result();
  return m;
}

}  // namespace bmru::experiments
