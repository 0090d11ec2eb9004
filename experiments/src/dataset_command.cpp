#include <cstdio>
#include <map>
#include <memory>
#include <sstream>

#include "audio/datasets.hpp"
#include "commands.hpp"
#include "core/errors.hpp"
#include "feature_options.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "version.hpp"

namespace bmru::experiments {
namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Clips per class and per part of each split scheme, then the key=value line.
void print_summary(const core::Dataset& ds, const std::filesystem::path& out, double wall_s) {
  std::printf("dataset: %lld clips x %lld frames x %lld features, classes:",
              static_cast<long long>(ds.sequences), static_cast<long long>(ds.frames),
              static_cast<long long>(ds.features));
  std::vector<long long> per_class(ds.classes.size(), 0);
  for (auto l : ds.labels) ++per_class[static_cast<size_t>(l)];
  for (size_t c = 0; c < ds.classes.size(); ++c)
    std::printf(" %s %lld%s", ds.classes[c].c_str(), per_class[c],
                c + 1 < ds.classes.size() ? "," : "\n");
  for (const auto& s : ds.splits) {
    std::map<std::string, long long> n;
    for (const auto& p : s.part) ++n[p];
    std::printf("split %-8s train %lld, val %lld, test %lld\n", s.scheme.c_str(), n["train"],
                n["val"], n["test"]);
  }
  std::printf("wrote %s\n", out.string().c_str());
  std::printf("clips=%lld classes=%zu frames=%lld features=%lld wall_s=%.6g\n",
              static_cast<long long>(ds.sequences), ds.classes.size(),
              static_cast<long long>(ds.frames), static_cast<long long>(ds.features), wall_s);
}

template <typename Build>
void build_and_write(const Build& build, const std::filesystem::path& out,
                     const std::string& command_line) {
  const auto t0 = std::chrono::steady_clock::now();
  Progress progress("dataset clips");
  const core::Dataset ds =
      build([&](std::int64_t done, std::int64_t total) { progress.update(done, total); });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  core::write_dataset(out, ds, {kToolVersion, command_line});
  print_summary(ds, out, wall);
}

void add_fsdd(CLI::App* dataset, const std::string& command_line) {
  struct Options {
    audio::FsddOptions fsdd;
    FeatureOptions features;
    bool digits = false;
    std::string takes;
    std::filesystem::path out;
  };
  auto o = std::make_shared<Options>();
  o->fsdd.root = "../shared/data/fsdd/recordings";
  CLI::App* cmd = dataset->add_subcommand(
      "fsdd",
      "The Free Spoken Digit Dataset: keyword vs rest (--keyword D) or ten digits (--digits)");
  cmd->add_option("--root", o->fsdd.root,
                  "FSDD recordings folder (default ../shared/data/fsdd/recordings)");
  auto* kw =
      cmd->add_option("--keyword", o->fsdd.keyword, "The keyword digit 0-9 (label 1; the rest 0)");
  cmd->add_flag("--digits", o->digits, "Ten classes, one per digit")->excludes(kw);
  cmd->add_option("--test-speaker", o->fsdd.test_speaker,
                  "Speaker held out for test in the speaker split (default george)");
  cmd->add_option("--val-speaker", o->fsdd.val_speaker,
                  "Speaker held out for validation in the speaker split (default lucas)");
  cmd->add_option("--speakers", o->fsdd.speakers, "Only these speakers (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--takes", o->takes, "Only these takes, first-last (e.g. 0-4)");
  add_feature_options(cmd, o->features);
  cmd->add_option("-o,--out", o->out, "Dataset file to write (HDF5)")->required();
  cmd->callback([o, command_line] {
    if (!o->takes.empty()) {
      const auto dash = o->takes.find('-');
      try {
        o->fsdd.first_take = std::stoi(o->takes.substr(0, dash));
        o->fsdd.last_take =
            dash == std::string::npos ? o->fsdd.first_take : std::stoi(o->takes.substr(dash + 1));
      } catch (const std::exception&) {
        throw InputError("--takes takes first-last, e.g. 0-4 (got '" + o->takes + "').");
      }
    }
    if (!o->digits && !o->fsdd.keyword)
      throw InputError("Choose --keyword D (binary keyword vs rest) or --digits (ten classes).");
    o->fsdd.features = o->features.resolve();
    build_and_write([&](const audio::ProgressFn& p) { return audio::build_fsdd(o->fsdd, p); },
                    o->out, command_line);
  });
}

void add_synth(CLI::App* dataset, const std::string& command_line) {
  struct Options {
    audio::SynthOptions synth;
    FeatureOptions features;
    std::string words, snr = "5,20", keyword = "yes";
    bool all_words = false;
    std::filesystem::path out;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = dataset->add_subcommand(
      "synth", "A keyword set spoken by espeak-ng over its English voices, split by voice");
  cmd->add_option("--words", o->words,
                  "Comma-separated words (default yes,no,up,down,left,right,on,off,stop,go)");
  auto* kw =
      cmd->add_option("--keyword", o->keyword, "The keyword (label 1; the rest 0; default yes)");
  cmd->add_flag("--all-words", o->all_words, "One class per word instead of keyword vs rest")
      ->excludes(kw);
  add_count(cmd, "--per-voice", o->synth.per_voice, "Clips of each word per voice (default 1)");
  cmd->add_option("--snr", o->snr, "Range of the noise's SNR in dB, min,max (default 5,20)");
  add_count(cmd, "--seed", o->synth.seed, "Seed of onsets, pitches, speeds and noise (default 1)",
            0);
  cmd->add_option("--accents", o->synth.accents,
                  "espeak-ng English voices (default: all 7 gmw ones)")
      ->delimiter(',');
  cmd->add_option("--variants", o->synth.variants, "espeak-ng variants (default m1-m7,f1-f5)")
      ->delimiter(',');
  add_feature_options(cmd, o->features);
  cmd->add_option("-o,--out", o->out, "Dataset file to write (HDF5)")->required();
  cmd->callback([o, command_line] {
    if (!o->words.empty()) o->synth.words = split_list(o->words);
    o->synth.keyword = o->all_words ? std::nullopt : std::optional<std::string>(o->keyword);
    const auto snr = split_list(o->snr);
    if (snr.size() != 2)
      throw InputError("--snr takes two numbers, min,max (got '" + o->snr + "').");
    o->synth.snr_min_db = core::parse_quantity(snr[0], "--snr");
    o->synth.snr_max_db = core::parse_quantity(snr[1], "--snr");
    o->synth.features = o->features.resolve();
    build_and_write([&](const audio::ProgressFn& p) { return audio::build_synth(o->synth, p); },
                    o->out, command_line);
  });
}

}  // namespace

void add_dataset_command(CLI::App& app, const std::string& command_line) {
  CLI::App* dataset =
      app.add_subcommand("dataset", "Build a labelled keyword dataset of speech features");
  dataset->require_subcommand(1);
  add_fsdd(dataset, command_line);
  add_synth(dataset, command_line);
}

}  // namespace bmru::experiments
