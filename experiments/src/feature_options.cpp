#include "feature_options.hpp"

#include "options.hpp"

namespace bmru::experiments {

audio::FeatureSettings FeatureOptions::resolve() const {
  audio::FeatureSettings s = settings;
  s.kind = log_mel ? audio::FeatureKind::log_mel : audio::FeatureKind::mfcc;
  s.count = log_mel ? *log_mel : mfcc.value_or(13);
  const std::string n = normalize.value_or(log_mel ? "none" : "utterance");
  s.normalize = n == "none" ? audio::Normalize::none : audio::Normalize::utterance;
  return s;
}

void add_feature_options(CLI::App* cmd, FeatureOptions& o) {
  auto* mfcc = cmd->add_option("--mfcc", o.mfcc, "MFCCs per frame (default 13)")->type_name("INT");
  cmd->add_option("--log-mel", o.log_mel,
                  "Non-negative log-mel energies with this many mel bands instead of MFCCs")
      ->type_name("INT")
      ->excludes(mfcc);
  cmd->add_option("--normalize", o.normalize,
                  "utterance (each feature standardised over the clip; default for MFCCs) or none "
                  "(default for log-mel)")
      ->check(CLI::IsMember({"utterance", "none"}));
  add_quantity(cmd, "--sample-rate", o.settings.sample_rate,
               "Sample rate the clips are resampled to, Hz (default 16000)");
  add_quantity(cmd, "--duration", o.settings.duration_s,
               "Clip length in seconds; clips are cut or zero-padded at the end (default 1)");
  cmd->add_option("--n-fft", o.settings.n_fft, "FFT length and window (default 512)");
  cmd->add_option("--hop", o.settings.hop, "Hop between frames in samples (default 160)");
  cmd->add_option("--n-mels", o.settings.n_mels, "Mel bands behind the MFCCs (default 128)");
}

}  // namespace bmru::experiments
