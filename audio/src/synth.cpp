// The synthetic keyword set, spoken by espeak-ng's library in process. espeak-ng keeps its state in
// globals, so one Speaker may live at a time (a second is refused, as spice::Session is).
#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <atomic>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <map>

#include "audio/datasets.hpp"
#include "core/errors.hpp"

namespace bmru::audio {
namespace {

// espeak-ng's English voices of the gmw family (the mbrola ones need the separate mbrola
// program) and its plain male and female variants.
const std::vector<std::string> kAccents = {
    "en", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029"};
const std::vector<std::string> kVariants = {"m1", "m2", "m3", "m4", "m5", "m6",
                                            "m7", "f1", "f2", "f3", "f4", "f5"};

std::atomic<bool> speaker_alive{false};

class Speaker {
 public:
  Speaker() {
    if (speaker_alive.exchange(true))
      throw Error("Only one espeak-ng speaker may live in a process (its library is global).");
    rate_ = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
    if (rate_ <= 0) {
      speaker_alive = false;
      throw InputError("espeak-ng could not start (is the espeak-ng-data package installed?).");
    }
    espeak_SetSynthCallback(&Speaker::collect);
  }
  ~Speaker() {
    espeak_Terminate();
    speaker_alive = false;
  }
  Speaker(const Speaker&) = delete;
  Speaker& operator=(const Speaker&) = delete;

  double sample_rate() const { return rate_; }

  // `text` in `voice` ("en-us+f3") at `wpm` words per minute and pitch 0-100, as float samples.
  std::vector<float> say(const std::string& text, const std::string& voice, int wpm, int pitch) {
    if (espeak_SetVoiceByName(voice.c_str()) != EE_OK)
      throw InputError("espeak-ng has no voice '" + voice + "'.");
    espeak_SetParameter(espeakRATE, wpm, 0);
    espeak_SetParameter(espeakPITCH, pitch, 0);
    std::vector<short> pcm;
    const espeak_ERROR err = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                                          espeakCHARS_UTF8, nullptr, &pcm);
    espeak_Synchronize();
    if (err != EE_OK || pcm.empty())
      throw InputError("espeak-ng produced no sound for '" + text + "' in voice '" + voice + "'.");
    std::vector<float> out(pcm.size());
    for (size_t i = 0; i < pcm.size(); ++i) out[i] = static_cast<float>(pcm[i]) / 32768.0f;
    return out;
  }

 private:
  static int collect(short* wav, int n, espeak_EVENT* events) {
    if (wav && n > 0 && events) {
      auto* pcm = static_cast<std::vector<short>*>(events->user_data);
      pcm->insert(pcm->end(), wav, wav + n);
    }
    return 0;
  }
  int rate_ = 0;
};

// Trims leading and trailing samples below 1 % of the peak (espeak-ng pads its output).
std::vector<float> trim(const std::vector<float>& x) {
  float peak = 0;
  for (float v : x) peak = std::max(peak, std::abs(v));
  const float th = 0.01f * peak;
  size_t a = 0, b = x.size();
  while (a < b && std::abs(x[a]) < th) ++a;
  while (b > a && std::abs(x[b - 1]) < th) --b;
  return {x.begin() + static_cast<std::ptrdiff_t>(a), x.begin() + static_cast<std::ptrdiff_t>(b)};
}

}  // namespace

std::string espeak_version() {
  const char* data = nullptr;
  const char* v = espeak_Info(&data);
  return v ? v : "unknown";
}

core::Dataset build_synth(const SynthOptions& o, const ProgressFn& progress) {
  if (o.words.empty()) throw InputError("--words names no word.");
  if (o.keyword && std::find(o.words.begin(), o.words.end(), *o.keyword) == o.words.end())
    throw InputError("The keyword '" + *o.keyword + "' is not among --words.");
  if (o.per_voice < 1) throw InputError("--per-voice must be at least 1.");
  if (!(o.snr_min_db <= o.snr_max_db)) throw InputError("--snr needs min <= max.");
  if (!(o.val_share >= 0 && o.test_share > 0 && o.val_share + o.test_share < 1))
    throw InputError("The val and test shares of the voices must leave some voices to train on.");
  const auto& accents = o.accents.empty() ? kAccents : o.accents;
  const auto& variants = o.variants.empty() ? kVariants : o.variants;
  std::vector<std::string> voices;
  for (const auto& a : accents)
    for (const auto& v : variants) voices.push_back(a + "+" + v);
  if (voices.size() < 3) throw InputError("The voice split needs at least 3 voices.");

  boost::random::mt19937_64 rng(o.seed);
  // Voices to parts: a seeded shuffle, then test, val and train in that order.
  std::vector<size_t> order(voices.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size() - 1; i > 0; --i)
    std::swap(order[i], order[boost::random::uniform_int_distribution<size_t>(0, i)(rng)]);
  const auto n_test =
      std::max<size_t>(1, static_cast<size_t>(std::lround(o.test_share * voices.size())));
  const auto n_val = std::max<size_t>(
      o.val_share > 0 ? 1 : 0, static_cast<size_t>(std::lround(o.val_share * voices.size())));
  std::map<std::string, std::string> part_of;
  for (size_t i = 0; i < order.size(); ++i)
    part_of[voices[order[i]]] = i < n_test ? "test" : i < n_test + n_val ? "val" : "train";

  Speaker speaker;
  const double rate = speaker.sample_rate();
  const auto clip_len = static_cast<size_t>(std::llround(o.features.duration_s * rate));
  const FeatureExtractor fx(o.features);
  core::Dataset ds;
  ds.frames = o.features.frames();
  ds.features = o.features.count;
  ds.input_attrs = attributes(o.features);
  ds.input_attrs.push_back({"source", std::string("espeak-ng")});
  ds.input_attrs.push_back({"espeak_ng_version", espeak_version()});
  ds.input_attrs.push_back({"seed", static_cast<std::int64_t>(o.seed)});
  core::Split split{"voice", {}};
  const auto total = static_cast<std::int64_t>(voices.size() * o.words.size()) * o.per_voice;
  std::int64_t done = 0;
  boost::random::normal_distribution<double> gauss(0.0, 1.0);
  for (const auto& voice : voices)
    for (size_t w = 0; w < o.words.size(); ++w)
      for (int r = 0; r < o.per_voice; ++r) {
        const int wpm = boost::random::uniform_int_distribution<int>(130, 210)(rng);
        const int pitch = boost::random::uniform_int_distribution<int>(25, 75)(rng);
        const double snr_db =
            boost::random::uniform_real_distribution<double>(o.snr_min_db, o.snr_max_db)(rng);
        std::vector<float> speech = trim(speaker.say(o.words[w], voice, wpm, pitch));
        if (speech.size() > clip_len) speech.resize(clip_len);
        const size_t onset =
            boost::random::uniform_int_distribution<size_t>(0, clip_len - speech.size())(rng);
        double power = 0;
        for (float v : speech) power += static_cast<double>(v) * v;
        power /= static_cast<double>(std::max<size_t>(1, speech.size()));
        const double sigma = std::sqrt(power / std::pow(10.0, snr_db / 10.0));
        Clip clip;
        clip.sample_rate = rate;
        clip.samples.resize(clip_len);
        for (size_t i = 0; i < clip_len; ++i) {
          const double s = (i >= onset && i < onset + speech.size()) ? speech[i - onset] : 0.0;
          clip.samples[i] = static_cast<float>(s + sigma * gauss(rng));
        }
        ds.append_clip(fx.compute(clip));
        ds.name.push_back(o.words[w] + "_" + voice + "_" + std::to_string(r));
        ds.speaker.push_back(voice);
        ds.labels.push_back(o.keyword ? (o.words[w] == *o.keyword ? 1 : 0)
                                      : static_cast<std::int64_t>(w));
        split.part.push_back(part_of[voice]);
        if (progress) progress(++done, total);
      }
  if (o.keyword)
    ds.classes = {"rest", *o.keyword};
  else
    ds.classes = o.words;
  ds.splits = {split};
  return ds;
}

}  // namespace bmru::audio
