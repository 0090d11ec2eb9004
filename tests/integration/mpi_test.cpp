// Issue 20: sweeps across MPI ranks, on one machine (`mpirun --oversubscribe -np 3`). The result
// equals the local run's (traces bit for bit, the summary but for wall times); a rank killed with
// SIGKILL ends the job, and the same command resumes from the journal without losing a run.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "cli_support.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

namespace fs = std::filesystem;

#define REQUIRE_MPI()                                                                          \
  if (std::string(BMRU_MPIRUN).empty())                                                        \
    GTEST_SKIP() << "this build has no MPI (apt-get install openmpi-bin libopenmpi-dev, then " \
                    "rebuild)";

std::string mpirun(int ranks) {
  return std::string(BMRU_MPIRUN) + " --oversubscribe --allow-run-as-root -np " +
         std::to_string(ranks) + " env " + test::cache_env() + " " + BMRU_BINARY;
}

// Every dataset under /runs and the /summary of two sweep files, compared: traces bit for bit,
// summaries but for wall times (printed by h5py; "same" when equal).
std::string compare(const fs::path& a, const fs::path& b) {
  const std::string script =
      "import sys, h5py, numpy as np\n"
      "a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')\n"
      "sa, sb = a['summary'][...], b['summary'][...]\n"
      "same = lambda x, y: list(x) == list(y) if x.dtype.kind == 'O' else x.tobytes() == "
      "y.tobytes()\n"
      "bad = [n for n in sa.dtype.names if n != 'wall_s' and not same(sa[n], sb[n])]\n"
      "names = []\n"
      "a['runs'].visit(lambda n: names.append(n) if isinstance(a['runs'][n], h5py.Dataset) and "
      "('/hw/' in '/' + n or '/sw/' in '/' + n) else None)\n"
      "bad += [n for n in names if a['runs'][n][...].tobytes() != b['runs'][n][...].tobytes()]\n"
      "print('same' if not bad and names else 'differ: %s (%d traces)' % (bad[:5], len(names)))\n";
  test::TempDir dir;
  std::ofstream(dir / "compare.py") << script;
  return test::python((dir / "compare.py").string(), a.string() + " " + b.string()).text;
}

TEST(Mpi, ASweepOnThreeRanksEqualsTheLocalOne) {
  REQUIRE_MPI();
  test::TempDir dir;
  const std::string sweep = " sweep --mc 3 --random-sequences 1 --frames 12 --jobs 1 --waveforms 0";
  auto r = test::run(mpirun(3) + sweep + " -o " + (dir / "mpi.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("3 runs (3 ran now"), std::string::npos) << r.text;
  // One summary only: the other ranks print nothing.
  EXPECT_EQ(r.text.find("wrote"), r.text.rfind("wrote")) << r.text;
  EXPECT_FALSE(fs::exists(dir / "mpi.h5.staging"));
  r = test::run(test::cache_env() + " " + BMRU_BINARY + sweep + " -o " +
                (dir / "local.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_EQ(compare(dir / "mpi.h5", dir / "local.h5"), "same\n");
}

TEST(Mpi, AnEvaluationOnThreeRanksSaysWhatTheLocalOneSays) {
  REQUIRE_MPI();
  REQUIRE_FSDD();
  test::TempDir dir;
  const std::string data = (dir / "kw.h5").string();
  auto r = test::bmru("dataset fsdd --keyword 0 --speakers george --takes 0 --root " +
                      test::kFsdd.string() + " -o " + data);
  ASSERT_EQ(r.status, 0) << r.text;
  const std::string evaluate =
      " evaluate --data " + data + " --limit 3 --chunk 1 --engines sw,hw --jobs 1 --waveforms 0";
  r = test::run(mpirun(3) + evaluate + " -o " + (dir / "mpi.h5").string());
  ASSERT_EQ(r.status, 0) << r.text;
  const auto local = test::run(test::cache_env() + " " + BMRU_BINARY + evaluate + " -o " +
                               (dir / "local.h5").string());
  ASSERT_EQ(local.status, 0) << local.text;
  const auto last = [](const std::string& t) { return t.substr(t.rfind("sw_accuracy=")); };
  EXPECT_EQ(last(r.text), last(local.text));
  EXPECT_NE(r.text.find("3 clips (3 ran now"), std::string::npos) << r.text;
  // Rank 0 alone reports: one key=value line.
  EXPECT_EQ(r.text.find("sw_accuracy="), r.text.rfind("sw_accuracy=")) << r.text;
}

// The pid of the process of `rank` in an Open MPI job of `command` (from its environment).
int rank_pid(const std::string& marker, int rank) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmd(e.path() / "cmdline");
    std::string c((std::istreambuf_iterator<char>(cmd)), {});
    if (c.find(marker) == std::string::npos || c.find("sweep") == std::string::npos) continue;
    std::ifstream env(e.path() / "environ");
    std::string v((std::istreambuf_iterator<char>(env)), {});
    if (v.find("OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + '\0') != std::string::npos &&
        c.rfind("env", 0) != 0)
      return std::stoi(name);
  }
  return -1;
}

TEST(Mpi, ARankKilledEndsTheJobAndTheSameCommandResumes) {
  REQUIRE_MPI();
  test::TempDir dir;
  const fs::path out = dir / "killed.h5";
  const std::string command =
      mpirun(3) + " sweep --mc 6 --random-sequences 1 --frames 30 --jobs 1 --waveforms 0 -o " +
      out.string();
  // In the background; rank 1 is killed once the journal holds a finished run.
  const fs::path log = dir / "first.log";
  ASSERT_EQ(std::system((command + " > " + log.string() + " 2>&1 &").c_str()), 0);
  const fs::path journal = out.string() + ".runs";
  int rows = 0, victim = -1;
  for (int i = 0; i < 1200 && rows == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rows = 0;
    if (fs::exists(journal))
      for (const auto& e : fs::directory_iterator(journal))
        rows += e.path().extension() == ".json" && e.path().filename() != "sweep.json";
  }
  ASSERT_GT(rows, 0) << "no run finished";
  victim = rank_pid(out.string(), 1);
  ASSERT_GT(victim, 0);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  // Open MPI ends the job.
  for (int i = 0; i < 600 && rank_pid(out.string(), 0) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LT(rank_pid(out.string(), 0), 0) << "rank 0 still runs after rank 1 was killed";
  int kept = 0;
  for (const auto& e : fs::directory_iterator(journal))
    kept += e.path().extension() == ".json" && e.path().filename() != "sweep.json";
  EXPECT_GE(kept, rows);
  // The same command finishes the rest and skips what the journal holds.
  const auto r = test::run(command);
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("6 runs (" + std::to_string(6 - kept) + " ran now, " +
                        std::to_string(kept) + " from the journal"),
            std::string::npos)
      << r.text;
}

}  // namespace
}  // namespace bmru
