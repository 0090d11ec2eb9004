#pragma once
// The feature options shared by `bmru features` and `bmru dataset` (audio/features.hpp).
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "audio/features.hpp"

namespace bmru::experiments {

struct FeatureOptions {
  std::optional<int> mfcc, log_mel;
  std::optional<std::string> normalize;
  audio::FeatureSettings settings;
  // The settings with the kind, count and normalisation the options chose (MFCCs are normalised
  // per utterance by default, log-mel energies are not: they stay first-quadrant).
  audio::FeatureSettings resolve() const;
};

void add_feature_options(CLI::App* cmd, FeatureOptions& o);

}  // namespace bmru::experiments
