#pragma once
// Labelled keyword datasets (core/dataset_file.hpp layout) built from speech:
//   - the Free Spoken Digit Dataset (FSDD) read from its recordings folder;
//   - a synthetic keyword set spoken by espeak-ng over its English voices.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audio/features.hpp"
#include "core/dataset_file.hpp"

namespace bmru::audio {

// Called after each clip with (clips done, clips in all).
using ProgressFn = std::function<void(std::int64_t, std::int64_t)>;

// Features of the given files, in order (`bmru features`): /inputs, /name (the file names), and
// the settings as attributes of /inputs. Unlabelled.
core::Dataset feature_files(const std::vector<std::filesystem::path>& files,
                            const FeatureSettings& settings, const ProgressFn& progress = {});

struct FsddOptions {
  std::filesystem::path root;  // the folder of {digit}_{speaker}_{take}.wav files
  std::optional<int> keyword;  // binary keyword (label 1) vs the rest (label 0) ...
                               // ... or, when empty, the ten digits (labels 0-9)
  FeatureSettings features;
  std::string test_speaker = "george";  // the speaker-independent split
  std::string val_speaker = "lucas";
  // Only these speakers (empty: all) and takes [first, last] (a small set for a quick run).
  std::vector<std::string> speakers;
  int first_take = 0, last_take = 1 << 30;
};

// FSDD, every recording in `root`, sorted by name. Splits:
//   own:     takes 0-4 test (the dataset's own test set), takes 5-9 val, the rest train;
//   speaker: test_speaker test, val_speaker val, the others train.
// Throws FileError naming the folder when it holds no recordings, or a file whose name is not of
// the FSDD form.
core::Dataset build_fsdd(const FsddOptions& options, const ProgressFn& progress = {});

struct SynthOptions {
  std::vector<std::string> words = {"yes",   "no", "up",  "down", "left",
                                    "right", "on", "off", "stop", "go"};
  std::optional<std::string> keyword = std::string("yes");  // binary keyword vs rest, or all words
  int per_voice = 1;  // clips of each word per voice (pitch and speed drawn anew)
  double snr_min_db = 5, snr_max_db = 20;
  std::uint64_t seed = 1;
  FeatureSettings features;
  // Voices are an English accent plus an espeak-ng variant; empty lists take the built-in ones.
  std::vector<std::string> accents, variants;
  double val_share = 0.15, test_share = 0.15;  // of the voices
};

// The synthetic keyword set: each clip spoken by espeak-ng (its library, in process), placed at a
// random onset in the clip, mixed with white noise at a random SNR, split by voice so that no voice
// is in two parts. Deterministic for a seed on one espeak-ng version (recorded as the attribute
// espeak_ng_version of /inputs).
core::Dataset build_synth(const SynthOptions& options, const ProgressFn& progress = {});

// The espeak-ng library's version text, e.g. "1.51".
std::string espeak_version();

}  // namespace bmru::audio
