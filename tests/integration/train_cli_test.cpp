// Issue 18 end to end: `bmru train` on real speech, its history and report, the .npz interop on
// the command line, and inputs made with other feature settings refused.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "cli_support.hpp"
#include "core/model_file.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

using test::kFsdd;

TEST(TrainCli, TrainsOnSpeechWritesModelHistoryAndReportAndRefusesOtherFeatures) {
  REQUIRE_FSDD();
  test::TempDir dir;
  const std::string root = " --root " + kFsdd.string();
  auto r = test::bmru("dataset fsdd --keyword 0 --speakers george,lucas,jackson --takes 0-5" +
                      root + " -o " + (dir / "kw.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  r = test::bmru("train --data " + (dir / "kw.h5").string() +
                 " --d 2 --layers 1 --epochs 3 --batch 32 --hardware-aware -o " +
                 (dir / "m.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.text, m,
      std::regex(R"(test_accuracy=([0-9.eE+-]+) test_balanced_accuracy=\S+ val_accuracy=\S+ )"
                 R"(test_ideal_power_w=[0-9.eE+-]+ )"
                 R"(epochs=3 best_epoch=[123] seed=1 wall_s=)")))
      << r.text;
  EXPECT_GE(std::stod(m[1]), 0.0);
  EXPECT_EQ(r.text.find("restarts"), std::string::npos) << r.text;  // one training, no table
  // Restarts: a row per seed, the kept one marked, and its seed in the key=value line.
  auto restarts = test::bmru("train --data " + (dir / "kw.h5").string() +
                             " --d 2 --layers 1 --epochs 1 --seed 4 --restarts 2 -o " +
                             (dir / "r.h5").string());
  ASSERT_EQ(restarts.status, 0) << restarts.text;
  std::smatch kept, seed;
  ASSERT_TRUE(std::regex_search(restarts.text, kept, std::regex(R"(\n +([45]) .*  kept\n)")))
      << restarts.text;
  ASSERT_TRUE(std::regex_search(restarts.text, seed, std::regex(R"( seed=([0-9]+) )")))
      << restarts.text;
  EXPECT_EQ(kept[1], seed[1]);
  EXPECT_TRUE(std::filesystem::exists(dir / "r.h5.ckpt.seed5"));
  const core::Network net = core::read_model(dir / "m.h5");
  EXPECT_EQ(net.d(), 2);
  EXPECT_FALSE(net.features.empty());  // the dataset's feature settings are recorded
  std::ifstream history(dir / "m.history.csv");
  std::string line;
  int rows = 0;
  while (std::getline(history, line)) ++rows;
  EXPECT_EQ(rows, 4);  // header + 3 epochs
  r = test::bmru("report " + (dir / "m.history.csv").string() + " -o " + (dir / "fig").string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_TRUE(std::filesystem::exists(dir / "fig" / "training.png"));

  // .npz out and back in on the command line.
  r = test::bmru("model export " + (dir / "m.h5").string() + " -o " + (dir / "m.npz").string());
  ASSERT_EQ(r.status, 0) << r.text;
  r = test::bmru("model import " + (dir / "m.npz").string() + " -o " + (dir / "back.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  core::Network back = core::read_model(dir / "back.h5");
  back.features = net.features;  // .npz holds the parameters only
  EXPECT_EQ(back, net);

  // The same clips with 40 mel bands instead of 128: refused, naming the setting.
  r = test::bmru("dataset fsdd --keyword 0 --speakers george --takes 0-1 --n-mels 40" + root +
                 " -o " + (dir / "other.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  r = test::bmru("simulate --model " + (dir / "m.h5").string() + " --inputs " +
                 (dir / "other.h5").string() + " -o " + (dir / "sim.h5").string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("n_mels: the model was trained on 128, the inputs have 40"),
            std::string::npos)
      << r.text;
  // A CSV states no settings: it runs.
  {
    std::ofstream csv(dir / "x.csv");
    for (int t = 0; t < 3; ++t)
      for (int k = 0; k < 13; ++k) csv << (k ? "," : "") << 0.1 * (t + k) << (k == 12 ? "\n" : "");
  }
  r = test::bmru("simulate --model " + (dir / "m.h5").string() + " --inputs " +
                 (dir / "x.csv").string() + " -o " + (dir / "sim.h5").string());
  EXPECT_EQ(r.status, 0) << r.text;

  // A full disk (a 1 KB file-size limit): one line naming the file, exit 1, never a crash.
  const std::string limited = "ulimit -f 1; " + std::string(BMRU_BINARY) + " ";
  r = test::run(limited + "train --data " + (dir / "kw.h5").string() +
                " --d 2 --layers 1 --epochs 1 -o " + (dir / "full.h5").string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("full.h5.ckpt.part"), std::string::npos) << r.text;
  r = test::run(limited + "model export " + (dir / "m.h5").string() + " -o " +
                (dir / "full.npz").string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("full.npz.part"), std::string::npos) << r.text;
}

// Issue 19's pipeline in its 10-clip version: features, training (two epochs here), the netlist,
// evaluate through sw, ct and SPICE, the report; then again from the cached model and journal.
TEST(KwsPipeline, TenClipsEndToEndThenFromTheCache) {
  REQUIRE_FSDD();
  test::TempDir dir;
  const std::string command = "XDG_CACHE_HOME=" + (dir / "cache").string() + " bash " +
                              BMRU_SOURCE_DIR + "/scripts/kws --bmru " + BMRU_BINARY + " --root " +
                              kFsdd.string() + " --limit 10 --epochs 2 --jobs 2 --out " +
                              (dir / "kws").string();
  auto r = test::run(command);
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("== training: --scheme speaker"), std::string::npos) << r.text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.text, m,
      std::regex(R"(behavioural accuracy (\S+), ct accuracy (\S+), circuit accuracy (\S+))")))
      << r.text;
  // The last line is evaluate's key=value line, over the 10 clips.
  const std::string last = r.text.substr(r.text.rfind("sw_accuracy="));
  EXPECT_NE(last.find("failed=0"), std::string::npos) << last;
  EXPECT_EQ(last.find("nan"), std::string::npos) << last;  // all three engines ran
  EXPECT_NE(r.text.find("energy per inference"), std::string::npos) << r.text;
  for (const char* f : {"fsdd0.h5", "model.h5", "kws.cir", "eval.h5", "report/evaluate.png",
                        "report/confusion.png"})
    EXPECT_TRUE(std::filesystem::exists(dir / "kws" / f)) << f;
  // Again: the cached model, and every clip from the journal; the same figures.
  auto again = test::run(command);
  ASSERT_EQ(again.status, 0) << again.text;
  EXPECT_NE(again.text.find("cached model"), std::string::npos) << again.text;
  EXPECT_NE(again.text.find("0 ran now, 10 from the journal"), std::string::npos) << again.text;
  EXPECT_EQ(again.text.substr(again.text.rfind("sw_accuracy=")), last);
}

}  // namespace
}  // namespace bmru
