#include "audio/audio_file.hpp"

#include <sndfile.h>
#include <soxr.h>

#include <cmath>
#include <memory>

#include "core/errors.hpp"

namespace bmru::audio {

Clip read_clip(const std::filesystem::path& path) {
  const std::string p = path.string();
  if (std::filesystem::is_directory(path)) throw FileError(p, "", "is a folder, not an audio file");
  SF_INFO info{};
  std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> f(sf_open(p.c_str(), SFM_READ, &info), sf_close);
  if (!f)
    throw FileError(p, "",
                    std::string("is not a readable audio file (") + sf_strerror(nullptr) + ")");
  if (info.samplerate <= 0) throw FileError(p, "", "has a sample rate of 0");
  if (info.channels <= 0) throw FileError(p, "", "has no channels");
  if (info.frames <= 0) throw FileError(p, "", "holds no samples");
  const auto frames = static_cast<size_t>(info.frames),
             channels = static_cast<size_t>(info.channels);
  std::vector<float> interleaved(frames * channels);
  // Integer PCM to [-1, 1) by 2^(bits-1), as soundfile (and so librosa) reads it.
  sf_command(f.get(), SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
  const sf_count_t got = sf_readf_float(f.get(), interleaved.data(), info.frames);
  if (got != info.frames)
    throw FileError(p, "",
                    "ended after " + std::to_string(got) + " of " + std::to_string(info.frames) +
                        " frames (truncated?)");
  Clip clip;
  clip.sample_rate = info.samplerate;
  if (channels == 1) {
    clip.samples = std::move(interleaved);
  } else {
    // librosa.to_mono: the mean over channels (in float32, as numpy does for a float32 array).
    clip.samples.resize(frames);
    for (size_t i = 0; i < frames; ++i) {
      float sum = 0;
      for (size_t c = 0; c < channels; ++c) sum += interleaved[i * channels + c];
      clip.samples[i] = sum / static_cast<float>(channels);
    }
  }
  for (size_t i = 0; i < clip.samples.size(); ++i)
    if (!std::isfinite(clip.samples[i]))
      throw FileError(p, "", "sample " + std::to_string(i) + " is not finite");
  return clip;
}

std::vector<float> resample(const std::vector<float>& samples, double from_hz, double to_hz) {
  if (!(from_hz > 0) || !(to_hz > 0))
    throw InputError("Resampling needs positive sample rates (got " + std::to_string(from_hz) +
                     " Hz to " + std::to_string(to_hz) + " Hz).");
  if (from_hz == to_hz || samples.empty()) return samples;
  const auto target =
      static_cast<size_t>(std::ceil(static_cast<double>(samples.size()) * to_hz / from_hz));
  std::vector<float> out(target + 64);
  size_t done = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  const soxr_error_t err = soxr_oneshot(from_hz, to_hz, 1, samples.data(), samples.size(), nullptr,
                                        out.data(), out.size(), &done, &io, &quality, &runtime);
  if (err) throw InputError(std::string("libsoxr could not resample: ") + err);
  out.resize(done);
  out.resize(target, 0.0f);  // librosa's fix_length
  return out;
}

}  // namespace bmru::audio
