// Issue 16: `cmake --install` gives a package another CMake project finds with
// find_package(bmru-cosim) and links (bmru::models here), using only installed files.
#include <gtest/gtest.h>

#include <cstdio>

#include "cli_support.hpp"
#include "core/stimuli.hpp"
#include "models/demo_network.hpp"
#include "models/reference_engine.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

TEST(Install, ADownstreamProjectFindsAndLinksTheInstalledPackage) {
  test::TempDir dir;
  const std::string prefix = (dir / "prefix").string();
  auto r = test::run("cmake --install " + std::string(BMRU_BUILD_DIR) + " --prefix " + prefix);
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_TRUE(std::filesystem::exists(dir / "prefix" / "lib" / "cmake" / "bmru-cosim" /
                                      "bmru-cosim-config.cmake"));
  EXPECT_TRUE(
      std::filesystem::exists(dir / "prefix" / "include" / "models" / "reference_engine.hpp"));
  EXPECT_TRUE(std::filesystem::exists(dir / "prefix" / "bin" / "bmru"));
  const std::string consumer = std::string(BMRU_SOURCE_DIR) + "/tests/consumer";
  r = test::run("cmake -S " + consumer + " -B " + (dir / "build").string() +
                " -DCMAKE_PREFIX_PATH=" + prefix + " -DCMAKE_BUILD_TYPE=Release && cmake --build " +
                (dir / "build").string());
  ASSERT_EQ(r.status, 0) << r.text;
  r = test::run((dir / "build" / "consumer").string());
  ASSERT_EQ(r.status, 0) << r.text;
  // The same numbers as this build's own libraries give.
  const core::Network net = models::demo_network();
  auto inputs = core::random_stimuli({1, 20, net.n_in(), 1});
  const auto frames = models::run_sequence(net, inputs->read_sequence(0, 0, 20));
  char expected[96];
  std::snprintf(expected, sizeof expected, "consumer: d=4 frames=20 logit0=%.6g",
                frames.back().logits(0, 0));
  EXPECT_NE(r.text.find(expected), std::string::npos) << r.text << " (expected " << expected << ")";
}

}  // namespace
}  // namespace bmru
