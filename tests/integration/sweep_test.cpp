// End-to-end `bmru sweep` (generic180, real ngspice in workers): every run recorded, failures
// recorded without stopping the sweep, a SIGKILL mid-way resumed without redoing finished runs,
// a journal of other options refused, Monte Carlo samples seeded as documented.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cli_support.hpp"
#include "experiments/sweep.hpp"
#include "h5_reader.hpp"
#include "test_support.hpp"

extern char** environ;

namespace bmru {
namespace {

using test::cache_env;

// Starts `bmru args...` in its own process group (so the group, workers included, can be killed).
pid_t spawn_group(const std::vector<std::string>& args) {
  std::vector<std::string> all{BMRU_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
  std::string cache = cache_env();
  std::vector<char*> env;
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("XDG_CACHE_HOME=", 0) != 0) env.push_back(*e);
  env.push_back(cache.data());
  env.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, BMRU_BINARY, &files, &attr, argv.data(), env.data()), 0);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  return pid;
}

TEST(Sweep, SurvivesSigkillResumesAndRecordsFailedRuns) {
  test::TempDir dir;
  const std::string out = (dir / "sweep.h5").string();
  // tt and ff at 27 C and at 2000 C: the 2000 C runs fail in ngspice (no operating point), the
  // others run; four runs of 2 sequences x 8 frames.
  const std::vector<std::string> args{
      "sweep", "--random-sequences", "2",     "--frames", "8",       "--jobs",
      "2",     "--corners",          "tt,ff", "--temps",  "27,2000", "-o",
      out};
  const pid_t pid = spawn_group(args);
  const auto first = std::filesystem::path(out + ".runs") / "tt_27C_1.8V.json";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(first) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(std::filesystem::exists(first)) << "the first run never finished";
  kill(-pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
  EXPECT_FALSE(std::filesystem::exists(out));

  std::string cmd;
  for (const auto& a : args) cmd += " " + a;
  const auto resumed = test::run(cache_env() + " " + BMRU_BINARY + cmd);
  ASSERT_EQ(resumed.status, 3) << resumed.text;  // finished, file written, with failed runs
  // The finished run came from the journal; the run killed mid-way was redone.
  EXPECT_NE(resumed.text.find("4 runs ("), std::string::npos) << resumed.text;
  EXPECT_EQ(resumed.text.find("0 from the journal"), std::string::npos) << resumed.text;
  EXPECT_NE(resumed.text.find(", 2 failed"), std::string::npos) << resumed.text;
  EXPECT_NE(resumed.text.find("tt_2000C_1.8V"), std::string::npos) << resumed.text;
  // Issue 15: to a log (not a terminal), a line per finished run.
  EXPECT_NE(resumed.text.find("sweep: run 1/3 "), std::string::npos) << resumed.text;
  EXPECT_NE(resumed.text.find("sweep: run 3/3 "), std::string::npos) << resumed.text;
  const auto check = test::python(std::string(BMRU_SOURCE_DIR) + "/tests/integration/h5py_check.py",
                                  "check-sweep " + out);
  EXPECT_EQ(check.status, 0) << check.text;
  EXPECT_NE(check.text.find("4 rows"), std::string::npos) << check.text;

  // The same parameters reproduce a run exactly: a plain fidelity run at tt 27 C.
  const auto single = test::run(cache_env() + " " + BMRU_BINARY +
                                " fidelity --random-sequences 2 --frames 8 --jobs 2 -o " +
                                (dir / "one.h5").string());
  ASSERT_EQ(single.status, 0) << single.text;
  EXPECT_EQ(test::read_dataset(dir / "one.h5", "/hw/layer2/candidate"),
            test::read_dataset(out, "/runs/tt_27C_1.8V/hw/layer2/candidate"));

  // Everything done: a second resume runs nothing.
  const auto again = test::run(cache_env() + " " + BMRU_BINARY + cmd);
  ASSERT_EQ(again.status, 3) << again.text;
  EXPECT_NE(again.text.find("(0 ran now, 4 from the journal"), std::string::npos) << again.text;

  // A journal made with other options is refused, naming the option.
  const auto other = test::run(cache_env() + " " + BMRU_BINARY + cmd + " --frame-period 5m");
  EXPECT_EQ(other.status, 1) << other.text;
  EXPECT_NE(other.text.find("frame_period"), std::string::npos) << other.text;
}

TEST(Sweep, MonteCarloSamplesUseConsecutiveSeeds) {
  test::TempDir dir;
  const std::string out = (dir / "mc.h5").string();
  // With the ct engine too: its agreements ride in the summary.
  const auto r = test::run(
      cache_env() + " " + BMRU_BINARY +
      " sweep --random-sequences 1 --frames 4 --jobs 2 --mc 2 --mc-seed 7 --engines sw,ct,hw -o " +
      out);
  ASSERT_EQ(r.status, 0) << r.text;
  const auto a = test::read_dataset(out, "/runs/tt_27C_1.8V_mm7/hw/layer1/candidate");
  const auto b = test::read_dataset(out, "/runs/tt_27C_1.8V_mm8/hw/layer1/candidate");
  ASSERT_EQ(a.size(), b.size());
  EXPECT_NE(a, b);  // different mismatch draws give different currents
  const auto check = test::python(std::string(BMRU_SOURCE_DIR) + "/tests/integration/h5py_check.py",
                                  "check-sweep " + out);
  EXPECT_EQ(check.status, 0) << check.text;
  // The report of a sweep file: metrics against corner, and the figures of its worst run.
  const auto report =
      test::run(std::string(BMRU_BINARY) + " report " + out + " -o " + (dir / "fig").string());
  ASSERT_EQ(report.status, 0) << report.text;
  for (const char* name : {"sweep.png", "sequence0_cells.png", "agreement.png"})
    EXPECT_EQ(test::png_size(dir / "fig" / name), std::make_pair(1200, 800)) << name;
  // The same seed again (a fidelity run with --mismatch-seed 8) reproduces sample 1 exactly.
  const auto single = test::run(cache_env() + " " + BMRU_BINARY +
                                " fidelity --random-sequences 1 --frames 4 --mismatch-seed 8 -o " +
                                (dir / "one.h5").string());
  ASSERT_EQ(single.status, 0) << single.text;
  EXPECT_EQ(test::read_dataset(dir / "one.h5", "/hw/layer1/candidate"), b);
}

TEST(Sweep, PointsAndIdsFollowTheGrid) {
  experiments::SweepOptions o;
  o.corners = {"tt", "ss"};
  o.temps_c = {-40, 85};
  o.vdds_v = {1.62};
  o.mc = 2;
  o.mc_seed = 10;
  const auto p = experiments::sweep_points(o);
  ASSERT_EQ(p.size(), 8u);
  EXPECT_EQ(p[0].id, "tt_m40C_1.62V_mm10");
  EXPECT_EQ(p[1].id, "tt_m40C_1.62V_mm11");
  EXPECT_EQ(p[1].mc_sample, 1);
  EXPECT_EQ(*p[1].mismatch_seed, 11u);
  EXPECT_EQ(p[7].id, "ss_85C_1.62V_mm11");
  o.vdds_v = {1.8, 1.8};
  EXPECT_THROW(experiments::sweep_points(o), InputError);
  o.vdds_v = {0};
  EXPECT_THROW(experiments::sweep_points(o), InputError);
}

}  // namespace
}  // namespace bmru
