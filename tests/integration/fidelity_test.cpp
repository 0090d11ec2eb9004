// End-to-end `bmru fidelity` (generic180 tt 27 C 1.8 V, demo network, real ngspice in workers):
// the run file's layout, and its metrics recomputed from the stored traces with h5py.
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

std::string cache_env() {
  return "XDG_CACHE_HOME=" + (std::filesystem::temp_directory_path() / "bmru-test-cache").string();
}

TEST(Fidelity, ShortRunWritesTheLayoutAndMetricsConsistentWithItsTraces) {
  test::TempDir dir;
  const auto out = test::run(cache_env() + " " + BMRU_BINARY +
                             " fidelity --random-sequences 2 --frames 20 --jobs 2 -o " + (dir / "run.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("failed=0"), std::string::npos) << out.text;
  const auto check = test::python(std::string(BMRU_SOURCE_DIR) + "/tests/integration/h5py_check.py",
                                  "check-fidelity " + (dir / "run.h5").string());
  EXPECT_EQ(check.status, 0) << check.text;
}

TEST(Fidelity, ResyncModeRunsAndBadOptionsAreNamed) {
  test::TempDir dir;
  const auto out = test::run(cache_env() + " " + BMRU_BINARY + " fidelity --random-sequences 1 --frames 8 --mode resync -o " +
                             (dir / "run.h5").string());
  ASSERT_EQ(out.status, 0) << out.text;
  const auto bad = test::run(std::string(BMRU_BINARY) + " fidelity --frame-period 10m --ramp 9.5m -o " +
                             (dir / "bad.h5").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.text.find("--ramp"), std::string::npos) << bad.text;
}

}  // namespace
}  // namespace bmru
