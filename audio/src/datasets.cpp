#include <algorithm>
#include <regex>

#include "audio/datasets.hpp"
#include "core/errors.hpp"

namespace bmru::audio {
namespace {

core::Dataset empty_dataset(const FeatureSettings& s) {
  core::Dataset ds;
  ds.frames = s.frames();
  ds.features = s.count;
  ds.input_attrs = attributes(s);
  return ds;
}

}  // namespace

core::Dataset feature_files(const std::vector<std::filesystem::path>& files,
                            const FeatureSettings& settings, const ProgressFn& progress) {
  if (files.empty()) throw InputError("No audio files were given.");
  const FeatureExtractor fx(settings);
  core::Dataset ds = empty_dataset(settings);
  ds.inputs.reserve(files.size() * static_cast<size_t>(ds.frames * ds.features));
  for (size_t i = 0; i < files.size(); ++i) {
    ds.append_clip(fx.compute(files[i]));
    ds.name.push_back(files[i].filename().string());
    if (progress)
      progress(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(files.size()));
  }
  return ds;
}

core::Dataset build_fsdd(const FsddOptions& o, const ProgressFn& progress) {
  const std::string root = o.root.string();
  if (!std::filesystem::is_directory(o.root))
    throw FileError(root, "", "is not a folder (give the FSDD recordings folder with --root)");
  if (o.keyword && (*o.keyword < 0 || *o.keyword > 9))
    throw InputError("--keyword must be a digit 0-9 (got " + std::to_string(*o.keyword) + ").");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(o.root))
    if (e.is_regular_file() && e.path().extension() == ".wav") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw FileError(root, "", "holds no .wav recordings");
  static const std::regex form(R"(^([0-9])_([A-Za-z]+)_([0-9]+)\.wav$)");
  static const char* digit_names[] = {"zero", "one", "two",   "three", "four",
                                      "five", "six", "seven", "eight", "nine"};
  const FeatureExtractor fx(o.features);
  core::Dataset ds = empty_dataset(o.features);
  core::Split own{"own", {}}, by_speaker{"speaker", {}};
  bool has_test_speaker = false;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string name = files[i].filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, form))
      throw FileError(files[i].string(), "",
                      "is not named like an FSDD recording ({digit}_{speaker}_{take}.wav)");
    const int digit = std::stoi(m[1]);
    const std::string speaker = m[2];
    const int take = std::stoi(m[3]);
    if (take < o.first_take || take > o.last_take ||
        (!o.speakers.empty() &&
         std::find(o.speakers.begin(), o.speakers.end(), speaker) == o.speakers.end()))
      continue;
    ds.append_clip(fx.compute(files[i]));
    ds.name.push_back(name);
    ds.speaker.push_back(speaker);
    ds.labels.push_back(o.keyword ? (digit == *o.keyword ? 1 : 0) : digit);
    own.part.push_back(take < 5 ? "test" : take < 10 ? "val" : "train");
    by_speaker.part.push_back(speaker == o.test_speaker  ? "test"
                              : speaker == o.val_speaker ? "val"
                                                         : "train");
    has_test_speaker = has_test_speaker || speaker == o.test_speaker;
    if (progress)
      progress(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(files.size()));
  }
  if (ds.sequences == 0)
    throw FileError(root, "", "holds no recording of the chosen speakers and takes");
  if (!has_test_speaker && o.speakers.empty())
    throw InputError("No recording of the test speaker '" + o.test_speaker + "' is in " + root +
                     ": the speaker split would have no test part.");
  if (o.keyword)
    ds.classes = {"rest", digit_names[*o.keyword]};
  else
    ds.classes.assign(std::begin(digit_names), std::end(digit_names));
  ds.splits = {own, by_speaker};
  ds.input_attrs.push_back({"source", std::string("fsdd")});
  return ds;
}

}  // namespace bmru::audio
