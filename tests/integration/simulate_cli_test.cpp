// End-to-end tests of `bmru simulate` and `bmru demo-model`: the real binary, real HDF5 files, and
// h5py (the reader our users use) on both sides.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>
#include <set>

#include "cli_support.hpp"
#include "core/model_file.hpp"
#include "core/run_file.hpp"
#include "core/stimuli.hpp"
#include "h5_reader.hpp"
#include "models/demo_network.hpp"
#include "models/reference_engine.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

std::vector<double> read(const std::filesystem::path& path, const std::string& name,
                         std::vector<hsize_t>& dims) {
  return test::read_dataset(path, name, &dims);
}

TEST(SimulateCli, DefaultRunWritesSwitchingCellsWithOnlyZeroAndAlpha) {
  test::TempDir dir;
  const auto out = test::bmru("simulate --out " + (dir / "run.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  std::vector<hsize_t> dims;
  const auto state = read(dir / "run.h5", "/sw/layer1/state", dims);
  ASSERT_EQ(dims, (std::vector<hsize_t>{8, 101, 4}));
  const core::Network net = core::read_model(dir / "run.h5");
  EXPECT_EQ(net, models::demo_network());
  for (hsize_t i = 0; i < 4; ++i) {
    const double alpha = std::abs(net.layers[0].alphas(static_cast<core::Index>(i)));
    std::set<double> values;
    int switches = 0;
    for (hsize_t s = 0; s < 8; ++s)
      for (hsize_t k = 0; k < 101; ++k) {
        const double h = state[(s * 101 + k) * 4 + i];
        values.insert(h);
        if (k > 0 && h != state[(s * 101 + k - 1) * 4 + i]) ++switches;
      }
    EXPECT_EQ(values, (std::set<double>{0.0, alpha})) << "cell " << i;
    EXPECT_GE(switches, 8) << "cell " << i;
  }
}

TEST(SimulateCli, StoredTracesEqualTheEngineOnTheStoredInputs) {
  test::TempDir dir;
  ASSERT_EQ(test::bmru("simulate --random-sequences 3 --frames 300 --seed 5 -o " +
                       (dir / "run.h5").string())
                .status,
            0);
  const core::Network net = core::read_model(dir / "run.h5");
  auto inputs = core::file_stimuli(dir / "run.h5", net.n_in());
  ASSERT_EQ(inputs->sequences(), 3);
  ASSERT_EQ(inputs->frames(), 300);
  std::vector<hsize_t> dims;
  const auto logits = read(dir / "run.h5", "/sw/logits", dims);
  const auto out2 = read(dir / "run.h5", "/sw/layer2/output", dims);
  for (core::Index s = 0; s < 3; ++s) {
    const auto frames = models::run_sequence(net, inputs->read_sequence(s, 0, 300));
    for (core::Index k = 0; k < 300; ++k) {
      for (core::Index o = 0; o < 2; ++o)
        ASSERT_NEAR(logits[static_cast<size_t>((s * 300 + k) * 2 + o)],
                    frames[static_cast<size_t>(k)].logits(0, o), 1e-12);
      for (core::Index i = 0; i < 4; ++i)
        ASSERT_NEAR(out2[static_cast<size_t>((s * 300 + k) * 4 + i)],
                    frames[static_cast<size_t>(k)].layers[1].output(0, i), 1e-12);
    }
  }
}

TEST(SimulateCli, H5pyReadsTheRunFileAndWritesModelsWeRead) {
  test::TempDir dir;
  ASSERT_EQ(test::bmru("simulate --frames 20 --random-sequences 2 -o " + (dir / "run.h5").string())
                .status,
            0);
  const std::string script = std::string(BMRU_SOURCE_DIR) + "/tests/integration/h5py_check.py";
  const auto check = test::python(script, "check-run " + (dir / "run.h5").string());
  EXPECT_EQ(check.status, 0) << check.text;

  // h5py writes the model its own way: vlen UTF-8 attributes, int32 counts, float32 and int16 data.
  const auto write = test::python(script, "write-model " + (dir / "h5py_model.h5").string());
  ASSERT_EQ(write.status, 0) << write.text;
  const auto sim = test::bmru("simulate --frames 10 --model " + (dir / "h5py_model.h5").string() +
                              " -o " + (dir / "run2.h5").string());
  EXPECT_EQ(sim.status, 0) << sim.text;
  const core::Network net = core::read_model(dir / "h5py_model.h5");
  EXPECT_EQ(net.n_in(), 3);
  EXPECT_DOUBLE_EQ(net.layers[0].beta1(1), 0.25);
  EXPECT_NEAR(net.unit_current_a, 5e-10, 1e-16);  // stored as float32
}

TEST(RunFileNetlist, H5pyReadsTheNetlistTextsWithTheirHashAndTheElementMap) {
  test::TempDir dir;
  {
    core::RunFile file(dir / "run.h5", {"9.9", "test"});
    file.write_netlist("* lockstep\nR1 a 0 1k\n.end\n", "* standalone\n.end\n");
    file.write_netlist_map(
        {{"Mw_c_l1_c0_1", "weight_mirror", "layer1.cand_kernel[1,0]", 2.4e-6, "m"},
         {"", "pruned", "layer1.cand_kernel[2,0]", 0, ""}});
    file.commit();
  }
  const std::string script = std::string(BMRU_SOURCE_DIR) + "/tests/integration/h5py_check.py";
  const auto check = test::python(script, "check-netlist " + (dir / "run.h5").string());
  EXPECT_EQ(check.status, 0) << check.text;
}

TEST(SimulateCli, InputFilesAndUnitCurrentOverride) {
  test::TempDir dir;
  ASSERT_EQ(test::bmru("demo-model -o " + (dir / "demo.json").string()).status, 0);
  std::ofstream csv(dir / "x.csv");
  for (int k = 0; k < 12; ++k) {
    for (int i = 0; i < 13; ++i) csv << (i ? "," : "") << ((k + i) % 5 - 2) * 0.5;
    csv << "\n";
  }
  csv.close();
  const auto out =
      test::bmru("simulate --model " + (dir / "demo.json").string() + " --inputs " +
                 (dir / "x.csv").string() + " --unit-current 500p -o " + (dir / "run.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("sequences=1 frames=12"), std::string::npos) << out.text;
  EXPECT_DOUBLE_EQ(core::read_model(dir / "run.h5").unit_current_a, 500e-12);
}

TEST(SimulateCli, BadInputGivesOneClearMessageAndNonZeroExit) {
  test::TempDir dir;
  const auto run = [&](const std::string& args) { return test::bmru(args); };
  auto r = run("simulate --frames 1x -o " + (dir / "a.h5").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.text.find("--frames"), std::string::npos) << r.text;
  r = run("simulate --frames 0 -o " + (dir / "a.h5").string());
  EXPECT_NE(r.status, 0);
  std::ofstream(dir / "bad.json") << "{\"model\": {}}";
  r = run("simulate --model " + (dir / "bad.json").string() + " -o " + (dir / "a.h5").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.text.find("bad.json"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("/model/pre_proj"), std::string::npos) << r.text;
  std::ofstream(dir / "x.csv") << "1,2,3\n";
  r = run("simulate --inputs " + (dir / "x.csv").string() + " -o " + (dir / "a.h5").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.text.find("x.csv"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("n_in = 13"), std::string::npos) << r.text;
  EXPECT_FALSE(std::filesystem::exists(dir / "a.h5"));
  r = run("simulate");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.text.find("--out"), std::string::npos) << r.text;
}

TEST(SimulateCli, BenchAccuracyNamesABadSettingBeforeAnyRun) {
  auto r = test::bmru("bench accuracy --frames 2 --setting tmax=250u,trtl=1");
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("unknown key 'trtl'"), std::string::npos) << r.text;
  r = test::bmru("bench accuracy --frames 2 --setting reltol=abc");
  EXPECT_EQ(r.status, 1) << r.text;
  EXPECT_NE(r.text.find("--setting reltol"), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("settings "), std::string::npos) << r.text;  // no table: nothing ran
}

TEST(SimulateCli, HelpListsEverySubcommand) {
  const auto r = test::bmru("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* cmd : {"simulate", "demo-model"})
    EXPECT_NE(r.text.find(cmd), std::string::npos) << cmd;
  EXPECT_EQ(test::bmru("simulate --help").status, 0);
  EXPECT_EQ(test::bmru("--version").status, 0);
}

// Issue 15: CLI11's own codes (105, 106, 109, 114) became exit codes; every usage error is 1.
TEST(SimulateCli, UsageErrorsExitOneAndHelpListsEnginesReadably) {
  for (const char* args :
       {"simulate --bogus", "simulate --frames", "simulate --frames abc -o x.h5",
        "simulate extra -o x.h5", "nosuchcommand", "", "fidelity --engines sw,xx -o x.h5"}) {
    const auto r = test::bmru(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.text;
  }
  const auto bad = test::bmru("fidelity --engines hw -o x.h5");
  EXPECT_NE(bad.text.find("'hw' is not one of: sw,hw | sw,ct,hw | sw,ct"), std::string::npos)
      << bad.text;
  const auto help = test::bmru("fidelity --help");
  EXPECT_NE(help.text.find("sw,hw|sw,ct,hw|sw,ct"), std::string::npos) << help.text;
  EXPECT_EQ(help.text.find("{sw,hw,sw,ct,hw,sw,ct}"), std::string::npos) << help.text;
}

}  // namespace
}  // namespace bmru
