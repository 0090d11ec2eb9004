#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>

#include "audio/datasets.hpp"
#include "commands.hpp"
#include "core/errors.hpp"
#include "feature_options.hpp"
#include "progress.hpp"
#include "version.hpp"

namespace bmru::experiments {
namespace {

const std::set<std::string> kAudioExtensions = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".au"};

// Files in the order given; a folder stands for its audio files sorted by name; a list file holds
// one path per line (blank lines and # comments skipped; relative paths from the list's folder).
std::vector<std::filesystem::path> collect(const std::vector<std::string>& args,
                                           const std::optional<std::filesystem::path>& list) {
  std::vector<std::filesystem::path> files;
  const auto add = [&](const std::filesystem::path& p) {
    if (std::filesystem::is_directory(p)) {
      std::vector<std::filesystem::path> inside;
      for (const auto& e : std::filesystem::directory_iterator(p))
        if (e.is_regular_file() && kAudioExtensions.count(e.path().extension().string()))
          inside.push_back(e.path());
      if (inside.empty()) throw FileError(p.string(), "", "is a folder with no audio files");
      std::sort(inside.begin(), inside.end());
      files.insert(files.end(), inside.begin(), inside.end());
    } else {
      files.push_back(p);
    }
  };
  for (const auto& a : args) add(a);
  if (list) {
    std::ifstream in(*list);
    if (!in) throw FileError(list->string(), "", "could not be opened");
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      const std::filesystem::path p(line);
      add(p.is_absolute() ? p : list->parent_path() / p);
    }
  }
  if (files.empty()) throw InputError("No audio files were given (name files, folders or --list).");
  return files;
}

}  // namespace

void add_features_command(CLI::App& app, const std::string& command_line) {
  struct Options {
    FeatureOptions features;
    std::vector<std::string> files;
    std::optional<std::filesystem::path> list;
    std::filesystem::path out;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "features", "Speech features (librosa-compatible MFCC or log-mel) of audio files -> /inputs");
  add_feature_options(cmd, o->features);
  cmd->add_option("files", o->files, "Audio files (WAV, FLAC, ...) or folders of them, in order");
  cmd->add_option("--list", o->list, "A text file naming one audio file per line")
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", o->out, "Feature file to write (HDF5)")->required();
  cmd->callback([o, command_line] {
    const auto files = collect(o->files, o->list);
    const audio::FeatureSettings s = o->features.resolve();
    const auto t0 = std::chrono::steady_clock::now();
    Progress progress("features");
    const core::Dataset ds = audio::feature_files(
        files, s, [&](std::int64_t done, std::int64_t total) { progress.update(done, total); });
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    core::write_dataset(o->out, ds, {kToolVersion, command_line});
    std::printf(
        "features: %lld clips x %lld frames x %lld %s (%g Hz, n_fft %d, hop %d, %s)\n",
        static_cast<long long>(ds.sequences), static_cast<long long>(ds.frames),
        static_cast<long long>(ds.features),
        s.kind == audio::FeatureKind::mfcc ? "MFCCs" : "log-mel bands", s.sample_rate, s.n_fft,
        s.hop,
        s.normalize == audio::Normalize::utterance ? "normalised per utterance" : "not normalised");
    std::printf("wrote %s\n", o->out.string().c_str());
    std::printf("clips=%lld frames=%lld features=%lld wall_s=%.6g clips_per_s=%.6g\n",
                static_cast<long long>(ds.sequences), static_cast<long long>(ds.frames),
                static_cast<long long>(ds.features), wall,
                static_cast<double>(ds.sequences) / std::max(wall, 1e-9));
  });
}

}  // namespace bmru::experiments
