// `--noise` end to end (generic180, real ngspice in workers): the noise enters the circuit through
// caller-driven sources, the same seed gives the same run bit for bit, another seed another run;
// the run file holds the noiseless run and the suppression per cell boundary. And `bmru
// noise-study` on the behavioural model.
#include <gtest/gtest.h>

#include <sstream>

#include "cli_support.hpp"
#include "core/array_file.hpp"
#include "h5_reader.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

TEST(Noise, FidelityNoiseIsSeededInjectedInTheCircuitAndMeasured) {
  test::TempDir dir;
  const auto run = [&](const std::string& name, int seed) {
    const auto out = dir / name;
    const auto r = test::bmru_cached(
        "fidelity --random-sequences 1 --frames 6 --waveforms 0 --noise "
        "abs:50p --noise-seed " +
        std::to_string(seed) + " -o " + out.string());
    EXPECT_EQ(r.status, 0) << r.text;
    EXPECT_NE(r.text.find("suppression_factor="), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("suppression_is_bound="), std::string::npos) << r.text;
    return out;
  };
  const auto a = run("a.h5", 1), b = run("b.h5", 1), c = run("c.h5", 2);
  const auto ca = test::read_dataset(a, "hw/layer1/candidate");
  EXPECT_EQ(ca, test::read_dataset(b, "hw/layer1/candidate"));  // bit for bit
  EXPECT_NE(ca, test::read_dataset(c, "hw/layer1/candidate"));
  // The noiseless run is kept; the noise moved the circuit's candidates by tens of pA.
  const auto clean = test::read_dataset(a, "noiseless/hw/layer1/candidate");
  ASSERT_EQ(clean.size(), ca.size());
  double rms = 0;
  for (size_t i = 0; i < ca.size(); ++i) rms += (ca[i] - clean[i]) * (ca[i] - clean[i]);
  rms = std::sqrt(rms / static_cast<double>(ca.size()));
  EXPECT_GT(rms, 2e-12);
  EXPECT_LT(rms, 100e-12);
  EXPECT_FALSE(std::filesystem::exists(a.string() + ".noiseless.h5"));
  // Per engine the factor per cell [layers, d], its median and whether it is a bound.
  EXPECT_EQ(test::read_dataset(a, "metrics/noise/hw/suppression_factor").size(), 8u);
  EXPECT_EQ(test::read_dataset(a, "metrics/noise/sw/state_error_vs_frame").size(), 6u);
  EXPECT_TRUE(core::read_number_attribute(a, "metrics/noise/hw", "suppression_factor"));
  EXPECT_EQ(*core::read_number_attribute(a, "config", "noise_seed"), 1);
  // The noise sources are in the netlist the run simulated.
  const auto text = test::run("/usr/bin/python3 -c \"import h5py; print(h5py.File('" + a.string() +
                              "')['netlist/lockstep'][()].decode())\"");
  EXPECT_NE(text.text.find("inoise_l1_c0"), std::string::npos);
}

// --noise-at all: a source on every line of the circuit; SPICE and ct take the same samples and
// move the candidates alike; the discrete model (no lines) has no figure.
TEST(Noise, NoiseOnEveryLineReachesSpiceAndCtAlike) {
  test::TempDir dir;
  const auto out = dir / "all.h5";
  const auto r = test::bmru_cached(
      "fidelity --engines sw,ct,hw --random-sequences 2 --frames 10 "
      "--waveforms 0 --noise rel:0.2 --noise-at all -o " +
      out.string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("noise hw: suppression factor"), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("noise sw:"), std::string::npos) << r.text;
  const auto text = test::run("/usr/bin/python3 -c \"import h5py; f = h5py.File('" + out.string() +
                              "'); print(f['netlist/lockstep'][()].decode().count('external') "
                              "- 26, f['config'].attrs['noise_at'], 'sw' in f['metrics/noise'])\"");
  // 26 input sources; one noise source per line (far more than the 8 candidates).
  int sources = 0;
  std::istringstream in(text.text);
  std::string at, has_sw;
  in >> sources >> at >> has_sw;
  EXPECT_GT(sources, 40) << text.text;
  EXPECT_EQ(at, "all");
  EXPECT_EQ(has_sw, "False");
  // SPICE and ct see the same noise: their candidates' deviations agree within a factor 1.5 (over
  // 2 x 10 frames: 1.12; over 1 x 5, one sequence's draw moved the ratio to 1.66).
  const auto hw = test::read_dataset(out, "metrics/noise/hw/candidate_deviation");
  const auto ct = test::read_dataset(out, "metrics/noise/ct/candidate_deviation");
  ASSERT_EQ(hw.size(), 8u);
  ASSERT_EQ(ct.size(), 8u);
  double h = 0, c = 0;
  for (size_t i = 0; i < hw.size(); ++i) {
    h += hw[i];
    c += ct[i];
  }
  EXPECT_GT(h, 0.5);  // a 20 % noise on every line: the candidates move by tens of percent
  EXPECT_LT(std::abs(h / c - 1), 0.5) << h << " " << c;
}

// The leaky baseline in sw and ct (--cell leaky), under the same noise; it has no circuit.
TEST(Noise, TheLeakyBaselineRunsInSwAndCtAndIsRefusedForSpice) {
  test::TempDir dir;
  const auto out = dir / "leaky.h5";
  const auto r = test::bmru_cached(
      "fidelity --engines sw,ct --cell leaky --leak 0.7 --noise abs:50p "
      "--random-sequences 2 --frames 8 -o " +
      out.string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("noise ct: suppression factor"), std::string::npos) << r.text;
  EXPECT_DOUBLE_EQ(*core::read_number_attribute(out, "config", "leak"), 0.7);
  // A run without the circuit reports ct against sw (cells, logits, agreement, noise).
  const auto fig = dir / "fig";
  const auto report = test::bmru("report " + out.string() + " -o " + fig.string());
  EXPECT_EQ(report.status, 0) << report.text;
  for (const char* png : {"sequence0_cells.png", "sequence0_logits.png", "noise.png"})
    EXPECT_GT(test::png_size(fig / png).first, 0) << png;
  // A leaky cell's state is analog: it moves with the noise, so its factor is a ratio.
  EXPECT_EQ(*core::read_number_attribute(out, "metrics/noise/ct", "suppression_is_bound"), 0);
  const auto hw = test::bmru("fidelity --cell leaky -o " + (dir / "x.h5").string());
  EXPECT_EQ(hw.status, 1) << hw.text;
  EXPECT_NE(hw.text.find("--engines sw,ct"), std::string::npos) << hw.text;
}

TEST(Noise, StudyComparesBmruWithTheLeakyBaselinePerLevel) {
  test::TempDir dir;
  const auto out = dir / "study.h5";
  const auto r =
      test::bmru("noise-study --levels 0,5% --random-sequences 2 --frames 30 -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("bmru_suppression_at_top="), std::string::npos) << r.text;
  const auto check = test::run(
      "/usr/bin/python3 -c \"import h5py, numpy as np, math\n"
      "f = h5py.File('" +
      out.string() +
      "')\n"
      "t = f['levels'][...]\n"
      "assert [c.decode() for c in t['cell']] == ['bmru', 'leaky', 'bmru', 'leaky']\n"
      "assert all(math.isnan(x) for x in t['suppression_factor'][:2])\n"
      "assert (t['state_error'][:2] == 0).all()\n"
      "assert (t['state_error'][2:] > 0).all()\n"
      "assert f['error_vs_frame'].shape == (4, 30)\n"
      "print('ok')\"");
  EXPECT_EQ(check.status, 0) << check.text;
}

}  // namespace
}  // namespace bmru
