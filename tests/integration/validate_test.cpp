// End-to-end `bmru validate`: the generator's own netlist through the user path gives fidelity's
// figures; a cell altered by hand is found, at that cell only; port-map problems come together.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli_support.hpp"
#include "h5_reader.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

using test::cache_env;

std::string last_line(const std::string& text) {
  const auto end = text.find_last_not_of('\n');
  const auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The netlist with one line's last field (a current source's value) multiplied by `factor`.
std::string scale_source(const std::string& deck, const std::string& name, double factor) {
  std::istringstream in(deck);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) {
      const auto at = line.rfind(' ');
      line = line.substr(0, at + 1) + std::to_string(std::stod(line.substr(at + 1)) * factor);
    }
    out += line + "\n";
  }
  return out;
}

TEST(Validate, GeneratedNetlistMatchesFidelityAndAnAlteredCellIsFoundThere) {
  test::TempDir dir;
  const std::string run_args = " --random-sequences 2 --frames 20 --jobs 2";
  const auto gen =
      test::run(cache_env() + " " + BMRU_BINARY + " netlist -o " + (dir / "gen.cir").string() +
                " --ports " + (dir / "ports.json").string());
  ASSERT_EQ(gen.status, 0) << gen.text;
  // No --model: the port map written by the generator carries the parameters.
  const auto val = test::run(
      cache_env() + " " + BMRU_BINARY + " validate --netlist " + (dir / "gen.cir").string() +
      " --ports " + (dir / "ports.json").string() + run_args + " -o " + (dir / "v.h5").string());
  ASSERT_EQ(val.status, 0) << val.text;
  const auto fid = test::run(cache_env() + " " + BMRU_BINARY + " fidelity" + run_args + " -o " +
                             (dir / "f.h5").string());
  ASSERT_EQ(fid.status, 0) << fid.text;
  EXPECT_EQ(last_line(val.text),
            last_line(fid.text));  // every headline figure, printed to 6-10 digits
  const auto base = test::read_dataset(dir / "f.h5", "/metrics/cell_state_agreement");
  EXPECT_EQ(test::read_dataset(dir / "v.h5", "/metrics/cell_state_agreement"), base);

  // Layer 2 cell 1 with its threshold bias doubled: a last-layer cell, so nothing downstream of it
  // but the logits.
  std::ofstream(dir / "alt.cir") << scale_source(read(dir / "gen.cir"), "Igth_l2_c1", 2.0);
  const auto alt = test::run(
      cache_env() + " " + BMRU_BINARY + " validate --netlist " + (dir / "alt.cir").string() +
      " --ports " + (dir / "ports.json").string() + run_args + " -o " + (dir / "a.h5").string());
  ASSERT_EQ(alt.status, 0) << alt.text;
  const auto cells = test::read_dataset(dir / "a.h5", "/metrics/cell_state_agreement");
  ASSERT_EQ(cells.size(), 8u);
  ASSERT_EQ(base.size(), 8u);
  for (size_t c = 0; c < 8; ++c) {
    if (c == 5)
      EXPECT_LT(cells[c], base[c] - 0.2) << "the altered cell (layer 2 cell 1) must disagree";
    else
      EXPECT_NEAR(cells[c], base[c], 1.0 / 40 + 1e-12) << "cell " << c << " was not altered";
  }
}

TEST(Validate, EveryPortMapProblemIsNamedBeforeSimulation) {
  test::TempDir dir;
  const auto gen =
      test::run(cache_env() + " " + BMRU_BINARY + " netlist -o " + (dir / "gen.cir").string() +
                " --ports " + (dir / "ports.json").string());
  ASSERT_EQ(gen.status, 0) << gen.text;
  std::string ports = read(dir / "ports.json");
  // A probe that does not exist, a probe that is a node, and an input source that is missing.
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"\"vcand_l1_c2\"", "\"vcand_l1_cx\""},
        {"\"vcand_l2_c0\"", "\"c_l2_c0\""},
        {"\"iin3p\"", "\"iin3q\""}}) {
    const auto at = ports.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    ports.replace(at, from.size(), to);
  }
  std::ofstream(dir / "bad.json") << ports;
  const auto out = test::run(
      cache_env() + " " + BMRU_BINARY + " validate --netlist " + (dir / "gen.cir").string() +
      " --ports " + (dir / "bad.json").string() + " --frames 3 -o " + (dir / "x.h5").string());
  EXPECT_EQ(out.status, 1) << out.text;
  for (const char* part : {"layers[0].candidate[2] 'vcand_l1_cx': no such source",
                           "layers[1].candidate[0] 'c_l2_c0': is a node voltage",
                           "inputs[3].pos 'iin3q': no such source at the top level"})
    EXPECT_NE(out.text.find(part), std::string::npos) << part << "\n" << out.text;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
}

// Issue 15: a `.control` block in an included file ran `shell rm -f victim` and validate exited 0.
TEST(Validate, ScriptsInIncludedFilesAreRefusedAndNeverRun) {
  test::TempDir dir;
  const auto gen =
      test::run(cache_env() + " " + BMRU_BINARY + " netlist -o " + (dir / "gen.cir").string() +
                " --ports " + (dir / "ports.json").string());
  ASSERT_EQ(gen.status, 0) << gen.text;
  std::filesystem::create_directories(dir / "inc");
  std::ofstream(dir / "victim") << "keep me";
  std::ofstream(dir / "inc" / "e.sp")
      << ".control\nshell rm -f " << (dir / "victim").string() << "\n.endc\n";
  std::string deck = read(dir / "gen.cir");
  deck.insert(deck.find('\n') + 1, ".include inc/e.sp\n");
  std::ofstream(dir / "x.cir") << deck;
  // Run from another folder: the include is read from the netlist's folder, not the current one.
  const auto out =
      test::run("cd / && " + cache_env() + " " + BMRU_BINARY + " validate --netlist " +
                (dir / "x.cir").string() + " --ports " + (dir / "ports.json").string() +
                " --frames 3 -o " + (dir / "x.h5").string());
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(std::filesystem::exists(dir / "victim")) << out.text;
  EXPECT_NE(out.text.find((dir / "inc" / "e.sp").string() + ":1: a .control block"),
            std::string::npos)
      << out.text;
  EXPECT_NE(out.text.find((dir / "inc" / "e.sp").string() + ":2: the 'shell' command"),
            std::string::npos)
      << out.text;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
}

}  // namespace
}  // namespace bmru
