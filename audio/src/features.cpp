#include "audio/features.hpp"

#include <fftw3.h>

#include <Eigen/SparseCore>
#include <cmath>
#include <numbers>

#include "core/errors.hpp"

namespace bmru::audio {
namespace {

constexpr double kAmin = 1e-10;     // power_to_db's amin
constexpr double kStdFloor = 1e-8;  // per-utterance standardisation: std + 1e-8

// Slaney's mel scale (librosa, htk=False): 3 mels per 200 Hz below 1 kHz, then logarithmic with
// 27 mels per factor 6.4.
constexpr double kMelLinearHz = 200.0 / 3.0;
constexpr double kMelBreakHz = 1000.0;
const double kMelBreak = kMelBreakHz / kMelLinearHz;
const double kMelLogStep = std::log(6.4) / 27.0;

struct FftwFree {
  void operator()(void* p) const { fftw_free(p); }
};
struct PlanFree {
  void operator()(fftw_plan p) const { fftw_destroy_plan(p); }
};
using Plan = std::unique_ptr<std::remove_pointer_t<fftw_plan>, PlanFree>;

}  // namespace

std::int64_t FeatureSettings::samples() const {
  return static_cast<std::int64_t>(std::llround(duration_s * sample_rate));
}

std::int64_t FeatureSettings::frames() const {
  return 1 + samples() / hop;
}

std::vector<std::string> FeatureSettings::problems() const {
  std::vector<std::string> p;
  if (!(sample_rate > 0) || !std::isfinite(sample_rate))
    p.push_back("--sample-rate must be positive (got " + std::to_string(sample_rate) + ")");
  if (!(duration_s > 0) || !(duration_s <= 3600))
    p.push_back("--duration must lie in (0, 3600] s (got " + std::to_string(duration_s) + ")");
  if (n_fft < 16 || n_fft > (1 << 16) || n_fft % 2)
    p.push_back("--n-fft must be even and lie in 16-65536 (got " + std::to_string(n_fft) + ")");
  if (hop < 1 || hop > n_fft)
    p.push_back("--hop must lie in 1 to n_fft (got " + std::to_string(hop) + ")");
  const int bands = kind == FeatureKind::mfcc ? n_mels : count;
  if (bands < 1 || bands > 1024)
    p.push_back("the number of mel bands must lie in 1-1024 (got " + std::to_string(bands) + ")");
  if (kind == FeatureKind::mfcc && (count < 1 || count > n_mels))
    p.push_back("--mfcc must lie in 1 to n_mels = " + std::to_string(n_mels) + " (got " +
                std::to_string(count) + ")");
  if (!(top_db > 0)) p.push_back("top_db must be positive");
  if (p.empty() && samples() < 1) p.push_back("--duration x --sample-rate gives no samples");
  return p;
}

std::vector<double> hann_periodic(int n) {
  std::vector<double> w(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k)
    w[static_cast<size_t>(k)] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * k / n);
  return w;
}

double hz_to_mel(double hz) {
  if (hz < kMelBreakHz) return hz / kMelLinearHz;
  return kMelBreak + std::log(hz / kMelBreakHz) / kMelLogStep;
}

double mel_to_hz(double mel) {
  if (mel < kMelBreak) return mel * kMelLinearHz;
  return kMelBreakHz * std::exp(kMelLogStep * (mel - kMelBreak));
}

Eigen::MatrixXd mel_filterbank(double sample_rate, int n_fft, int n_mels, double fmin,
                               double fmax) {
  const int bins = 1 + n_fft / 2;
  // Band edges: n_mels + 2 points evenly spaced in mel between fmin and fmax.
  std::vector<double> edge(static_cast<size_t>(n_mels + 2));
  const double m0 = hz_to_mel(fmin), m1 = hz_to_mel(fmax);
  for (int i = 0; i < n_mels + 2; ++i)
    edge[static_cast<size_t>(i)] = mel_to_hz(m0 + (m1 - m0) * i / (n_mels + 1));
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(n_mels, bins);
  for (int m = 0; m < n_mels; ++m) {
    const double lo = edge[static_cast<size_t>(m)], mid = edge[static_cast<size_t>(m + 1)],
                 hi = edge[static_cast<size_t>(m + 2)];
    for (int k = 0; k < bins; ++k) {
      const double f = k * sample_rate / n_fft;
      const double rise = (f - lo) / (mid - lo), fall = (hi - f) / (hi - mid);
      w(m, k) = std::max(0.0, std::min(rise, fall));
    }
    w.row(m) *= 2.0 / (hi - lo);  // Slaney: each filter has unit area in Hz
  }
  return w;
}

Eigen::MatrixXd power_to_db(const Eigen::MatrixXd& power, double top_db) {
  Eigen::MatrixXd db =
      power.unaryExpr([](double s) { return 10.0 * std::log10(std::max(kAmin, s)); });
  const double floor = db.maxCoeff() - top_db;
  return db.cwiseMax(floor);
}

Eigen::MatrixXd normalize_utterance(const Eigen::MatrixXd& f) {
  const Eigen::RowVectorXd mean = f.colwise().mean();
  const Eigen::MatrixXd centred = f.rowwise() - mean;
  const Eigen::RowVectorXd sd =
      (centred.array().square().colwise().sum() / static_cast<double>(f.rows())).sqrt();
  return centred.array().rowwise() / (sd.array() + kStdFloor);
}

struct FeatureExtractor::Impl {
  FeatureSettings s;
  std::vector<double> window;
  Eigen::SparseMatrix<double> mel_t;  // [bins, bands], the filterbank transposed
  int bands = 0;
  std::unique_ptr<double, FftwFree> frame, dct_in, dct_out;
  std::unique_ptr<fftw_complex, FftwFree> spectrum;
  Plan fft, dct;
};

FeatureExtractor::FeatureExtractor(FeatureSettings settings) : impl_(std::make_unique<Impl>()) {
  const auto problems = settings.problems();
  if (!problems.empty()) {
    std::string t = "The feature settings are unusable:";
    for (const auto& p : problems) t += "\n  - " + p;
    throw InputError(t);
  }
  Impl& m = *impl_;
  m.s = settings;
  m.window = hann_periodic(settings.n_fft);
  m.bands = settings.kind == FeatureKind::mfcc ? settings.n_mels : settings.count;
  m.mel_t =
      mel_filterbank(settings.sample_rate, settings.n_fft, m.bands, 0, settings.sample_rate / 2)
          .transpose()
          .sparseView();
  const int n = settings.n_fft, bins = 1 + n / 2;
  m.frame.reset(static_cast<double*>(fftw_malloc(sizeof(double) * static_cast<size_t>(n))));
  m.spectrum.reset(
      static_cast<fftw_complex*>(fftw_malloc(sizeof(fftw_complex) * static_cast<size_t>(bins))));
  m.dct_in.reset(static_cast<double*>(fftw_malloc(sizeof(double) * static_cast<size_t>(m.bands))));
  m.dct_out.reset(static_cast<double*>(fftw_malloc(sizeof(double) * static_cast<size_t>(m.bands))));
  // FFTW_ESTIMATE: the plan (and so the last bits of every result) never depends on timing.
  m.fft.reset(fftw_plan_dft_r2c_1d(n, m.frame.get(), m.spectrum.get(), FFTW_ESTIMATE));
  m.dct.reset(
      fftw_plan_r2r_1d(m.bands, m.dct_in.get(), m.dct_out.get(), FFTW_REDFT10, FFTW_ESTIMATE));
  if (!m.fft || !m.dct) throw InputError("FFTW could not plan the transforms for these settings.");
}

FeatureExtractor::~FeatureExtractor() = default;
FeatureExtractor::FeatureExtractor(FeatureExtractor&&) noexcept = default;
FeatureExtractor& FeatureExtractor::operator=(FeatureExtractor&&) noexcept = default;

const FeatureSettings& FeatureExtractor::settings() const {
  return impl_->s;
}

Eigen::MatrixXd FeatureExtractor::power_spectrogram(const std::vector<float>& y) const {
  const Impl& m = *impl_;
  const int n = m.s.n_fft, half = n / 2, bins = half + 1;
  const auto len = static_cast<std::int64_t>(y.size());
  const std::int64_t frames = 1 + len / m.s.hop;
  Eigen::MatrixXd power(frames, bins);
  double* in = m.frame.get();
  for (std::int64_t t = 0; t < frames; ++t) {
    // Centred: frame t covers y[t hop - n/2, t hop + n/2), zeros outside the clip.
    const std::int64_t start = t * m.s.hop - half;
    for (int j = 0; j < n; ++j) {
      const std::int64_t i = start + j;
      in[j] =
          (i >= 0 && i < len) ? m.window[static_cast<size_t>(j)] * y[static_cast<size_t>(i)] : 0.0;
    }
    fftw_execute(m.fft.get());
    const fftw_complex* X = m.spectrum.get();
    for (int k = 0; k < bins; ++k) power(t, k) = X[k][0] * X[k][0] + X[k][1] * X[k][1];
  }
  return power;
}

Eigen::MatrixXd FeatureExtractor::from_samples(const std::vector<float>& y) const {
  const Impl& m = *impl_;
  const Eigen::MatrixXd mel = power_spectrogram(y) * m.mel_t;  // [frames, bands]
  const Eigen::MatrixXd db = power_to_db(mel, m.s.top_db);
  Eigen::MatrixXd f;
  if (m.s.kind == FeatureKind::log_mel) {
    // Shifted by the amin floor (-100 dB) and scaled to bels / 10: 0 for silence, about 1 for
    // a loud clip; never negative.
    f = (db.array() - 10.0 * std::log10(kAmin)) / (-10.0 * std::log10(kAmin));
  } else {
    // Orthonormal DCT-II over the bands: FFTW's REDFT10 is 2 sum x_j cos(pi k (j + 1/2) / N).
    const int N = m.bands;
    const double s0 = std::sqrt(1.0 / (4.0 * N)), s = std::sqrt(1.0 / (2.0 * N));
    f.resize(db.rows(), m.s.count);
    for (Eigen::Index t = 0; t < db.rows(); ++t) {
      for (int j = 0; j < N; ++j) m.dct_in.get()[j] = db(t, j);
      fftw_execute(m.dct.get());
      for (int k = 0; k < m.s.count; ++k) f(t, k) = m.dct_out.get()[k] * (k == 0 ? s0 : s);
    }
  }
  return m.s.normalize == Normalize::utterance ? normalize_utterance(f) : f;
}

Eigen::MatrixXd FeatureExtractor::compute(const Clip& clip) const {
  std::vector<float> y = resample(clip.samples, clip.sample_rate, impl_->s.sample_rate);
  y.resize(static_cast<size_t>(impl_->s.samples()), 0.0f);  // cut or zero-pad at the end
  return from_samples(y);
}

Eigen::MatrixXd FeatureExtractor::compute(const std::filesystem::path& file) const {
  return compute(read_clip(file));
}

std::vector<core::Attr> attributes(const FeatureSettings& s) {
  return {
      {"feature_kind", std::string(s.kind == FeatureKind::mfcc ? "mfcc" : "log_mel")},
      {"feature_count", static_cast<std::int64_t>(s.count)},
      {"sample_rate", s.sample_rate},
      {"duration_s", s.duration_s},
      {"n_fft", static_cast<std::int64_t>(s.n_fft)},
      {"hop", static_cast<std::int64_t>(s.hop)},
      {"n_mels", static_cast<std::int64_t>(s.kind == FeatureKind::mfcc ? s.n_mels : s.count)},
      {"top_db", s.top_db},
      {"normalize", std::string(s.normalize == Normalize::utterance ? "utterance" : "none")},
      {"feature_version", std::string(kFeatureVersion)},
  };
}

}  // namespace bmru::audio
