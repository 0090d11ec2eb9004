#include "core/comparator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.hpp"

namespace bmru::core {

void Comparator::Moments::add(double hw, double sw) {
  n += 1;
  const double dx = hw - mx, dy = sw - my;
  mx += dx / n;
  my += dy / n;
  sxx += dx * (hw - mx);
  syy += dy * (sw - my);
  sxy += dx * (sw - my);
  const double d = hw - sw, dd = d - md;
  md += dd / n;
  sdd += dd * (d - md);
}

void Comparator::Moments::merge(const Moments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double total = n + o.n, f = n * o.n / total;
  const double dx = o.mx - mx, dy = o.my - my, dd = o.md - md;
  sxx += o.sxx + dx * dx * f;
  syy += o.syy + dy * dy * f;
  sxy += o.sxy + dx * dy * f;
  sdd += o.sdd + dd * dd * f;
  mx += dx * o.n / total;
  my += dy * o.n / total;
  md += dd * o.n / total;
  n = total;
}

SignalMetrics Comparator::Moments::metrics(double scale) const {
  SignalMetrics m;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (n == 0) return {nan, nan};
  const double mean_sq_sw = syy / n + my * my, mean_sq_d = sdd / n + md * md;
  const double rms_sw = std::sqrt(mean_sq_sw);
  const double denom = scale > 0 ? scale : rms_sw;
  m.nrmse = denom > 0 ? std::sqrt(mean_sq_d) / denom : (mean_sq_d == 0 ? 0.0 : nan);
  const double vx = sxx / n, vy = syy / n;
  // Relative tolerance: a trace whose variance is rounding noise is constant.
  const bool constant =
      vx <= 1e-24 * std::max(1.0, vx + mx * mx) || vy <= 1e-24 * std::max(1.0, mean_sq_sw);
  m.correlation = constant ? nan : (sxy / n) / std::sqrt(vx * vy);
  return m;
}

Comparator::Comparator(const Network& net, Index sequences)
    : logits_(static_cast<size_t>(sequences),
              std::vector<Moments>(static_cast<size_t>(net.n_out()))),
      seq_agree_(static_cast<size_t>(sequences), 0),
      seq_frames_(static_cast<size_t>(sequences), 0),
      first_divergence_(static_cast<size_t>(sequences), -1),
      hw_decision_(static_cast<size_t>(sequences)),
      sw_decision_(static_cast<size_t>(sequences)),
      incomplete_(static_cast<size_t>(sequences), false) {
  for (const auto& layer : net.layers) {
    k_.push_back(cell_constants(layer));
    cells_.emplace_back(static_cast<size_t>(net.d()));
  }
  moments_.assign(static_cast<size_t>(sequences),
                  std::vector<std::vector<CellMoments>>(
                      cells_.size(), std::vector<CellMoments>(static_cast<size_t>(net.d()))));
  // Before frame 0 the software states are the initial states.
  std::vector<std::vector<double>> init;
  for (const auto& k : k_) init.emplace_back(k.h_init.data(), k.h_init.data() + k.h_init.size());
  last_sw_.assign(static_cast<size_t>(sequences), init);
  this_sw_ = last_sw_;
}

void Comparator::add_crossings(Index s, const CrossingRows& x) {
  auto& last = last_sw_.at(static_cast<size_t>(s));
  const auto& now = this_sw_.at(static_cast<size_t>(s));
  for (size_t l = 0; l < x.size() && l < now.size(); ++l)
    for (size_t i = 0; i < x[l].size() && i < now[l].size(); ++i) {
      const bool transition = (now[l][i] > 0) != (last[l][i] > 0);
      const Crossings& c = x[l][i];
      if (transition) {
        if (c.count > 0 && c.first_offset_s >= 0) {
          latencies_.push_back(c.first_offset_s);
          extra_ += c.count - 1;
        } else {
          ++unmatched_;
        }
      } else {
        extra_ += c.count;
      }
    }
  last = now;
}

void Comparator::add(Index s, Index k, const Frame& hw, const Frame& sw,
                     const CrossingRows* crossings) {
  if (s < 0 || s >= static_cast<Index>(seq_agree_.size()))
    throw InputError("Comparator: sequence " + std::to_string(s) + " is out of range");
  if (hw.layers.size() != cells_.size() || sw.layers.size() != cells_.size())
    throw InputError("Comparator: frames must have one entry per layer");
  bool differs = false;
  for (size_t l = 0; l < cells_.size(); ++l)
    for (size_t i = 0; i < cells_[l].size(); ++i) {
      const auto ii = static_cast<Index>(i);
      Cell& c = cells_[l][i];
      const double alpha = k_[l].alpha(ii);
      const bool same = (hw.layers[l].state(0, ii) > alpha / 2) == (sw.layers[l].state(0, ii) > 0);
      c.agree += same;
      c.frames += 1;
      seq_agree_[static_cast<size_t>(s)] += same;
      seq_frames_[static_cast<size_t>(s)] += 1;
      differs = differs || !same;
      CellMoments& cm = moments_[static_cast<size_t>(s)][l][i];
      cm.candidate.add(hw.layers[l].candidate(0, ii), sw.layers[l].candidate(0, ii));
      cm.state.add(hw.layers[l].state(0, ii), sw.layers[l].state(0, ii));
      cm.output.add(hw.layers[l].output(0, ii), sw.layers[l].output(0, ii));
      this_sw_[static_cast<size_t>(s)][l][i] = sw.layers[l].state(0, ii);
    }
  auto& y = logits_[static_cast<size_t>(s)];
  for (size_t j = 0; j < y.size(); ++j)
    y[j].add(hw.logits(0, static_cast<Index>(j)), sw.logits(0, static_cast<Index>(j)));
  Index& first = first_divergence_[static_cast<size_t>(s)];
  if (differs && (first < 0 || k < first)) first = k;
  if (crossings) add_crossings(s, *crossings);
}

void Comparator::set_incomplete(Index s) {
  incomplete_.at(static_cast<size_t>(s)) = true;
}

void Comparator::set_decisions(Index s, const Decision& hw, const Decision& sw) {
  hw_decision_.at(static_cast<size_t>(s)) = hw;
  sw_decision_.at(static_cast<size_t>(s)) = sw;
}

Metrics Comparator::result() const {
  Metrics m;
  double agree = 0, frames = 0, cand = 0, state = 0, out = 0, count = 0;
  for (size_t l = 0; l < cells_.size(); ++l) {
    m.cells.emplace_back();
    for (size_t i = 0; i < cells_[l].size(); ++i) {
      const Cell& c = cells_[l][i];
      const auto ii = static_cast<Index>(i);
      CellMoments all;
      for (const auto& seq :
           moments_) {  // in sequence order: the same figures whatever the arrival order
        all.candidate.merge(seq[l][i].candidate);
        all.state.merge(seq[l][i].state);
        all.output.merge(seq[l][i].output);
      }
      CellMetrics cm;
      cm.state_agreement = c.frames > 0 ? c.agree / c.frames : std::nan("");
      cm.candidate = all.candidate.metrics(k_[l].beta_hi(ii));
      cm.state = all.state.metrics(k_[l].alpha(ii));
      cm.output = all.output.metrics(0);
      for (const auto* sm : {&cm.candidate, &cm.state, &cm.output})
        m.constant_traces += std::isnan(sm->correlation);
      agree += c.agree;
      frames += c.frames;
      cand += cm.candidate.nrmse * cm.candidate.nrmse;
      state += cm.state.nrmse * cm.state.nrmse;
      out += cm.output.nrmse * cm.output.nrmse;
      count += 1;
      m.cells.back().push_back(cm);
    }
  }
  m.state_agreement = frames > 0 ? agree / frames : std::nan("");
  m.candidate_nrmse = std::sqrt(cand / count);
  m.state_nrmse = std::sqrt(state / count);
  m.output_nrmse = std::sqrt(out / count);
  double logit = 0;
  const size_t n_out = logits_.empty() ? 0 : logits_.front().size();
  for (size_t j = 0; j < n_out; ++j) {
    Moments all;
    for (const auto& seq : logits_) all.merge(seq[j]);
    m.logits.push_back(all.metrics(0));
    m.constant_traces += std::isnan(m.logits.back().correlation);
    logit += m.logits.back().nrmse * m.logits.back().nrmse;
  }
  m.logit_nrmse = n_out == 0 ? 0 : std::sqrt(logit / static_cast<double>(n_out));
  double decisions = 0, complete = 0;
  for (size_t s = 0; s < seq_agree_.size(); ++s) {
    SequenceMetrics sq;
    sq.state_agreement = seq_frames_[s] > 0 ? seq_agree_[s] / seq_frames_[s] : std::nan("");
    sq.first_divergence = first_divergence_[s];
    sq.hw = hw_decision_[s];
    sq.sw = sw_decision_[s];
    if (!incomplete_[s]) {
      decisions += sq.hw.decision == sq.sw.decision;
      complete += 1;
    }
    if (sq.first_divergence >= 0 &&
        (m.first_divergence < 0 || sq.first_divergence < m.first_divergence))
      m.first_divergence = sq.first_divergence;
    m.sequences.push_back(sq);
  }
  if (!latencies_.empty()) {
    std::vector<double> v = latencies_;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    m.latency.median_s = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    m.latency.max_s = v.back();
  } else {
    m.latency.median_s = m.latency.max_s = std::nan("");
  }
  m.latency.matched = static_cast<Index>(latencies_.size());
  m.latency.unmatched = unmatched_;
  m.latency.extra_crossings = extra_;
  m.decision_agreement = complete == 0 ? std::nan("") : decisions / complete;
  return m;
}

}  // namespace bmru::core
