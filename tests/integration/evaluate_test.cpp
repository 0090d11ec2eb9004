// Issue 19: `bmru evaluate` on real speech through the behavioural model, ct and SPICE: the
// key=value line, the evaluation file, the resumable journal, and bad input named before any
// simulation.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "cli_support.hpp"
#include "core/array_file.hpp"
#include "h5_reader.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

using test::kFsdd;

std::map<std::string, double> key_values(const std::string& text) {
  std::map<std::string, double> kv;
  const auto line = text.rfind("sw_accuracy=");
  if (line == std::string::npos) return kv;
  static const std::regex pair(R"((\w+)=(\S+))");
  const std::string last = text.substr(line, text.find('\n', line) - line);
  for (auto it = std::sregex_iterator(last.begin(), last.end(), pair); it != std::sregex_iterator();
       ++it)
    kv[(*it)[1]] = std::stod((*it)[2]);
  return kv;
}

// george's takes `takes` of every digit as the keyword "zero" vs the rest (bmru dataset fsdd), in
// `dir`; its path, or "" (a failure recorded) when the command failed.
std::string george(const test::TempDir& dir, const std::string& takes) {
  const std::string data = (dir / "kw.h5").string();
  const auto r = test::bmru("dataset fsdd --keyword 0 --speakers george --takes " + takes +
                            " --root " + kFsdd.string() + " -o " + data);
  EXPECT_EQ(r.status, 0) << r.text;
  return r.status == 0 ? data : "";
}

TEST(Evaluate, SpeechClipsThroughThreeEnginesScoredAndResumedFromTheJournal) {
  REQUIRE_FSDD();
  test::TempDir dir;
  const std::string data = george(dir, "0-1");
  ASSERT_FALSE(data.empty());
  // The demo network has the keyword shape (13 inputs, 2 outputs). Four clips evenly spaced over
  // george's 20 (clips 0, 5, 10, 15: digits 0, 2, 5 and 7), in two chunks of two.
  const std::string command = test::cache_env() + " " + BMRU_BINARY + " evaluate --data " + data +
                              " --limit 4 --chunk 2 --engines sw,ct,hw --jobs 2 --waveforms 0 -o " +
                              (dir / "eval.h5").string();
  auto r = test::run(command);
  ASSERT_EQ(r.status, 0) << r.text;
  const auto kv = key_values(r.text);
  ASSERT_EQ(kv.size(), 7u) << r.text;
  for (const char* k : {"sw_accuracy", "ct_accuracy", "hw_accuracy", "decision_agreement"}) {
    EXPECT_GE(kv.at(k), 0.0) << k;
    EXPECT_LE(kv.at(k), 1.0) << k;
  }
  EXPECT_EQ(kv.at("failed"), 0);
  // Sub-microwatt: the demo network draws tens of nanowatts; energy = power x 1.01 s.
  EXPECT_GT(kv.at("mean_power_w"), 1e-9);
  EXPECT_LT(kv.at("mean_power_w"), 1e-6);
  EXPECT_NEAR(kv.at("energy_per_inference_j"), kv.at("mean_power_w") * 1.01,
              1e-5 * kv.at("mean_power_w"));
  EXPECT_NE(r.text.find("hw confusion"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("SPICE"), std::string::npos) << r.text;

  // The file: metrics as attributes, confusion matrices that add up to the clips, both chunks.
  const auto file = dir / "eval.h5";
  for (const char* engine : {"sw", "ct", "hw"}) {
    const auto c = test::read_dataset(file, std::string("metrics/confusion_") + engine);
    ASSERT_EQ(c.size(), 4u);
    const double ties =
        *core::read_number_attribute(file, "metrics", std::string(engine) + "_ties");
    EXPECT_EQ(c[0] + c[1] + c[2] + c[3] + ties, 4.0) << engine;
    EXPECT_LE(c[2] + c[3], 1.0) << engine;  // one clip of "zero" (row 1)
    EXPECT_NEAR((c[0] + c[3]) / 4, kv.at(std::string(engine) + "_accuracy"), 1e-9) << engine;
  }
  EXPECT_EQ(core::read_number_attribute(file, "metrics", "hw_accuracy"), kv.at("hw_accuracy"));
  const auto sets = core::list_datasets(file);
  const auto runs = std::count_if(sets.begin(), sets.end(), [](const std::string& s) {
    return s.rfind("runs/", 0) == 0 && s.find("/hw/argmax_time") != std::string::npos;
  });
  EXPECT_EQ(runs, 2);
  EXPECT_NE(std::find(sets.begin(), sets.end(), "clips"), sets.end());

  // The same command again runs nothing and says the same.
  auto again = test::run(command);
  ASSERT_EQ(again.status, 0) << again.text;
  EXPECT_NE(again.text.find("0 ran now, 4 from the journal"), std::string::npos) << again.text;
  EXPECT_EQ(key_values(again.text), kv);
  // Another decision rule on the same journal is refused, naming it.
  again = test::run(command + " --decision last");
  EXPECT_EQ(again.status, 1) << again.text;
  EXPECT_NE(again.text.find("decision"), std::string::npos) << again.text;
}

TEST(Evaluate, ASweepOverDiesEvaluatesEachAndSummarisesTheAccuracySpread) {
  REQUIRE_FSDD();
  test::TempDir dir;
  const std::string data = george(dir, "0");
  ASSERT_FALSE(data.empty());
  const auto out = dir / "sweep.h5";
  auto r = test::bmru_cached("sweep --data " + data +
                             " --limit 2 --mc 2 --engines sw,hw --jobs 2 --waveforms 0 -o " +
                             out.string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("task accuracy (%) per point over its dies"), std::string::npos) << r.text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.text, m,
      std::regex(R"(all runs: hw accuracy (\S+) % \(sd (\S+), 5th percentile (\S+)\) against )"
                 R"(behavioural (\S+) %)")))
      << r.text;
  EXPECT_LE(std::stod(m[3]), std::stod(m[1]));  // the 5th percentile is at most the mean
  // /summary carries the task figures of each die; each run is a whole evaluation file.
  const auto py = test::run(
      "/usr/bin/python3 -c \"import h5py, numpy as np; f = h5py.File('" + out.string() +
      "', 'r'); s = f['summary'][...]; print(len(s), np.isfinite(s['hw_accuracy']).all(), "
      "(s['energy_per_inference_j'] > 0).all(), "
      "all(f['runs'][i.decode()]['config'].attrs['kind'] == 'evaluate' for i in s['id']))\"");
  EXPECT_EQ(py.text, "2 True True True\n") << py.text;  // one point, two dies
}

// --noise on evaluate (ct): each chunk's suppression, pooled over every clip (two chunks here);
// and on a sweep over the dataset, per run in /summary.
TEST(Evaluate, NoiseIsPooledOverTheClipsAndSummarisedPerSweepRun) {
  REQUIRE_FSDD();
  test::TempDir dir;
  const std::string data = george(dir, "0");
  ASSERT_FALSE(data.empty());
  const auto out = dir / "eval.h5";
  auto r =
      test::bmru_cached("evaluate --data " + data +
                        " --limit 3 --chunk 2 --engines sw,ct --noise rel:0.1 -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.text;
  const auto kv = key_values(r.text);
  ASSERT_TRUE(kv.count("suppression_factor")) << r.text;
  EXPECT_TRUE(std::isfinite(kv.at("suppression_factor"))) << r.text;
  EXPECT_NE(r.text.find("noise ct: suppression factor"), std::string::npos) << r.text;
  // Every frame of the three clips counts once per cell, across the two chunks.
  const auto frames = test::read_dataset(out, "metrics/noise/ct/state_frames");
  ASSERT_EQ(frames.size(), 8u);
  const auto one = test::read_dataset(out, "runs/clips_0_2/metrics/noise/ct/state_frames");
  ASSERT_EQ(one.size(), 8u);
  EXPECT_EQ(frames[0], 1.5 * one[0]);
  EXPECT_NEAR(*core::read_number_attribute(out, "metrics/noise/ct", "suppression_factor"),
              kv.at("suppression_factor"), 1e-5 * kv.at("suppression_factor"));
  const auto sweep = dir / "sweep.h5";
  r = test::bmru_cached("sweep --data " + data + " --limit 2 --engines sw,ct --noise rel:0.1 -o " +
                        sweep.string());
  ASSERT_EQ(r.status, 0) << r.text;
  const auto py =
      test::run("/usr/bin/python3 -c \"import h5py, numpy as np; s = h5py.File('" + sweep.string() +
                "', 'r')['summary'][...]; print(len(s), "
                "np.isfinite(s['suppression_factor']).all(), "
                "np.isin(s['suppression_is_bound'], [0, 1]).all())\"");
  EXPECT_EQ(py.text, "1 True True\n") << py.text;
}

TEST(Evaluate, ADatasetTheModelCannotTakeIsNamedBeforeAnySimulation) {
  REQUIRE_FSDD();
  test::TempDir dir;
  const std::string digits = (dir / "digits.h5").string();
  auto r = test::bmru("dataset fsdd --digits --speakers george --takes 0 --root " + kFsdd.string() +
                      " --mfcc 12 -o " + digits);
  ASSERT_EQ(r.status, 0) << r.text;
  const auto out = dir / "eval.h5";
  // Ten classes and twelve features against the demo's two outputs and 13 inputs.
  r = test::bmru("evaluate --data " + digits + " --engines sw,hw -o " + out.string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("12 features per frame; the model takes 13"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("10 classes"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("beyond the model's 2 outputs"), std::string::npos) << r.text;
  EXPECT_FALSE(std::filesystem::exists(out));
  // A split part without clips, and a split the dataset does not have.
  r = test::bmru("evaluate --data " + digits + " --scheme voice -o " + out.string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("voice"), std::string::npos) << r.text;
  r = test::bmru("evaluate --data " + digits + " --inputs " + digits + " -o " + out.string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("--inputs does not apply"), std::string::npos) << r.text;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace bmru
