// The lockstep driver through the library (run_fidelity), not the command line: the engines that
// follow the circuit, resync as a policy, and the sinks that compare them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cli_support.hpp"
#include "core/array_file.hpp"
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

// A models-only run (sw and ct, no SPICE) of `sequences` x `frames`.
FidelityOptions models_only(const std::string& name, core::Index sequences, core::Index frames) {
  FidelityOptions o = small(name);
  o.hw = false;
  o.ct = true;
  o.random_sequences = sequences;
  o.frames = frames;
  return o;
}

// A models-only run: ct leads, sw follows; resyncing sw to ct can only help their agreement.
TEST(Lockstep, ModelsOnlyResyncFollowsTheContinuousModel) {
  FidelityOptions o = models_only("free.h5", 2, 60);
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

// Over the sequences both files hold (the leading dimension).
double max_difference(const std::filesystem::path& a, const std::filesystem::path& b,
                      const std::string& dataset) {
  const auto x = core::read_array(a, dataset), y = core::read_array(b, dataset);
  const auto n = std::min(x.data.size(), y.data.size());
  double d = 0;
  for (size_t i = 0; i < n; ++i) d = std::max(d, std::abs(x.data[i] - y.data[i]));
  return d;
}

// Issue 22: a models-only run integrates its sequences as lanes of one ct engine (on builds with
// wide vectors; else one at a time), and under --mismatch-seed ct runs the generated netlist's own
// die: the same seed gives the same run, the die changes the currents, and with the circuit beside
// it ct follows the mismatched circuit.
TEST(Lockstep, CtRunsTheSequencesAsLanesAndTheNetlistsDie) {
  FidelityOptions o = models_only("lanes.h5", 3, 30);
  o.mismatch_seed = 2;
  run_fidelity(o, {}, {});
  const auto lanes = o.out;
  o.out.replace_filename("lanes-again.h5");
  run_fidelity(o, {}, {});
  EXPECT_EQ(max_difference(lanes, o.out, "ct/layer2/candidate"), 0.0);
  o.random_sequences = 1;  // the first sequence alone: the same frames as in its lane
  o.out.replace_filename("alone.h5");
  run_fidelity(o, {}, {});
  EXPECT_LT(max_difference(lanes, o.out, "ct/logits"), 1e-3);
  o.random_sequences = 3;
  o.mismatch_seed.reset();
  o.out.replace_filename("nominal.h5");
  run_fidelity(o, {}, {});
  EXPECT_GT(max_difference(lanes, o.out, "ct/layer2/candidate"), 1e-3);
  // With the circuit: ct on the die against the mismatched circuit.
  FidelityOptions h = small("die-hw.h5");
  h.ct = true;
  h.mismatch_seed = 2;
  const FidelityResult r = run_fidelity(h, {}, {});
  ASSERT_TRUE(r.hw_vs_ct);
  EXPECT_GE(r.hw_vs_ct->state_agreement, 0.97);
}

}  // namespace
}  // namespace bmru::experiments
