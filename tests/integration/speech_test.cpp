// The speech front end end to end (issue 17): `bmru features` against an independent numpy
// reference on real recordings, and the two dataset builders.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "cli_support.hpp"
#include "core/dataset_file.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

using test::kFsdd;

double max_rel_diff(const std::string& text) {
  std::smatch m;
  static const std::regex line(R"(\nmax_rel_diff=([0-9.eE+-]+))");
  if (!std::regex_search(text, m, line)) return 1e300;
  return std::stod(m[1]);
}

TEST(Speech, FeaturesAgreeWithAnIndependentReferenceOnRealRecordings) {
  REQUIRE_FSDD();
  test::TempDir dir;
  std::string files;
  for (const char* n : {"0_george_0.wav", "7_jackson_32.wav", "3_theo_12.wav", "9_nicolas_40.wav",
                        "5_yweweler_3.wav", "2_lucas_25.wav"})
    files += " " + (kFsdd / n).string();
  const std::string reference = std::string(BMRU_SOURCE_DIR) + "/tests/audio/librosa_reference.py";
  // FSDD is 8 kHz: at its own rate no resampler stands between the two implementations.
  for (const std::string options :
       {"--sample-rate 8000", "--sample-rate 8000 --normalize none",
        "--sample-rate 8000 --log-mel 40",
        "--sample-rate 8000 --mfcc 20 --n-mels 64 --hop 80 --n-fft 256"}) {
    const auto out = dir / "f.h5";
    const auto run = test::bmru("features " + options + files + " -o " + out.string());
    ASSERT_EQ(run.status, 0) << run.text;
    const auto check = test::python(reference, out.string() + files);
    ASSERT_EQ(check.status, 0) << check.text;
    EXPECT_LT(max_rel_diff(check.text), 1e-4) << options << "\n" << check.text;
  }
  // At 16 kHz (resampled with soxr, as librosa does): 101 frames of 13, finite.
  const auto run = test::bmru("features" + files + " -o " + (dir / "g.h5").string());
  ASSERT_EQ(run.status, 0) << run.text;
  const core::Dataset ds = core::read_dataset(dir / "g.h5");
  EXPECT_EQ(ds.sequences, 6);
  EXPECT_EQ(ds.frames, 101);
  EXPECT_EQ(ds.features, 13);
  EXPECT_EQ(ds.name[1], "7_jackson_32.wav");
}

TEST(Speech, FeaturesNameBadFilesAndReadLists) {
  test::TempDir dir;
  std::ofstream(dir / "notes.wav") << "not audio";
  auto r =
      test::bmru("features " + (dir / "notes.wav").string() + " -o " + (dir / "x.h5").string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("notes.wav"), std::string::npos) << r.text;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
  r = test::bmru("features --sample-rate 0 " + (dir / "notes.wav").string() + " -o " +
                 (dir / "x.h5").string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("--sample-rate"), std::string::npos) << r.text;
  REQUIRE_FSDD();
  std::ofstream(dir / "list.txt") << "# two clips\n"
                                  << (kFsdd / "1_theo_1.wav").string() << "\n\n"
                                  << (kFsdd / "4_lucas_9.wav").string() << "\n";
  r = test::bmru("features --list " + (dir / "list.txt").string() + " -o " +
                 (dir / "l.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("clips=2 frames=101 features=13"), std::string::npos) << r.text;
}

TEST(Speech, FsddKeywordAndDigitDatasetsCarryLabelsAndBothSplits) {
  REQUIRE_FSDD();
  test::TempDir dir;
  std::filesystem::create_directories(dir / "rec");
  for (const char* speaker : {"george", "lucas", "jackson"})
    for (int digit : {0, 3})
      for (int take : {0, 7, 20}) {
        const std::string n =
            std::to_string(digit) + "_" + speaker + "_" + std::to_string(take) + ".wav";
        std::filesystem::create_symlink(kFsdd / n, dir / "rec" / n);
      }
  const auto out = dir / "kw.h5";
  auto r = test::bmru("dataset fsdd --keyword 0 --root " + (dir / "rec").string() + " -o " +
                      out.string());
  ASSERT_EQ(r.status, 0) << r.text;
  const core::Dataset ds = core::read_dataset(out);
  ASSERT_EQ(ds.sequences, 18);
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"rest", "zero"}));
  for (core::Index i = 0; i < ds.sequences; ++i) {
    const std::string& n = ds.name[static_cast<size_t>(i)];
    EXPECT_EQ(ds.labels[static_cast<size_t>(i)], n[0] == '0' ? 1 : 0) << n;
    const std::string& spk = ds.speaker[static_cast<size_t>(i)];
    EXPECT_EQ(ds.splits[1].part[static_cast<size_t>(i)], spk == "george"  ? "test"
                                                         : spk == "lucas" ? "val"
                                                                          : "train")
        << n;
    const int take = std::stoi(n.substr(n.rfind('_') + 1));
    EXPECT_EQ(ds.splits[0].part[static_cast<size_t>(i)], take < 5    ? "test"
                                                         : take < 10 ? "val"
                                                                     : "train")
        << n;
  }
  // The behavioural model reads it as inputs.
  r = test::bmru("simulate --inputs " + out.string() + " -o " + (dir / "sim.h5").string());
  EXPECT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("sequences=18 frames=101"), std::string::npos) << r.text;
  // Ten digits, restricted to one speaker.
  r = test::bmru("dataset fsdd --digits --speakers jackson --root " + (dir / "rec").string() +
                 " -o " + (dir / "d.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  const core::Dataset digits = core::read_dataset(dir / "d.h5");
  EXPECT_EQ(digits.sequences, 6);
  EXPECT_EQ(digits.classes.size(), 10u);
  EXPECT_EQ(digits.labels[0], 0);
  EXPECT_EQ(digits.labels[5], 3);
  // A folder without recordings is named.
  std::filesystem::create_directories(dir / "empty");
  r = test::bmru("dataset fsdd --keyword 0 --root " + (dir / "empty").string() + " -o " +
                 (dir / "e.h5").string());
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("empty"), std::string::npos) << r.text;
}

TEST(Speech, SyntheticSetIsDeterministicAndSplitByVoice) {
  test::TempDir dir;
  const std::string args =
      "dataset synth --words yes,no,stop --accents en,en-us,en-029 --variants m1,f2 --seed 5 -o ";
  auto r = test::bmru(args + (dir / "a.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  r = test::bmru(args + (dir / "b.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  const core::Dataset a = core::read_dataset(dir / "a.h5"), b = core::read_dataset(dir / "b.h5");
  ASSERT_EQ(a.sequences, 18);     // 3 words x 6 voices
  EXPECT_EQ(a.inputs, b.inputs);  // bit for bit
  EXPECT_EQ(a.classes, (std::vector<std::string>{"rest", "yes"}));
  std::map<std::string, std::set<std::string>> parts_of_voice;
  for (size_t i = 0; i < a.name.size(); ++i) {
    parts_of_voice[a.speaker[i]].insert(a.splits[0].part[i]);
    EXPECT_EQ(a.labels[i], a.name[i].rfind("yes_", 0) == 0 ? 1 : 0) << a.name[i];
  }
  std::set<std::string> parts;
  for (const auto& [voice, p] : parts_of_voice) {
    EXPECT_EQ(p.size(), 1u) << voice << " is in several parts";
    parts.insert(p.begin(), p.end());
  }
  EXPECT_EQ(parts, (std::set<std::string>{"train", "val", "test"}));
  bool has_version = false;
  for (const auto& at : a.input_attrs) has_version = has_version || at.name == "espeak_ng_version";
  EXPECT_TRUE(has_version);
  // Another seed draws other onsets and noise.
  r = test::bmru(
      "dataset synth --words yes,no,stop --accents en,en-us,en-029 --variants m1,f2 --seed 6 -o " +
      (dir / "c.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(core::read_dataset(dir / "c.h5").inputs, a.inputs);
}

}  // namespace
}  // namespace bmru
