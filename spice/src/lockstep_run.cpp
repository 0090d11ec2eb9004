#include "lockstep_run.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace bmru::spice {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

LockstepRun::LockstepRun(const LockstepSpec& spec, LockstepHandler& handler, double stop_s)
    : spec_(spec),
      handler_(handler),
      stop_s_(stop_s),
      // Breakpoints land within ngspice's minimum break (about 1e-9 of the step); a part in 1e7
      // of the period is far below any step we take and far above rounding.
      eps_(spec.axis.period_s * 1e-7) {
  for (size_t i = 0; i < spec.sources.size(); ++i) source_index_[lower(spec.sources[i])] = i;
  for (size_t i = 0; i < spec.signals.size(); ++i) signal_index_[lower(spec.signals[i])] = i;
  acc_int_.assign(spec.integrals.size(), 0.0);
}

const std::vector<double>& LockstepRun::frame(Index k) {
  for (int i = 0; i < 2; ++i)
    if (cached_k_[i] == k) return cached_[i];
  auto& slot = cached_[next_cache_];
  slot.assign(spec_.sources.size(), 0.0);
  spec_.frame_values(k, std::span<double>(slot));
  cached_k_[next_cache_] = k;
  next_cache_ ^= 1;
  return slot;
}

double LockstepRun::source_value(const char* name, double t) {
  const std::string n = lower(name ? name : "");
  if (n == "vbmru_abort") return abort_after_ >= 0 && t > abort_after_ ? 1.0 : 0.0;
  const auto it = source_index_.find(n);
  if (it == source_index_.end()) {
    const auto sig = signal_index_.find(n);
    if (sig != signal_index_.end() && spec_.signal_value) return spec_.signal_value(sig->second, t);
    if (std::find(problems_.begin(), problems_.end(), "no driver for " + n) == problems_.end())
      problems_.push_back("no driver for " + n);
    return 0.0;
  }
  if (spec_.frames <= 0) return 0.0;
  Index k = spec_.axis.frame_at(t);
  double w = spec_.axis.ramp_weight(t);
  if (k >= spec_.frames) {
    k = spec_.frames - 1;
    w = 1.0;
  }
  const double x = frame(k)[it->second];
  if (w >= 1.0 || k == 0) return x;  // x_{-1} = x_0
  const double x_prev = frame(k - 1)[it->second];
  return x_prev + w * (x - x_prev);
}

void LockstepRun::on_plot() {
  mapped_ = false;
}

void LockstepRun::map_vectors(pvecvaluesall values) {
  std::unordered_map<std::string, int> index;
  for (int i = 0; i < values->veccount; ++i) {
    const pvecvalues v = values->vecsa[i];
    if (v->is_scale) time_index_ = i;
    index[lower(v->name)] = i;
  }
  const auto find = [&](const std::vector<std::string>& names, std::vector<int>& out) {
    out.clear();
    for (const auto& name : names) {
      const auto it = index.find(lower(name));
      if (it == index.end()) {
        problems_.push_back("vector '" + name +
                            "' is not in the simulation (check the node or source name)");
        out.push_back(-1);
      } else {
        out.push_back(it->second);
      }
    }
  };
  find(spec_.probes, probe_index_);
  find(spec_.integrals, integral_index_);
  find(spec_.dense, dense_index_);
  mapped_ = true;
}

void LockstepRun::queue_initial_breakpoints() {
  schedule_breakpoints(0.0);
}

void LockstepRun::schedule_breakpoints(double t) {
  // Keep the breakpoints of the next one and a half frames set: ngSpice_SetBkpt inserts in O(n),
  // so all of them up front would cost O(N^2), and times in the past are refused.
  const size_t total = static_cast<size_t>(spec_.frames) * 3;
  const double horizon = t + 1.5 * spec_.axis.period_s;
  while (next_bkpt_ < total) {
    const Index k = static_cast<Index>(next_bkpt_ / 3);
    const double when = spec_.axis.breakpoints(k)[next_bkpt_ % 3];
    if (when > horizon) break;
    if (when > t + eps_ && when < stop_s_ - eps_) ngSpice_SetBkpt(when);
    ++next_bkpt_;
  }
}

void LockstepRun::sample(double t, const std::vector<double>& now) {
  while (next_sample_ < spec_.frames && t >= spec_.axis.sample_time(next_sample_) - eps_) {
    const double ts = spec_.axis.sample_time(next_sample_);
    std::vector<double> v = now;
    if (t_prev_ >= 0 && t - ts > eps_ && t > t_prev_) {
      const double f = (ts - t_prev_) / (t - t_prev_);
      for (size_t i = 0; i < v.size(); ++i) v[i] = prev_probes_[i] + f * (now[i] - prev_probes_[i]);
    }
    const Action a = handler_.on_sample(next_sample_, std::span<const double>(v));
    ++next_sample_;
    if (a == Action::stop && abort_after_ < 0) abort_after_ = t;
  }
}

void LockstepRun::integrate(double t, const std::vector<double>& now) {
  if (spec_.integrals.empty() || t_prev_ < 0) return;
  double ta = t_prev_;
  std::vector<double> va = prev_int_;
  while (integral_frame_ < spec_.frames) {
    const double te = spec_.axis.frame_start(integral_frame_ + 1);
    if (t < te - eps_) {
      for (size_t i = 0; i < now.size(); ++i) acc_int_[i] += 0.5 * (va[i] + now[i]) * (t - ta);
      return;
    }
    const bool at_end = t - te <= eps_;
    const double tb = at_end ? t : te;
    std::vector<double> vb = now;
    if (!at_end)
      for (size_t i = 0; i < now.size(); ++i)
        vb[i] = va[i] + (now[i] - va[i]) * (te - ta) / (t - ta);
    for (size_t i = 0; i < now.size(); ++i) acc_int_[i] += 0.5 * (va[i] + vb[i]) * (tb - ta);
    handler_.on_frame_end(integral_frame_, std::span<const double>(acc_int_));
    std::fill(acc_int_.begin(), acc_int_.end(), 0.0);
    ++integral_frame_;
    if (at_end) return;
    ta = te;
    va = vb;
  }
}

void LockstepRun::on_data(pvecvaluesall values) {
  if (!mapped_) map_vectors(values);
  if (time_index_ < 0) return;
  const double t = values->vecsa[time_index_]->creal;
  const auto read = [&](const std::vector<int>& idx, std::vector<double>& out) {
    out.resize(idx.size());
    for (size_t i = 0; i < idx.size(); ++i)
      out[i] = idx[i] >= 0 ? values->vecsa[idx[i]]->creal : std::nan("");
  };
  read(probe_index_, now_probes_);
  read(integral_index_, now_int_);
  ++accepted_;
  if (!problems_.empty() && abort_after_ < 0) abort_after_ = t;
  // Dense points first, so a frame's dense data is complete when its sample and end arrive.
  if (!spec_.dense.empty()) {
    read(dense_index_, dense_);
    handler_.on_point(t, std::span<const double>(dense_));
  }
  sample(t, now_probes_);
  integrate(t, now_int_);
  schedule_breakpoints(t);
  t_prev_ = t;
  prev_probes_ = now_probes_;
  prev_int_ = now_int_;
}

}  // namespace bmru::spice
