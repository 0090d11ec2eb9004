// Issue 15: nothing lost, nothing failed reported as success. A full disk never replaces a good
// file (writes fail under RLIMIT_FSIZE with SIGXFSZ ignored, as on a full disk, without root);
// two processes never share an output or a sweep journal; failed sequences are reported.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "cli_support.hpp"
#include "h5_reader.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

using test::cache_env;

std::string bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `args` with file writes limited to `kib` KiB; the exit status and the output.
test::Output limited(int kib, const std::string& args) {
  return test::run("bash -c \"trap '' XFSZ; ulimit -f " + std::to_string(kib) + "; exec env " +
                   cache_env() + " " + BMRU_BINARY + " " + args + "\"");
}

void expect_disk_full_keeps(const test::Output& out, const std::filesystem::path& file,
                            const std::string& before) {
  EXPECT_EQ(out.status, 1) << out.text;  // never 139 (a crash inside HDF5), never 0
  EXPECT_NE(out.text.find("disk full"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("wrote "), std::string::npos) << out.text;
  EXPECT_EQ(bytes(file), before) << "the earlier " << file << " changed";
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".lock"));
}

TEST(Reliability, AFullDiskNeverReplacesAGoodFile) {
  test::TempDir dir;
  const auto sim = dir / "sim.h5";
  ASSERT_EQ(test::bmru("simulate --frames 50 -o " + sim.string()).status, 0);
  const std::string sim_before = bytes(sim);
  // While streaming (the first block does not fit) and at the close (only the end does not).
  expect_disk_full_keeps(limited(100, "simulate --frames 5000 -o " + sim.string()), sim,
                         sim_before);
  expect_disk_full_keeps(limited(300, "simulate --frames 200 -o " + sim.string()), sim, sim_before);

  const auto fid = dir / "fid.h5";
  const std::string run = " --random-sequences 2 --frames 6 --jobs 2 -o ";
  ASSERT_EQ(test::run(cache_env() + " " + BMRU_BINARY + " fidelity" + run + fid.string()).status,
            0);
  const std::string fid_before = bytes(fid);
  expect_disk_full_keeps(limited(60, "fidelity" + run + fid.string()), fid, fid_before);

  // A sweep whose runs are all in the journal only rebuilds its file: that write fails.
  const auto sw = dir / "sw.h5";
  const std::string sweep = "sweep --temps 27,40 --random-sequences 2 --frames 4 --jobs 2 -o ";
  const auto first = test::run(cache_env() + " " + BMRU_BINARY + " " + sweep + sw.string());
  ASSERT_EQ(first.status, 0) << first.text;
  const std::string sw_before = bytes(sw);
  expect_disk_full_keeps(limited(100, sweep + sw.string()), sw, sw_before);
}

TEST(Reliability, ASecondWriterOfOneJournalOrOutputIsRefusedNamingTheFirst) {
  test::TempDir dir;
  const std::string sweep =
      std::string(BMRU_BINARY) +
      " sweep --temps 27,40,60 --random-sequences 2 --frames 12 --jobs 2 -o " +
      (dir / "s.h5").string();
  const std::string fid = std::string(BMRU_BINARY) +
                          " fidelity --random-sequences 2 --frames 12 -o " +
                          (dir / "f.h5").string();
  for (const std::string& cmd : {sweep, fid}) {
    const auto a = dir / "a.txt", b = dir / "b.txt";
    const auto out =
        test::run("export " + cache_env() + "; (" + cmd + " > " + a.string() +
                  " 2>&1; echo rc=$? >> " + a.string() + ") & sleep 0.5; " + cmd + " > " +
                  b.string() + " 2>&1; echo rc=$? >> " + b.string() + "; wait");
    // The one that takes the lock first runs; under load the one started 0.5 s later can win.
    std::string first = bytes(a), second = bytes(b);
    if (first.find("rc=1") != std::string::npos && second.find("rc=0") != std::string::npos)
      std::swap(first, second);
    EXPECT_NE(first.find("rc=0"), std::string::npos) << first;
    EXPECT_NE(second.find("rc=1"), std::string::npos) << second;
    EXPECT_NE(second.find("in use by another bmru process (pid "), std::string::npos) << second;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "f.h5.lock"));
}

// Repro of the issue: a netlist whose transient fails part-way (here a diode driven to 1 MV at
// 45 ms) was reported with rc 0 and decision_agreement=1, its missing frames stored as 0.
TEST(Reliability, FailedSequencesAreReportedWithTheirFramesAndExitCodeThree) {
  test::TempDir dir;
  const auto gen =
      test::run(cache_env() + " " + BMRU_BINARY + " netlist -o " + (dir / "gen.cir").string() +
                " --ports " + (dir / "ports.json").string());
  ASSERT_EQ(gen.status, 0) << gen.text;
  std::string deck = bytes(dir / "gen.cir");
  deck.insert(
      deck.find('\n') + 1,
      "Vkill kx 0 pwl(0 0 45m 0 45.001m 1e6)\nDkill kx 0 dkill\n.model dkill d is=1e-30 n=0.001\n");
  std::ofstream(dir / "bad.cir") << deck;
  const auto out =
      test::run(cache_env() + " " + BMRU_BINARY + " validate --netlist " +
                (dir / "bad.cir").string() + " --ports " + (dir / "ports.json").string() +
                " --random-sequences 2 --frames 8 -o " + (dir / "v.h5").string());
  EXPECT_EQ(out.status, 3) << out.text;
  EXPECT_NE(out.text.find("decision_agreement=nan"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("failed=2"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("Timestep too small"), std::string::npos) << out.text;
  const auto frames = test::read_dataset(dir / "v.h5", "/sequences/frames_completed");
  EXPECT_EQ(frames, (std::vector<double>{4, 4}));
  const auto state = test::read_dataset(dir / "v.h5", "/hw/layer1/state");  // [2, 8, 4]
  ASSERT_EQ(state.size(), 64u);
  EXPECT_FALSE(std::isnan(state[3 * 4]));  // frame 3 was simulated
  EXPECT_TRUE(std::isnan(state[4 * 4]));   // frame 4 never was
  EXPECT_TRUE(std::isnan(test::read_dataset(dir / "v.h5", "/sw/layer1/state")[7 * 4]));
}

// Issue 15, items 5 and 6: values no circuit of the technology can take are refused at once,
// naming the option and its range, before anything runs or is written.
TEST(Reliability, ImpossibleRunsAreRefusedBeforeTheyStart) {
  test::TempDir dir;
  std::ofstream(dir / "big.csv") << "1000000,0,0,0,0,0,0,0,0,0,0,0,0\n";
  const std::string out = " -o " + (dir / "x.h5").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"simulate --frames 99999999999", "--max-output-gb 20"},
      {"fidelity --random-sequences 100000 --frames 100000", "--max-output-gb 20"},
      {"fidelity --frame-period 1e-12",
       "--frame-period must lie between 1 us and 3600 s (got 1e-12 s)"},
      {"fidelity --vdd 100",
       "--vdd: 100 V is outside what generic180's devices are rated for (0.9-2 V)"},
      {"sweep --vdds 1.8,100", "--vdds: 100 V is outside"},
      {"fidelity --waveforms 1e8", "--waveforms: 100000000 points per frame"},
      {"fidelity --inputs " + (dir / "big.csv").string(),
       "is 1e+06 model units = 0.001 A; the circuit's nodes take up to 1e-08 A"},
      {"fidelity --engines sw,ct --inputs " + (dir / "big.csv").string(), "1e+06 model units"},
  };
  for (const auto& [args, words] : cases) {
    const auto r = test::run(cache_env() + " " + BMRU_BINARY + " " + args + out);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.text;
    EXPECT_NE(r.text.find(words), std::string::npos) << args << "\n" << r.text;
    EXPECT_FALSE(std::filesystem::exists(dir / "x.h5.part")) << args;
  }
}

}  // namespace
}  // namespace bmru
