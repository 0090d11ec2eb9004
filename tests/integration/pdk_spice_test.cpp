// Technologies measured in real ngspice: corners, threshold offsets, mismatch against Pelgrom, and
// the real GF180MCU models from ../shared/pdk.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "cli_support.hpp"
#include "core/units.hpp"
#include "experiments/worker_jobs.hpp"
#include "pdk/mismatch.hpp"
#include "pdk/registry.hpp"

namespace bmru {
namespace {

using pdk::Polarity;

double id(const std::string& args, const std::string& env = "") {
  const auto out = test::run(env + " " + std::string(BMRU_BINARY) + " characterize device " + args);
  EXPECT_EQ(out.status, 0) << out.text;
  const auto at = out.text.find("id=");
  EXPECT_NE(at, std::string::npos) << out.text;
  return at == std::string::npos
             ? 0
             : core::parse_quantity(out.text.substr(at + 3, out.text.find('\n', at) - at - 3));
}

// Runs an "op" of a netlist in a worker and returns the named vectors' values.
std::map<std::string, std::vector<double>> op(const std::string& netlist,
                                              const std::vector<std::string>& vectors) {
  spice::WorkerPool pool(BMRU_BINARY, 1);
  std::map<std::string, std::vector<double>> reply;
  const auto r = pool.run(
      {experiments::make_job({netlist, 1, {}, vectors, "op"})},
      [&](size_t, const std::string& m) { reply = experiments::parse_transient_reply(m); });
  EXPECT_TRUE(r[0].ok) << r[0].error;
  return reply;
}

TEST(Generic180Spice, CornersOrderFastTypicalSlowForBothPolarities) {
  for (const char* type : {"n", "p"}) {
    const std::string dev = std::string("--type ") + type + " --w 1u --l 1u --vds 0.9 --vgs 0.35";
    const double ff = id(dev + " --corner ff"), tt = id(dev + " --corner tt"),
                 ss = id(dev + " --corner ss");
    EXPECT_GT(ff, 2 * tt) << type;
    EXPECT_GT(tt, 2 * ss) << type;
  }
}

TEST(Generic180Spice, TenMillivoltsMoreThresholdLowersSubthresholdCurrentByAFifth) {
  const auto t = pdk::generic180();
  for (const Polarity type : {Polarity::n, Polarity::p}) {
    const double s = type == Polarity::n ? 1.0 : -1.0;
    pdk::Device plain{type, 1e-6, 1e-6, 1, {}};
    pdk::Device shifted = plain;
    shifted.mismatch.dvth_v = 0.010;
    const std::string netlist =
        "offset\n" + t->header({}) + t->device_line("a", "da", "g", "0", "0", plain) + "\n" +
        t->device_line("b", "db", "g", "0", "0", shifted) + "\nVa da 0 " +
        core::format_number(0.9 * s) + "\nVb db 0 " + core::format_number(0.9 * s) + "\nVg g 0 " +
        core::format_number(0.3 * s) + "\n.end\n";
    const auto v = op(netlist, {"va#branch", "vb#branch"});
    const double drop = 1 - v.at("vb#branch").at(0) / v.at("va#branch").at(0);
    EXPECT_GE(drop, 0.20) << (type == Polarity::n ? "n" : "p");
    EXPECT_LE(drop, 0.25) << (type == Polarity::n ? "n" : "p");
  }
}

TEST(Generic180Spice, MirrorMismatchOver200SeedsMatchesPelgrom) {
  // 200 1u/1u NMOS mirror pairs at 1 nA, each drawn from its own seed, plus a pair whose output
  // device has +1 mV and an ideal pair, to measure gm/Id; the ratio spread is compared with
  // sqrt((A_VT gm/Id)^2 + A_beta^2) / sqrt(W L).
  const auto t = pdk::generic180();
  const auto pg = pdk::generic180_pelgrom(Polarity::n);
  const double w = 1e-6, l = 1e-6;
  std::string net = "mismatch\n" + t->header({});
  std::vector<std::string> vectors;
  for (int j = 0; j < 202; ++j) {
    pdk::MismatchSampler draws(static_cast<std::uint64_t>(j) + 1000);
    pdk::Device ref{Polarity::n, w, l, 1, j < 200 ? draws.draw(pg, w, l) : pdk::MismatchDraw{}};
    pdk::Device out{Polarity::n, w, l, 1, j < 200 ? draws.draw(pg, w, l) : pdk::MismatchDraw{}};
    if (j == 200) out.mismatch.dvth_v = 0.001;
    const std::string k = std::to_string(j);
    net += "I" + k + " 0 g" + k + " 1n\n" +
           t->device_line("r" + k, "g" + k, "g" + k, "0", "0", ref) + "\n" +
           t->device_line("o" + k, "d" + k, "g" + k, "0", "0", out) + "\nVs" + k + " d" + k +
           " 0 0.5\n";
    vectors.push_back("vs" + k + "#branch");
  }
  net += ".end\n";
  const auto v = op(net, vectors);
  // The output current flows into the sense source's positive node: its branch current is -I.
  const auto current = [&](size_t j) { return std::abs(v.at(vectors[j]).at(0)); };
  std::vector<double> ratio;
  for (size_t j = 0; j < 200; ++j) ratio.push_back(current(j) / 1e-9);
  const double gm_over_id = -std::log(current(200) / current(201)) / 0.001;
  const double mean = std::accumulate(ratio.begin(), ratio.end(), 0.0) / 200;
  double var = 0;
  for (double r : ratio) var += (r - mean) * (r - mean);
  const double spread = std::sqrt(var / 199) / mean;
  const double predicted = std::hypot(pg.avt_v_m * gm_over_id, pg.abeta_m) / std::sqrt(w * l);
  RecordProperty("spread", std::to_string(spread));
  RecordProperty("pelgrom", std::to_string(predicted));
  EXPECT_NEAR(spread, predicted, 0.2 * predicted) << "gm/Id = " << gm_over_id;
}

std::string shared_pdk_root() {
  return std::string(BMRU_SOURCE_DIR) + "/../shared/pdk";
}

TEST(Gf180Spice, TypicalNfetMatchesThePdkAndFastIsAboveSlow) {
  if (!std::filesystem::exists(shared_pdk_root() + "/gf180mcuD/libs.tech/ngspice/sm141064.ngspice"))
    GTEST_SKIP() << "GF180MCU model files not found at " << shared_pdk_root();
  const std::string env = "PDK_ROOT=" + shared_pdk_root() + " PDK=gf180mcuD";
  const std::string dev = "--pdk gf180mcu --type n --w 1u --l 1u --vds 0.9 --vgs 0.4";
  const double typical = id(dev + " --corner typical", env);
  EXPECT_NEAR(typical, 2.9e-10, 0.1 * 2.9e-10);
  EXPECT_NEAR(id(dev + " --corner tt", env), typical, 1e-18);  // tt is accepted as typical
  EXPECT_GT(id(dev + " --corner ff", env), id(dev + " --corner ss", env));
}

TEST(PdkCli, ListsTechnologiesAndSaysWhereItLooked) {
  const auto out = test::run("PDK_ROOT=/nonexistent/pdks " + std::string(BMRU_BINARY) + " pdk");
  EXPECT_EQ(out.status, 0);
  EXPECT_NE(out.text.find("generic180: built in"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("/nonexistent/pdks/gf180mcuD/libs.tech/ngspice/sm141064.ngspice"),
            std::string::npos);
  const auto bad =
      test::run("PDK_ROOT=/nonexistent/pdks " + std::string(BMRU_BINARY) +
                " characterize device --pdk gf180mcu --w 1u --l 1u --vds 0.9 --vgs 0.4");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.text.find("/nonexistent/pdks"), std::string::npos) << bad.text;
}

}  // namespace
}  // namespace bmru
