// The worker pool with real worker processes of the built binary and real ngspice: bad netlists of
// every kind fail alone, with ngspice's words, and the next job succeeds.
#include "spice/pool.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "experiments/worker_jobs.hpp"
#include "test_support.hpp"

namespace bmru::spice {
namespace {

using experiments::make_job;
using experiments::parse_transient_reply;
using experiments::TransientRequest;

const Transient kTran{1e-5, 1e-3, 1e-5};

Job rc_job(double volts) {
  return make_job(
      {"rc\nV1 in 0 dc " + std::to_string(volts) + "\nR1 in out 1k\nC1 out 0 10n\n.end\n",
       1,
       kTran,
       {"out"},
       ""});
}

struct Results {
  std::vector<JobOutcome> outcomes;
  std::vector<std::map<std::string, std::vector<double>>> replies;
};

Results run(WorkerPool& pool, const std::vector<Job>& jobs) {
  Results r;
  r.replies.resize(jobs.size());
  r.outcomes = pool.run(
      jobs, [&](size_t j, const std::string& m) { r.replies[j] = parse_transient_reply(m); });
  return r;
}

TEST(WorkerPool, RunsJobsInParallelAndReturnsTheirMessages) {
  WorkerPool pool(BMRU_BINARY, 2);
  std::vector<Job> jobs;
  for (int i = 0; i < 6; ++i) jobs.push_back(rc_job(0.1 * (i + 1)));
  const Results r = run(pool, jobs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(r.outcomes[i].ok) << r.outcomes[i].error;
    EXPECT_NEAR(r.replies[i].at("out").back(), 0.1 * static_cast<double>(i + 1), 1e-6);
    EXPECT_NEAR(r.replies[i].at("time").back(), 1e-3, 1e-12);
  }
}

struct BadCase {
  const char* name;
  std::string netlist;
  std::vector<std::string> words;  // the error must contain each (case-sensitive)
  double timeout_s = 60;
  Transient tran = kTran;
};

// Test names show the case's name, not its bytes.
void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

class BadNetlist : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadNetlist, FailsAloneWithAClearErrorAndTheNextJobSucceeds) {
  const BadCase& c = GetParam();
  WorkerPool pool(BMRU_BINARY, 1);  // one worker: the good job needs a working (or new) worker
  Job bad = make_job({c.netlist, 1, c.tran, {"out"}, ""});
  bad.timeout_s = c.timeout_s;
  const Results r = run(pool, {rc_job(0.5), bad, rc_job(0.7)});
  ASSERT_TRUE(r.outcomes[0].ok) << r.outcomes[0].error;
  EXPECT_FALSE(r.outcomes[1].ok);
  std::cout << c.name << " -> " << r.outcomes[1].error << "\n";
  for (const auto& w : c.words)
    EXPECT_NE(r.outcomes[1].error.find(w), std::string::npos) << r.outcomes[1].error;
  ASSERT_TRUE(r.outcomes[2].ok) << r.outcomes[2].error;
  EXPECT_NEAR(r.replies[2].at("out").back(), 0.7, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadNetlist,
    ::testing::Values(
        BadCase{"malformed",
                "bad\nV1 in 0 dc 1\nR1 in out 1k\nX1 out 0 nosuchsubckt\n.end\n",
                {"nosuchsubckt"}},
        BadCase{"no_end", "bad\nV1 in 0 dc 1\nR1 in out 1k\nC1 out 0 1n\n", {".end"}},
        BadCase{"unknown_model",
                "bad\nV1 in 0 dc 1\nR1 in out 1k\nM1 out in 0 0 nosuchmodel w=1u l=1u\n.end\n",
                {"nosuchmodel"}},
        BadCase{"floating_node",
                "bad\nV1 in 0 dc 1\nR1 in out 1k\nC1 out 0 1n\nC2 float out 1n\nR2 float float2 "
                "1k\n.end\n",
                {"float"}},
        BadCase{
            "non_converging",
            "bad\nV1 in 0 pulse(0 5 0 1n 1n 1u 2u)\nD1 in out dbad\nD2 out 0 dbad\nR1 out 0 1e9\n"
            ".model dbad d is=1e-30 n=0.001\n.end\n",
            {"Timestep too small"}},
        BadCase{
            "controlled_exit",
            "bad\n.param p={undefinedparam*2}\nV1 in 0 dc {p}\nR1 in out 1k\nC1 out 0 1n\n.end\n",
            {"undefinedparam"}},
        BadCase{
            "crash", "bad\nV1 in 0 dc 0 external\nR1 in out 1k\nC1 out 0 1n\n.end\n", {"signal"}},
        BadCase{"hang",
                "slow\nV1 in 0 sin(0 1 1e3)\nR1 in out 1k\nC1 out 0 1p\n.end\n",
                {"timed out"},
                1.0,
                Transient{1e-12, 1.0, 1e-12}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(WorkerPool, HostileSpiceinitInTheWorkingFolderAndHomeChangesNothing) {
  const auto clean = [] {
    WorkerPool pool(BMRU_BINARY, 1);
    return run(pool, {rc_job(0.4)});
  }();
  ASSERT_TRUE(clean.outcomes[0].ok) << clean.outcomes[0].error;

  // ngspice would read ./.spiceinit or ~/.spiceinit at init; these would break every transient.
  test::TempDir dir;
  std::ofstream(dir / ".spiceinit") << "set num_threads=4\nalias tran quit\noption reltol=0.5\n";
  const auto old_cwd = std::filesystem::current_path();
  const char* old_home = std::getenv("HOME");
  const std::string saved_home = old_home ? old_home : "";
  std::filesystem::current_path(dir.path());
  setenv("HOME", dir.path().c_str(), 1);
  Results hostile;
  {
    WorkerPool pool(BMRU_BINARY, 1);
    hostile = run(pool, {rc_job(0.4)});
  }
  std::filesystem::current_path(old_cwd);
  setenv("HOME", saved_home.c_str(), 1);
  ASSERT_TRUE(hostile.outcomes[0].ok) << hostile.outcomes[0].error;
  EXPECT_EQ(hostile.replies[0].at("out"), clean.replies[0].at("out"));
  EXPECT_EQ(hostile.replies[0].at("time"), clean.replies[0].at("time"));
}

// The workers of this process (children running the bmru binary).
std::vector<pid_t> worker_pids() {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid()) out.push_back(std::stoi(name));
  }
  return out;
}

// Runs `job` on a fresh one-worker pool and SIGKILLs that worker about 0.1 s in.
Results run_and_kill_once(const Job& job, bool& killed) {
  WorkerPool pool(BMRU_BINARY, 1);
  std::atomic<bool> done{false};
  killed = false;
  std::thread killer([&] {
    for (int i = 0; i < 300 && !done && !killed; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const auto pids = worker_pids();
      if (!pids.empty() && i >= 5) {
        ::kill(pids.front(), SIGKILL);
        killed = true;
      }
    }
  });
  Results r = run(pool, {job});
  done = true;
  killer.join();
  return r;
}

// Issue 15: a worker killed mid-job costs a rerun on a fresh worker, not the job.
TEST(WorkerPool, AJobWhoseWorkerIsKilledRunsOnceMoreOnAFreshWorker) {
  Job slow = make_job({"rc\nV1 in 0 dc 0.6\nR1 in out 1k\nC1 out 0 10n\n.end\n",
                       1,
                       Transient{1e-8, 4e-3, 1e-8},
                       {"out"},
                       ""});
  slow.retries_on_worker_death = 1;
  bool killed = false;
  const Results r = run_and_kill_once(slow, killed);
  ASSERT_TRUE(killed) << "no worker was found to kill";
  if (r.outcomes[0].attempts == 1) GTEST_SKIP() << "the job finished before its worker was killed";
  ASSERT_TRUE(r.outcomes[0].ok) << r.outcomes[0].error;
  EXPECT_EQ(r.outcomes[0].attempts, 2);
  EXPECT_NE(r.outcomes[0].retried_after.find("signal"), std::string::npos)
      << r.outcomes[0].retried_after;
  EXPECT_NEAR(r.replies[0].at("out").back(), 0.6, 1e-6);
  // Without a retry the same loss fails the job, naming its cause.
  slow.retries_on_worker_death = 0;
  const Results lost = run_and_kill_once(slow, killed);
  ASSERT_TRUE(killed);
  EXPECT_FALSE(lost.outcomes[0].ok);
  EXPECT_EQ(lost.outcomes[0].attempts, 1);
  EXPECT_NE(lost.outcomes[0].error.find("died"), std::string::npos) << lost.outcomes[0].error;
}

TEST(WorkerPool, UnknownJobKindFailsAlone) {
  WorkerPool pool(BMRU_BINARY, 1);
  const auto r =
      pool.run({Job{"no.such.kind", "", 10}, rc_job(0.3)}, [](size_t, const std::string&) {});
  EXPECT_FALSE(r[0].ok);
  EXPECT_NE(r[0].error.find("no.such.kind"), std::string::npos);
  EXPECT_TRUE(r[1].ok) << r[1].error;
}

}  // namespace
}  // namespace bmru::spice
