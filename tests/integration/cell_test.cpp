// The 9-transistor cell in real ngspice (generic180 tt 27 C 1.8 V): calibrated switch points and
// on-level over 100 pA - 5 nA, and the calibration cache.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "cli_support.hpp"
#include "core/units.hpp"
#include "h5_reader.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

struct Loop {
  double up = 0, down = 0, on = 0, off = 0;
};

Loop parse(const std::string& text) {
  Loop l;
  const auto value = [&](const std::string& key) {
    const auto at = text.find(key + "=");
    EXPECT_NE(at, std::string::npos) << text;
    if (at == std::string::npos) return 0.0;
    const auto start = at + key.size() + 1;
    return core::parse_quantity(text.substr(start, text.find_first_of(" \n", start) - start));
  };
  l.up = value("switch_up");
  l.down = value("switch_down");
  l.on = value("on_level");
  l.off = value("off_floor");
  return l;
}

// A cache folder shared by the tests of this file (each builds it at most once per CTest run).
using test::cache_env;

TEST(Cell, CalibratedSwitchPointsAndOnLevelHitTheirTargetsFrom100pATo5nA) {
  struct Target {
    double lo, hi, alpha;
  };
  for (const Target t : {Target{92e-12, 100e-12, 100e-12}, Target{150e-12, 350e-12, 500e-12},
                         Target{700e-12, 1e-9, 5e-9}, Target{1.2e-9, 2.5e-9, 2e-9},
                         Target{4.8e-9, 5e-9, 150e-12}, Target{1e-9, 5e-9, 1e-9}}) {
    using core::format_number;
    const auto out = test::run(cache_env() + " " + BMRU_BINARY + " characterize cell --beta-lo " +
                               format_number(t.lo) + " --beta-hi " + format_number(t.hi) +
                               " --alpha " + format_number(t.alpha));
    ASSERT_EQ(out.status, 0) << out.text;
    const Loop l = parse(out.text);
    SCOPED_TRACE(out.text);
    EXPECT_NEAR(l.up, t.hi, std::max(0.03 * t.hi, 5e-12));
    EXPECT_NEAR(l.down, t.lo, std::max(0.03 * t.lo, 5e-12));
    EXPECT_NEAR(l.on, t.alpha, 0.02 * t.alpha);
    EXPECT_LT(l.off, 0.01 * t.alpha);
  }
}

TEST(Cell, RawBiasesShowTheUncalibratedCell) {
  test::TempDir dir;
  const auto out = test::run(std::string(BMRU_BINARY) +
                             " characterize cell --ithresh 350p --iwidth 200p --igain 500p -o " +
                             (dir / "loop.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  const Loop l = parse(out.text);
  // The loop file holds both sweeps; the on-level is the up sweep's last output.
  std::vector<hsize_t> dims;
  const auto up = test::read_dataset(dir / "loop.h5", "/up/output", &dims);
  ASSERT_EQ(dims.size(), 1u);
  EXPECT_GT(dims[0], 1000u);
  EXPECT_DOUBLE_EQ(up.back(), l.on);
  EXPECT_EQ(test::read_dataset(dir / "loop.h5", "/down/candidate").size(), dims[0]);
  // It switches up below I_thresh, down below I_thresh - I_width, and is on near I_gain.
  EXPECT_GT(l.up, l.down + 100e-12);
  EXPECT_NEAR(l.up, 350e-12, 0.15 * 350e-12);
  EXPECT_NEAR(l.on, 500e-12, 0.05 * 500e-12);
}

TEST(Cell, CorruptCacheIsRebuiltNotTrusted) {
  test::TempDir dir;
  const std::string env = "XDG_CACHE_HOME=" + dir.path().string();
  const std::string cmd =
      std::string(BMRU_BINARY) + " characterize cell --beta-lo 150p --beta-hi 350p --alpha 500p";
  const auto first = test::run(env + " " + cmd);
  ASSERT_EQ(first.status, 0) << first.text;
  EXPECT_NE(first.text.find("calibration: built in"), std::string::npos) << first.text;
  const auto second = test::run(env + " " + cmd);
  EXPECT_NE(second.text.find("calibration: from cache"), std::string::npos) << second.text;
  EXPECT_EQ(parse(second.text).up, parse(first.text).up);
  for (const auto& f : std::filesystem::directory_iterator(dir.path() / "bmru-cosim"))
    std::ofstream(f.path()) << "{\"key\": garbage";
  const auto third = test::run(env + " " + cmd);
  ASSERT_EQ(third.status, 0) << third.text;
  EXPECT_NE(third.text.find("unreadable"), std::string::npos) << third.text;
  EXPECT_NE(third.text.find("calibration: built in"), std::string::npos) << third.text;
  EXPECT_EQ(parse(third.text).up, parse(first.text).up);
}

TEST(Cell, TargetsOutsideTheRangeAreRejectedNamingTheParameter) {
  const auto out = test::run(cache_env() + " " + BMRU_BINARY +
                             " characterize cell --beta-lo 1n --beta-hi 20n --alpha 1n");
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.text.find("beta_hi"), std::string::npos) << out.text;
}

}  // namespace
}  // namespace bmru
