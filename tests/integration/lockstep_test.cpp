// The lockstep driver through the library (run_fidelity), not the command line: the engines that
// follow the circuit, resync as a policy, and the sinks that compare them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cli_support.hpp"
#include "experiments/fidelity.hpp"

namespace bmru::experiments {
namespace {

FidelityOptions small(const std::string& name) {
  setenv("XDG_CACHE_HOME", test::cache_dir().c_str(), 1);  // the workers inherit it
  FidelityOptions o;
  o.random_sequences = 1;
  o.frames = 30;
  o.jobs = 2;
  o.waveform_points = 0;
  o.binary = BMRU_BINARY;
  const auto dir = std::filesystem::temp_directory_path() / "bmru-lockstep-test";
  std::filesystem::create_directories(dir);
  o.out = dir / name;
  std::filesystem::remove(o.out);
  return o;
}

// Under resync every follower (sw and ct) restarts each frame from the circuit's sampled states,
// as the discrete levels they stand for; ct then agrees with the circuit as closely as sw does.
TEST(Lockstep, ResyncHandsTheCircuitsStatesToBothFollowers) {
  FidelityOptions o = small("resync.h5");
  o.ct = true;
  o.mode = Mode::resync;
  const FidelityResult r = run_fidelity(o, {}, {});
  ASSERT_TRUE(r.failed.empty());
  ASSERT_TRUE(r.hw_vs_ct && r.ct_vs_sw);
  EXPECT_GE(r.metrics.state_agreement, 0.97);
  EXPECT_GE(r.hw_vs_ct->state_agreement, 0.97);
  EXPECT_GE(r.ct_vs_sw->state_agreement, 0.97);
}

// A models-only run: ct leads, sw follows; resyncing sw to ct can only help their agreement.
TEST(Lockstep, ModelsOnlyResyncFollowsTheContinuousModel) {
  FidelityOptions o = small("free.h5");
  o.hw = false;
  o.ct = true;
  o.random_sequences = 2;
  o.frames = 60;
  o.axis.period_s = 1e-3;  // short frames: ct lags the discrete model, so they disagree free
  o.axis.ramp_s = 1e-5;
  const FidelityResult free = run_fidelity(o, {}, {});
  o.mode = Mode::resync;
  o.out.replace_filename("resync-models.h5");
  const FidelityResult resync = run_fidelity(o, {}, {});
  EXPECT_GT(resync.metrics.state_agreement, free.metrics.state_agreement);
  EXPECT_GE(resync.metrics.state_agreement, 0.90) << "free: " << free.metrics.state_agreement;
  EXPECT_EQ(resync.metrics.decision_agreement, 1.0);
}

}  // namespace
}  // namespace bmru::experiments
