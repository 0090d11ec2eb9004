// Trained networks as they are (issue 14): a network that looks trained runs through fidelity
// with no option, its tiny parameters realised (dropped, widened) and listed.
#include <gtest/gtest.h>

#include <regex>

#include "cli_support.hpp"
#include "core/model_file.hpp"
#include "core/stimuli.hpp"
#include "h5_reader.hpp"
#include "models/circuit_model.hpp"
#include "models/demo_network.hpp"
#include "models/realisable_range.hpp"
#include "test_support.hpp"
#include "trained_like.hpp"

namespace bmru {
namespace {

double value_of(const std::string& text, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(key + "=([^ \n]+)"))) return std::nan("");
  return std::stod(m[1]);
}

TEST(TrainedNetworks, ALookingTrainedNetworkRunsWithNoOption) {
  const core::Index S = 2, N = 51;  // odd: a two-class vote cannot tie
  const auto x = core::read_all(*core::random_stimuli({S, N, 13, 1}));
  const core::Network net = test::trained_like_network(7, x);
  // It looks trained: weights below 0.1, biases below 100 pA, bands from narrow to 98 %.
  int small_weights = 0, small_biases = 0;
  double widest = 0, narrowest = 1;
  core::for_each_parameter(
      net, [&](const std::string&, const char*, const auto& a, core::ParameterKind kind) {
        for (core::Index i = 0; i < a.size(); ++i) {
          const double v = std::abs(a.data()[i]);
          if (kind == core::ParameterKind::weights) small_weights += v > 0 && v < 0.1;
          if (kind == core::ParameterKind::bias) small_biases += v * 1e-9 < 100e-12;
        }
      });
  for (const auto& L : net.layers) {
    const auto k = core::cell_constants(L);
    for (core::Index i = 0; i < k.alpha.size(); ++i) {
      const double band = (k.beta_hi(i) - k.beta_lo(i)) / k.beta_hi(i);
      widest = std::max(widest, band);
      narrowest = std::min(narrowest, band);
    }
  }
  EXPECT_GE(small_weights, 10);
  EXPECT_GE(small_biases, 3);
  EXPECT_GT(widest, 0.9);
  EXPECT_LT(narrowest, 0.3);

  test::TempDir dir;
  core::write_model(net, dir / "trained.h5");
  const auto r = test::run(test::cache_env() + " " + BMRU_BINARY + " fidelity --model " +
                           (dir / "trained.h5").string() + " --random-sequences 2 --frames 51" +
                           " --jobs 2 --waveforms 0 -o " + (dir / "run.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  std::vector<models::ParameterChange> changes;
  core::write_model(models::realise(net, {}, changes), dir / "realised.h5");
  const auto rr = test::run(test::cache_env() + " " + BMRU_BINARY + " fidelity --model " +
                            (dir / "realised.h5").string() + " --random-sequences 2 --frames 51" +
                            " --jobs 2 --waveforms 0 -o " + (dir / "run2.h5").string());
  EXPECT_NE(r.text.find("realised (within the stated accuracy): "), std::string::npos) << r.text;
  EXPECT_GT(value_of(r.text, "ideal_power_w"), 0.0) << r.text;
  // Weights down to 0.01 are realised, so the circuit follows the network as given: 97 % of the
  // cell states, and every decision whose vote is not a near-tie (a margin above 2 frames; the
  // fixture's random readout leaves some sequences at one frame).
  EXPECT_GE(value_of(r.text, "state_agreement"), 0.97) << r.text;
  const auto path = dir / "run.h5";
  const auto sw = test::read_dataset(path, "/sw/decision"),
             hw = test::read_dataset(path, "/hw/decision");
  const auto margin = test::read_dataset(path, "/sw/vote_margin");
  int clear = 0;
  for (size_t s = 0; s < sw.size(); ++s)
    if (margin[s] > 2.0 / N) {
      ++clear;
      EXPECT_EQ(sw[s], hw[s]) << "sequence " << s << " (margin " << margin[s] << ")";
    }
  EXPECT_GE(clear, 1);
  // Against the network as realised (what the circuit is) as well.
  ASSERT_EQ(rr.status, 0) << rr.text;
  EXPECT_GE(value_of(rr.text, "state_agreement"), 0.97) << rr.text;
  std::printf("given: %s\nrealised: %s\n", r.text.substr(r.text.rfind("state_agreement=")).c_str(),
              rr.text.substr(rr.text.rfind("state_agreement=")).c_str());
}

}  // namespace
}  // namespace bmru

namespace bmru {
namespace {

// What no realisation covers is refused naming the parameter, or clamped with --clamp: the
// change is printed and kept in /clamp, and the behavioural side still runs the network as given.
TEST(TrainedNetworks, ClampRecordsEveryChangeAndRefusalNamesTheParameter) {
  core::Network net = models::demo_network();
  net.layers[0].candidate.kernel(1, 0) = 6.5;  // above the widest copy (4)
  test::TempDir dir;
  core::write_model(net, dir / "wide.h5");
  const std::string base = test::cache_env() + " " + BMRU_BINARY + " fidelity --model " +
                           (dir / "wide.h5").string() +
                           " --random-sequences 1 --frames 6 --jobs 1 --waveforms 0 -o ";
  const auto refused = test::run(base + (dir / "a.h5").string());
  EXPECT_EQ(refused.status, 1) << refused.text;
  EXPECT_NE(refused.text.find("layer1.cand_kernel[1,0] = 6.5"), std::string::npos) << refused.text;
  const auto clamped = test::run(base + (dir / "b.h5").string() + " --clamp");
  ASSERT_EQ(clamped.status, 0) << clamped.text;
  EXPECT_NE(clamped.text.find("clamped (--clamp): 1 parameter"), std::string::npos) << clamped.text;
  EXPECT_NE(clamped.text.find("layer1.cand_kernel[1,0]: 6.5 -> 4"), std::string::npos)
      << clamped.text;
  const auto check = test::run(
      "/usr/bin/python3 -c \"import h5py; f = h5py.File('" + (dir / "b.h5").string() +
      "'); c = f['clamp'][...]; print(len(c), c['parameter'][0].decode(), c['requested'][0], "
      "c['realised'][0], len(f['realisation']), f['model/layer1/cand_kernel'][1, 0], "
      "f['metrics'].attrs['realised_sw_decision_agreement'])\"");
  EXPECT_EQ(check.text, "1 layer1.cand_kernel[1,0] 6.5 4.0 0 6.5 1.0\n") << check.text;
}

}  // namespace
}  // namespace bmru
