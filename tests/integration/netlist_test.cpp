// The generated circuit of the demo network in real ngspice: the standalone netlist runs under
// `ngspice -b` and follows the reference engine; the lockstep netlist finds its operating point in
// every corner of generic180 and GF180MCU (calibrated at tt, as a fabricated chip would be).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "cli_support.hpp"
#include "core/stimuli.hpp"
#include "experiments/netlist.hpp"
#include "models/demo_network.hpp"
#include "models/reference_engine.hpp"
#include "pdk/registry.hpp"
#include "spice/shared_session.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

using test::cache_env;

TEST(Netlist, StandaloneDeckRunsUnderNgspiceBatchAndFollowsTheReferenceEngine) {
  test::TempDir dir;
  const auto sp = dir / "demo.sp";
  const auto gen = test::run(cache_env() + " " + BMRU_BINARY + " netlist --frames 12 -o " +
                             sp.string() + " --ports " + (dir / "ports.json").string());
  ASSERT_EQ(gen.status, 0) << gen.text;
  const auto run = test::run("cd " + dir.path().string() + " && ngspice -b demo.sp");
  ASSERT_EQ(run.status, 0) << run.text;
  for (const char* bad : {"rror", "nknown parameter", "aborted", "singular"})
    EXPECT_EQ(run.text.find(bad), std::string::npos) << bad << " in\n" << run.text;
  std::ifstream data(sp.string() + ".data");
  ASSERT_TRUE(data) << "ngspice -b wrote no probe data";

  // Sample the probes at the sample instants and compare with the reference engine.
  std::vector<std::vector<double>> rows;
  for (std::string line; std::getline(data, line);) {
    std::istringstream in(line);
    std::vector<double> r;
    for (double v; in >> v;) r.push_back(v);
    rows.push_back(r);
  }
  const core::Network net = models::demo_network();
  const core::Matrix x = core::random_stimuli({1, 12, 13, 1})->read_sequence(0, 0, 12);
  const auto frames = models::run_sequence(net, x);
  const auto axis = core::FrameAxis::with_period(10e-3);
  double sq = 0;
  int n = 0, agree = 0, cells = 0;
  for (core::Index k = 0; k < 12; ++k) {
    const double ts = axis.sample_time(k);
    const auto& r = *std::min_element(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      return std::abs(a[0] - ts) < std::abs(b[0] - ts);
    });
    for (size_t l = 0; l < 2; ++l)
      for (core::Index i = 0; i < 4; ++i) {
        // Columns per layer: 4 candidates, 4 states, then per cell its output u_l's probes, l + 2
        // on the positive side (the pre-projection's and each post-projection's) and one on the
        // negative; each column a (time, value) pair.
        const size_t base = l == 0 ? 0 : 4 + 4 + 4 * 3;
        const double c = r[2 * (base + static_cast<size_t>(i)) + 1] / 1e-9;
        const double h = r[2 * (base + 4 + static_cast<size_t>(i)) + 1] / 1e-9;
        const double alpha = std::abs(net.layers[l].alphas(i));
        sq += std::pow(c - frames[static_cast<size_t>(k)].layers[l].candidate(0, i), 2);
        ++n;
        agree += (h > alpha / 2) == (frames[static_cast<size_t>(k)].layers[l].state(0, i) > 0);
        ++cells;
      }
  }
  EXPECT_LT(std::sqrt(sq / n), 0.05) << "candidate RMS error in model units";
  EXPECT_GE(static_cast<double>(agree) / cells, 0.9)
      << agree << " of " << cells << " cell-frames agree";
}

void operating_point_in_every_corner(const pdk::Technology& tech,
                                     const std::vector<std::string>& corners) {
  setenv("XDG_CACHE_HOME", test::cache_dir().c_str(), 1);
  const models::CircuitOptions o =
      experiments::calibrated_options(test::session(), tech, {}).options;
  const models::CircuitModel c = models::build_circuit(models::demo_network(), tech, o);
  for (const auto& corner : corners) {
    pdk::Conditions k;
    k.corner = corner;
    spice::Circuit circuit = test::session().load(experiments::lockstep_netlist(c, tech, k));
    EXPECT_NO_THROW(circuit.analysis("op")) << tech.name() << " " << corner;
    const auto cand = circuit.vector(c.ports.layers[0].candidate[0]);
    EXPECT_TRUE(std::isfinite(cand.at(0))) << corner;
  }
}

TEST(Netlist, Generic180OperatingPointInEveryCorner) {
  operating_point_in_every_corner(*pdk::generic180(), {"tt", "ff", "ss", "fs", "sf"});
}

TEST(Netlist, Gf180OperatingPointInEveryCorner) {
  const std::string root = std::string(BMRU_SOURCE_DIR) + "/../shared/pdk";
  if (!std::filesystem::exists(root + "/gf180mcuD/libs.tech/ngspice/sm141064.ngspice"))
    GTEST_SKIP() << "GF180MCU model files not found at " << root;
  const auto tech = pdk::gf180mcu(root + "/gf180mcuD/libs.tech/ngspice");
  operating_point_in_every_corner(*tech, {"typical", "ff", "ss", "fs", "sf"});
}

}  // namespace
}  // namespace bmru
