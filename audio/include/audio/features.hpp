#pragma once
// Speech features as librosa 0.10 computes them (DESIGN.md section 3, audio/):
//
//   MFCC:    librosa.feature.mfcc(y, sr, n_mfcc, n_fft, hop_length) with every other argument at
//   its
//            default: centred frames (n_fft/2 zeros on each side), periodic Hann window of n_fft,
//            power spectrogram, n_mels mel bands on the Slaney scale with Slaney area normalisation
//            (fmin 0, fmax sr/2), power_to_db(ref=1, amin=1e-10, top_db=80), orthonormal DCT-II,
//            the first n_mfcc coefficients.
//   log-mel: the same mel power spectrogram with `count` bands through power_to_db, then shifted
//            by its floor (max - top_db) and divided by top_db: non-negative values in [0, 1],
//            first-quadrant inputs for the circuit.
//
// Per-utterance normalisation (the published front end): each feature gets its mean over the
// clip's frames removed and is divided by its (population) standard deviation + 1e-8.
//
// Every step runs in double precision; librosa runs in float32, so the two agree to about 1e-6
// relative, well inside the 1e-4 the reference test asks for.
#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audio/audio_file.hpp"
#include "core/run_file.hpp"

namespace bmru::audio {

enum class FeatureKind { mfcc, log_mel };
enum class Normalize { utterance, none };

// The feature code's version, recorded with every feature file: change it whenever a number
// it produces could change.
inline constexpr const char* kFeatureVersion = "librosa-0.10-mfcc/1";

struct FeatureSettings {
  FeatureKind kind = FeatureKind::mfcc;
  int count = 13;  // n_mfcc, or the mel bands of log-mel
  Normalize normalize = Normalize::utterance;
  double sample_rate = 16000;  // Hz; clips at other rates are resampled (soxr HQ)
  double duration_s = 1;       // clips are cut or zero-padded at the end to this length
  int n_fft = 512;
  int hop = 160;
  int n_mels = 128;  // mel bands behind the MFCCs
  double top_db = 80;

  std::int64_t samples() const;  // samples per clip after cropping / padding
  std::int64_t frames() const;   // 1 + samples / hop (centred frames)
  // Every problem at once; empty when usable.
  std::vector<std::string> problems() const;
};

// --- The steps, each a function of its own so that each convention is tested on its own. ---

// scipy.signal.get_window("hann", n, fftbins=True): 0.5 - 0.5 cos(2 pi k / n), k = 0..n-1.
std::vector<double> hann_periodic(int n);
// librosa.hz_to_mel / mel_to_hz with htk=False (Slaney: linear below 1 kHz, logarithmic above).
double hz_to_mel(double hz);
double mel_to_hz(double mel);
// librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm="slaney"): [n_mels, 1 +
// n_fft/2].
Eigen::MatrixXd mel_filterbank(double sample_rate, int n_fft, int n_mels, double fmin, double fmax);
// librosa.power_to_db(S, ref=1, amin=1e-10, top_db) over the whole array.
Eigen::MatrixXd power_to_db(const Eigen::MatrixXd& power, double top_db);
// Per-utterance standardisation along the rows (frames) of [frames, features].
Eigen::MatrixXd normalize_utterance(const Eigen::MatrixXd& features);

// Turns clips into [frames, count] feature matrices. Holds the FFT plans (FFTW, made once with
// FFTW_ESTIMATE so that results never depend on timing) and the mel filters; one per thread.
class FeatureExtractor {
 public:
  explicit FeatureExtractor(FeatureSettings settings);  // throws InputError listing problems()
  ~FeatureExtractor();
  FeatureExtractor(FeatureExtractor&&) noexcept;
  FeatureExtractor& operator=(FeatureExtractor&&) noexcept;

  const FeatureSettings& settings() const;
  // A clip at any rate: resampled, cut or padded, then features.
  Eigen::MatrixXd compute(const Clip& clip) const;
  Eigen::MatrixXd compute(const std::filesystem::path& file) const;
  // Samples already at settings().sample_rate, already cut or padded; exposed for tests.
  Eigen::MatrixXd power_spectrogram(const std::vector<float>& y) const;  // [frames, 1 + n_fft/2]
  Eigen::MatrixXd from_samples(const std::vector<float>& y) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The settings as attributes of /inputs: feature_kind, feature_count, sample_rate, duration_s,
// n_fft, hop, n_mels, top_db, normalize, feature_version.
std::vector<core::Attr> attributes(const FeatureSettings& s);

}  // namespace bmru::audio
