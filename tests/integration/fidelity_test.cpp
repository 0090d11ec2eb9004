// End-to-end `bmru fidelity` (generic180 tt 27 C 1.8 V, demo network, real ngspice in workers):
// the run file's layout, and its metrics recomputed from the stored traces with h5py.
#include <gtest/gtest.h>

#include <cmath>

#include <fstream>

#include "cli_support.hpp"
#include "h5_reader.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

using test::cache_env;

TEST(Fidelity, ShortRunWritesTheLayoutAndMetricsConsistentWithItsTraces) {
  test::TempDir dir;
  const auto out = test::run(cache_env() + " " + BMRU_BINARY +
                             " fidelity --random-sequences 2 --frames 20 --jobs 2 -o " +
                             (dir / "run.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("failed=0"), std::string::npos) << out.text;
  // Issue 14: the generated circuit draws about the currents the model defines (the main job:
  // 0.97x; bench/power); before the polarity plan and the 1/8 bias references, 2.3x. Below 1 since
  // the residual stream is a bundle: the ideal counts skip copies (18 % of it on the demo network)
  // that the circuit no longer makes, so it cannot go below about 0.8.
  const auto key = [&](const std::string& k) {
    const auto at = out.text.rfind(k + "=");
    return at == std::string::npos ? std::nan("") : std::stod(out.text.substr(at + k.size() + 1));
  };
  EXPECT_LT(key("mean_power_w") / key("ideal_power_w"), 1.1) << out.text;
  EXPECT_GT(key("mean_power_w") / key("ideal_power_w"), 0.8) << out.text;
  const auto check = test::python(std::string(BMRU_SOURCE_DIR) + "/tests/integration/h5py_check.py",
                                  "check-fidelity " + (dir / "run.h5").string());
  EXPECT_EQ(check.status, 0) << check.text;

  // The report draws valid PNG images of the documented size.
  const auto report = test::run(std::string(BMRU_BINARY) + " report " + (dir / "run.h5").string() +
                                " --sequence 1 -o " + (dir / "fig").string());
  ASSERT_EQ(report.status, 0) << report.text;
  for (const char* name : {"sequence1_cells.png", "sequence1_logits.png", "agreement.png"}) {
    std::ifstream png(dir / "fig" / name, std::ios::binary);
    ASSERT_TRUE(png) << name;
    unsigned char head[24] = {};
    png.read(reinterpret_cast<char*>(head), 24);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(head + 1), 3), "PNG") << name;
    const auto be32 = [&](int at) {
      return (head[at] << 24) | (head[at + 1] << 16) | (head[at + 2] << 8) | head[at + 3];
    };
    EXPECT_EQ(be32(16), 1200) << name;  // IHDR width
    EXPECT_EQ(be32(20), 800) << name;   // IHDR height
  }
  const auto bad = test::run(std::string(BMRU_BINARY) + " report " + (dir / "run.h5").string() +
                             " --sequence 9 -o " + (dir / "fig").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.text.find("sequence 9 does not exist"), std::string::npos) << bad.text;
  // Issue 15: a window of frames; never a Python traceback, whatever the file or folder.
  const auto windowed =
      test::run(std::string(BMRU_BINARY) + " report " + (dir / "run.h5").string() +
                " --window 5:12 -o " + (dir / "win").string());
  ASSERT_EQ(windowed.status, 0) << windowed.text;
  EXPECT_EQ(test::png_size(dir / "win" / "sequence0_cells.png"), std::make_pair(1200, 800));
  std::ofstream(dir / "notes.h5") << "not hdf5";
  const std::string inputs_only = (dir / "inputs.h5").string();
  ASSERT_EQ(test::bmru("simulate --frames 3 -o " + inputs_only).status, 0);
  const std::string fig2 = " -o " + (dir / "fig2").string();
  for (const std::string& args : {(dir / "notes.h5").string() + fig2, inputs_only + fig2,
                                  (dir / "run.h5").string() + " --window 50:60" + fig2,
                                  (dir / "run.h5").string() + " --window x" + fig2,
                                  (dir / "run.h5").string() + " -o /proc/nope"}) {
    const auto r = test::run(std::string(BMRU_BINARY) + " report " + args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.text;
    EXPECT_EQ(r.text.find("Traceback"), std::string::npos) << args << "\n" << r.text;
  }
}

// Issue 15: `bmru export` writes an ngspice raw file that ngspice's own `load` reads back, value
// for value, and CSV files with a header row.
TEST(Fidelity, ExportedRawFileLoadsInNgspiceAndCsvHasHeaders) {
  test::TempDir dir;
  const auto out =
      test::run(cache_env() + " " + BMRU_BINARY +
                " fidelity --random-sequences 2 --frames 6 --waveforms 10 --jobs 2 -o " +
                (dir / "run.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  const auto raw =
      test::bmru("export " + (dir / "run.h5").string() + " -o " + (dir / "run.raw").string());
  ASSERT_EQ(raw.status, 0) << raw.text;
  EXPECT_NE(raw.text.find("4 plots"), std::string::npos)
      << raw.text;  // 2 sequences x (waveforms, frames)
  std::ofstream(dir / "load.sp")
      << "* load\n.control\nload " << (dir / "run.raw").string()
      << "\nsetplot tran2\nprint i(cell5)[33]\nsetplot tran4\nprint hw_layer2_state_1[4]\n"
         "print time[4]\nquit\n.endc\n.end\n";
  const auto loaded = test::run("ngspice -b " + (dir / "load.sp").string());
  const auto value = [&](const std::string& name) {
    const auto at = loaded.text.find(name + " = ");
    return at == std::string::npos ? std::nan("")
                                   : std::stod(loaded.text.substr(at + name.size() + 3));
  };
  const auto waves = test::read_dataset(dir / "run.h5", "/hw/waveforms/state");  // [2, 60, 8]
  const auto state = test::read_dataset(dir / "run.h5", "/hw/layer2/state");     // [2, 6, 4]
  EXPECT_NEAR(value("i(cell5)[33]"), waves[(1 * 60 + 33) * 8 + 5],
              1e-6 * std::abs(waves[(1 * 60 + 33) * 8 + 5]) + 1e-20)
      << loaded.text;
  EXPECT_NEAR(value("hw_layer2_state_1[4]"), state[(1 * 6 + 4) * 4 + 1],
              1e-6 * std::abs(state[(1 * 6 + 4) * 4 + 1]) + 1e-20)
      << loaded.text;
  EXPECT_NEAR(value("time[4]"), 4.9e-2, 1e-9) << loaded.text;  // (k + sample phase) T
  const auto csv = test::bmru("export --format csv " + (dir / "run.h5").string() + " -o " +
                              (dir / "csv").string());
  ASSERT_EQ(csv.status, 0) << csv.text;
  std::ifstream f(dir / "csv" / "hw_layer1_state.csv");
  std::string header, first;
  std::getline(f, header);
  std::getline(f, first);
  EXPECT_EQ(header, "sequence,frame,c0,c1,c2,c3");
  EXPECT_EQ(first.rfind("0,0,", 0), 0u) << first;
  EXPECT_EQ(
      test::bmru("export " + (dir / "load.sp").string() + " -o " + (dir / "x.raw").string()).status,
      1);
}

TEST(Fidelity, ResyncModeRunsAndBadOptionsAreNamed) {
  test::TempDir dir;
  // Three sequences on one worker: each lockstep worker retires after its sequence (flat memory),
  // so every sequence after the first needs a fresh worker.
  const auto out =
      test::run(cache_env() + " " + BMRU_BINARY +
                " fidelity --random-sequences 3 --frames 6 --jobs 1 --mode resync -o " +
                (dir / "run.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("failed=0"), std::string::npos) << out.text;
  const auto bad =
      test::run(std::string(BMRU_BINARY) + " fidelity --frame-period 10m --ramp 9.5m -o " +
                (dir / "bad.h5").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.text.find("--ramp"), std::string::npos) << bad.text;
}

// The ct cell's switching charges and the lines' capacitance scale are fitted against SPICE in a
// one-cell network at overdrives of 0.02 / 0.07 / 0.28 nA (up) and 0.02 / 0.05 / 0.2 nA (down);
// at overdrives it was not fitted on (0.14 up, 0.1 down) its switching latencies must still match
// SPICE's. (With charges fitted on a bench that steps current straight into the cell, ct was
// 17 % late here.)
TEST(Fidelity, ContinuousTimeLatenciesMatchSpiceAtOverdrivesNotFittedOn) {
  test::TempDir dir;
  std::ofstream(dir / "cell.json")
      << R"({"model": {"format": "bmru-model/1", "n_in": 1, "d": 1, "n_layers": 1,
    "n_out": 1, "unit_current": 1e-9, "pre_proj": {"kernel": [[1.0]], "bias": [0.0]},
    "layer1": {"alphas": [0.7], "beta1": [0.5], "delta": [0.2], "initial_state": [0.0], "cand_kernel": [[1.0]],
               "cand_bias": [0.0], "post_kernel": [[1.0]], "post_bias": [0.0]},
    "fc": {"kernel": [[1.0]], "bias": [0.0]}}})";
  std::ofstream(dir / "steps.csv")
      << "x\n0.3\n0.3\n0.84\n0.84\n0.40\n0.40\n0.84\n0.84\n0.40\n0.40\n";
  const auto out =
      test::run(cache_env() + " " + BMRU_BINARY + " fidelity --engines sw,ct,hw --model " +
                (dir / "cell.json").string() + " --inputs " + (dir / "steps.csv").string() +
                " -o " + (dir / "run.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  const auto number_after = [&](const std::string& key) {
    const auto at = out.text.find(key);
    EXPECT_NE(at, std::string::npos) << out.text;
    return at == std::string::npos ? 0.0 : std::stod(out.text.substr(at + key.size()));
  };
  const double ct = number_after("ct switching latency: median "),
               hw = number_after("; hw: median ");
  EXPECT_GT(hw, 0.2e-3) << out.text;  // the step passes through the lines and the cell
  EXPECT_NEAR(ct, hw, 0.05 * hw) << out.text;
}

TEST(Fidelity, ContinuousTimeEngineAloneAndBesideSpice) {
  test::TempDir dir;
  // sw, ct and hw: every pair compared, ct's traces and its characterization stored.
  const auto all = test::run(cache_env() + " " + BMRU_BINARY +
                             " fidelity --engines sw,ct,hw --random-sequences 2 "
                             "--frames 12 --frame-period 2m --jobs 2 -o " +
                             (dir / "all.h5").string());
  ASSERT_EQ(all.status, 0) << all.text;
  EXPECT_NE(all.text.find("ct (continuous-time model): state agreement with sw"), std::string::npos)
      << all.text;
  EXPECT_NE(all.text.find("times faster"), std::string::npos) << all.text;
  const auto check = test::python(std::string(BMRU_SOURCE_DIR) + "/tests/integration/h5py_check.py",
                                  "check-engines " + (dir / "all.h5").string());
  EXPECT_EQ(check.status, 0) << check.text;
  // sw and ct without SPICE.
  const auto two = test::run(cache_env() + " " + BMRU_BINARY +
                             " fidelity --engines sw,ct --random-sequences 2 "
                             "--frames 12 --frame-period 2m -o " +
                             (dir / "two.h5").string());
  ASSERT_EQ(two.status, 0) << two.text;
  // Without SPICE the table names ct as the other engine and prints no SPICE power or time.
  EXPECT_NE(two.text.find("decision sw / ct"), std::string::npos) << two.text;
  EXPECT_EQ(two.text.find("power:"), std::string::npos) << two.text;
  EXPECT_NE(two.text.find("mean_power_w=nan"), std::string::npos) << two.text;
  const auto ct_a = test::read_dataset(dir / "all.h5", "/ct/layer2/state");
  const auto ct_b = test::read_dataset(dir / "two.h5", "/ct/layer2/state");
  ASSERT_EQ(ct_a.size(), ct_b.size());
  // The same engine on the same inputs and facts. Beside SPICE each worker runs its sequence as
  // one lane; alone the sequences run as lanes of one pack, whose vector exp and the single lane's
  // scalar one differ by an ulp of a float, which moves the adaptive steps a little: within the
  // allowance of the lanes test (ContinuousEngine.ALaneGivesTheFramesOfItsSequenceAlone, the same
  // 2 ms frames), 5e-3 of a unit plus 2 % (measured 2.3e-5 on a state of 0.012, 1.9e-3 of it).
  for (size_t i = 0; i < ct_a.size(); ++i)
    EXPECT_NEAR(ct_a[i], ct_b[i], 5e-3 + 2e-2 * std::abs(ct_a[i])) << i;
}

}  // namespace
}  // namespace bmru
