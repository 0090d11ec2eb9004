// librosa's conventions, each on its own (issue 17), against documented values and closed forms.
#include "audio/features.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <numbers>

#include "audio/audio_file.hpp"
#include "core/errors.hpp"
#include "test_support.hpp"

namespace bmru::audio {
namespace {

std::vector<float> tone(double hz, double sr, double seconds, double amplitude = 0.5) {
  std::vector<float> y(static_cast<size_t>(std::llround(sr * seconds)));
  for (size_t i = 0; i < y.size(); ++i)
    y[i] = static_cast<float>(amplitude *
                              std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / sr));
  return y;
}

FeatureSettings log_mel(int bands) {
  FeatureSettings s;
  s.kind = FeatureKind::log_mel;
  s.count = bands;
  s.normalize = Normalize::none;
  return s;
}

TEST(Features, HannWindowIsPeriodic) {
  const auto w = hann_periodic(512);
  ASSERT_EQ(w.size(), 512u);
  EXPECT_DOUBLE_EQ(w[0], 0.0);
  EXPECT_DOUBLE_EQ(w[256], 1.0);
  // Periodic (fftbins=True): symmetric about n/2, not about (n-1)/2, so w[1] == w[511].
  for (int k = 1; k < 256; ++k)
    EXPECT_NEAR(w[static_cast<size_t>(k)], w[static_cast<size_t>(512 - k)], 1e-15);
}

TEST(Features, SlaneyMelScaleMatchesLibrosaDocumentation) {
  // librosa.hz_to_mel(60) == 0.9; hz_to_mel([110, 220, 440]) == [1.65, 3.3, 6.6] (its docstring).
  EXPECT_NEAR(hz_to_mel(60), 0.9, 1e-12);
  EXPECT_NEAR(hz_to_mel(110), 1.65, 1e-12);
  EXPECT_NEAR(hz_to_mel(440), 6.6, 1e-12);
  // The logarithmic part starts at 1 kHz = 15 mel, 27 mels per factor 6.4.
  EXPECT_NEAR(hz_to_mel(1000), 15.0, 1e-12);
  EXPECT_NEAR(hz_to_mel(6400), 42.0, 1e-12);
  EXPECT_NEAR(mel_to_hz(3), 200.0, 1e-12);
  for (double hz : {0.0, 50.0, 999.0, 1000.0, 1234.5, 7999.0})
    EXPECT_NEAR(mel_to_hz(hz_to_mel(hz)), hz, 1e-9 * std::max(1.0, hz));
}

TEST(Features, MelFiltersHaveSlaneyAreaNormalisation) {
  // librosa.filters.mel(sr=22050, n_fft=2048)[0, 1] is 0.016 in its docstring (3 decimals).
  const Eigen::MatrixXd doc = mel_filterbank(22050, 2048, 128, 0, 11025);
  EXPECT_NEAR(doc(0, 1), 0.016, 5e-4);
  EXPECT_EQ(doc(0, 0), 0.0);
  // Each triangle's area in Hz is one: the sum of weights times the bin spacing, for filters many
  // bins wide (the wide high bands at 16 kHz, n_fft 4096).
  const Eigen::MatrixXd w = mel_filterbank(16000, 4096, 40, 0, 8000);
  for (int m = 20; m < 39; ++m) EXPECT_NEAR(w.row(m).sum() * 16000.0 / 4096, 1.0, 0.01) << m;
  EXPECT_GE(w.minCoeff(), 0.0);
}

TEST(Features, PowerToDbFloorsAtAminAndTopDb) {
  Eigen::MatrixXd s(1, 4);
  s << 1.0, 1e-3, 1e-9, 0.0;
  const Eigen::MatrixXd db = power_to_db(s, 80);
  EXPECT_NEAR(db(0, 0), 0.0, 1e-12);
  EXPECT_NEAR(db(0, 1), -30.0, 1e-12);
  EXPECT_NEAR(db(0, 2), -80.0, 1e-12);  // -90 dB is held at max - top_db
  EXPECT_NEAR(db(0, 3), -80.0, 1e-12);
  Eigen::MatrixXd quiet = Eigen::MatrixXd::Zero(2, 2);
  EXPECT_NEAR(power_to_db(quiet, 80).maxCoeff(), -100.0, 1e-12);  // amin 1e-10
}

TEST(Features, OneSecondGivesOneHundredAndOneCentredFrames) {
  const FeatureExtractor fx(FeatureSettings{});
  EXPECT_EQ(fx.settings().frames(), 101);
  const Eigen::MatrixXd f = fx.from_samples(tone(440, 16000, 1.0));
  EXPECT_EQ(f.rows(), 101);
  EXPECT_EQ(f.cols(), 13);
}

TEST(Features, PowerSpectrogramIsCentredAndWindowed) {
  const FeatureExtractor fx(FeatureSettings{});
  const std::vector<float> ones(16000, 1.0f);
  const Eigen::MatrixXd p = fx.power_spectrogram(ones);
  // A middle frame of a constant: |sum of the window|^2 = (n/2)^2 at DC.
  EXPECT_NEAR(p(50, 0), 256.0 * 256.0, 1e-6);
  // Frame 0 is centred on sample 0: only the window's second half sees the clip.
  double half = 0;
  const auto w = hann_periodic(512);
  for (int j = 256; j < 512; ++j) half += w[static_cast<size_t>(j)];
  EXPECT_NEAR(p(0, 0), half * half, 1e-6);
  // A tone on a bin's frequency peaks in that bin (1000 Hz = bin 32 at 16 kHz, n_fft 512).
  const Eigen::MatrixXd t = fx.power_spectrogram(tone(1000, 16000, 1.0));
  Eigen::Index bin = 0;
  t.row(50).maxCoeff(&bin);
  EXPECT_EQ(bin, 32);
}

TEST(Features, PureToneLightsTheMelBandAroundIt) {
  const FeatureExtractor fx(log_mel(40));
  for (double hz : {300.0, 1000.0, 2500.0, 6000.0}) {
    const Eigen::MatrixXd f = fx.from_samples(tone(hz, 16000, 1.0));
    Eigen::Index band = 0;
    f.row(50).maxCoeff(&band);
    // The band whose centre lies nearest the tone, on the mel scale.
    const double step = hz_to_mel(8000) / 41;
    const auto expected = static_cast<Eigen::Index>(std::lround(hz_to_mel(hz) / step)) - 1;
    EXPECT_NEAR(static_cast<double>(band), static_cast<double>(expected), 1.0) << hz << " Hz";
  }
}

TEST(Features, SilenceGivesTheFloor) {
  const std::vector<float> silence(16000, 0.0f);
  // Log-mel: every band at the amin floor, which the shift maps to 0.
  EXPECT_EQ(FeatureExtractor(log_mel(40)).from_samples(silence).cwiseAbs().maxCoeff(), 0.0);
  // MFCC without normalisation: -100 dB in every band, so the orthonormal DCT-II gives
  // c0 = -100 sqrt(128) and nothing else.
  FeatureSettings raw;
  raw.normalize = Normalize::none;
  const Eigen::MatrixXd m = FeatureExtractor(raw).from_samples(silence);
  EXPECT_NEAR(m(10, 0), -100.0 * std::sqrt(128.0), 1e-9);
  EXPECT_LT(m.rightCols(12).cwiseAbs().maxCoeff(), 1e-9);
  // Normalised per utterance, a constant feature becomes 0 up to the rounding of its mean
  // (about 1e-13) over std + 1e-8: finite and small, never amplified to order 1.
  const Eigen::MatrixXd n = FeatureExtractor(FeatureSettings{}).from_samples(silence);
  EXPECT_LT(n.cwiseAbs().maxCoeff(), 1e-3);
}

TEST(Features, UtteranceNormalisationStandardisesEachFeature) {
  Eigen::MatrixXd f(4, 2);
  f << 1, 10, 2, 10, 3, 10, 4, 10;
  const Eigen::MatrixXd n = normalize_utterance(f);
  EXPECT_NEAR(n.col(0).mean(), 0.0, 1e-12);
  EXPECT_NEAR(n.col(0).squaredNorm() / 4, 1.0, 1e-7);  // population std, + 1e-8
  EXPECT_NEAR(n(0, 0), -1.5 / std::sqrt(1.25), 1e-7);
  EXPECT_EQ(n.col(1).cwiseAbs().maxCoeff(), 0.0);
}

TEST(Features, ClipsAreCutOrPaddedAtTheEnd) {
  const FeatureExtractor fx(log_mel(40));
  const Clip short_clip{tone(1000, 16000, 0.3), 16000};
  const Clip long_clip{tone(1000, 16000, 1.7), 16000};
  const Eigen::MatrixXd a = fx.compute(short_clip), b = fx.compute(long_clip);
  EXPECT_EQ(a.rows(), 101);
  EXPECT_EQ(b.rows(), 101);
  // The padded end is silence: every band at the clip's floor (its loudest band - top_db).
  EXPECT_EQ(a.row(90).maxCoeff(), a.minCoeff());
  EXPECT_NEAR(a.maxCoeff() - a.minCoeff(), 0.8, 1e-12);
  EXPECT_GT(b.row(90).maxCoeff(), 0.5);  // the cut clip still sounds at 0.9 s
  EXPECT_NEAR((a.row(5) - b.row(5)).cwiseAbs().maxCoeff(), 0.0, 1e-12);  // same start
}

TEST(Features, ResamplingKeepsABandLimitedToneAndLibrosasLength) {
  const std::vector<float> x = tone(440, 8000, 0.5);
  const std::vector<float> y = resample(x, 8000, 16000);
  EXPECT_EQ(y.size(), 8000u);  // ceil(4000 * 2)
  const std::vector<float> ideal = tone(440, 16000, 0.5);
  double err = 0;
  for (size_t i = 400; i < 7600; ++i)
    err = std::max(err, std::abs(static_cast<double>(y[i] - ideal[i])));
  EXPECT_LT(err, 2e-3);  // soxr HQ is linear phase with its delay removed
  EXPECT_EQ(resample(tone(440, 22050, 0.1), 22050, 16000).size(), 1600u);  // ceil(2205 * 16/22.05)
  EXPECT_EQ(resample(x, 8000, 8000), x);
  EXPECT_THROW(resample(x, 0, 16000), InputError);
}

void write_sound(const std::filesystem::path& p, int format, int channels, int rate,
                 const std::vector<float>& interleaved) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / channels));
  sf_close(f);
}

TEST(AudioFile, ReadsPcmWidthsFloatFlacAndDownmixesStereo) {
  test::TempDir dir;
  const std::vector<float> left = tone(300, 8000, 0.2, 0.5), right = tone(700, 8000, 0.2, 0.25);
  std::vector<float> stereo;
  for (size_t i = 0; i < left.size(); ++i) {
    stereo.push_back(left[i]);
    stereo.push_back(right[i]);
  }
  struct Case {
    const char* name;
    int format;
    double tolerance;
  };
  for (const Case c : {Case{"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1.0 / 128},
                       Case{"b.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1.0 / 32768},
                       Case{"c.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1.0 / 8388608},
                       Case{"d.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1e-7},
                       Case{"e.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1.0 / 32768}}) {
    write_sound(dir / c.name, c.format, 2, 8000, stereo);
    const Clip clip = read_clip(dir / c.name);
    EXPECT_EQ(clip.sample_rate, 8000) << c.name;
    ASSERT_EQ(clip.samples.size(), left.size()) << c.name;
    double err = 0;
    for (size_t i = 0; i < left.size(); ++i)
      err = std::max(err, std::abs(clip.samples[i] - 0.5 * (left[i] + right[i])));
    EXPECT_LE(err, c.tolerance) << c.name;
  }
}

TEST(AudioFile, BadFilesAreNamed) {
  test::TempDir dir;
  std::ofstream(dir / "notes.wav") << "this is not audio";
  std::ofstream(dir / "empty.wav").close();
  write_sound(dir / "nothing.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, {});
  for (const char* name : {"notes.wav", "empty.wav", "nothing.wav", "missing.wav"}) {
    try {
      read_clip(dir / name);
      ADD_FAILURE() << name << " was read";
    } catch (const FileError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  FeatureSettings zero;
  zero.sample_rate = 0;
  try {
    FeatureExtractor fx(zero);
    ADD_FAILURE() << "a sample rate of 0 was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--sample-rate"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bmru::audio
