#pragma once
// Audio in, as librosa.load(path, sr=None, mono=True) gives it: float32 samples in [-1, 1)
// (integer PCM divided by 2^(bits-1), as libsndfile and soundfile do), channels averaged.
#include <filesystem>
#include <vector>

namespace bmru::audio {

struct Clip {
  std::vector<float> samples;  // mono
  double sample_rate = 0;      // Hz
};

// Any format libsndfile reads (WAV, FLAC, ...; 8/16/24/32-bit PCM or float; mono or multi-channel,
// downmixed by the mean). Throws FileError naming the file when it is not audio, unreadable,
// empty or has a sample rate of 0.
Clip read_clip(const std::filesystem::path& path);

// librosa.resample(y, orig_sr, target_sr, res_type="soxr_hq"): libsoxr at HQ quality with float32
// samples, then cut or zero-padded to ceil(n * target / orig) samples. Returns `samples` unchanged
// when the rates are equal.
std::vector<float> resample(const std::vector<float>& samples, double from_hz, double to_hz);

}  // namespace bmru::audio
