// Preparing a user's netlist and port map for `bmru validate` (no simulation).
#include "experiments/validate.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "test_support.hpp"

#include <fstream>
#include "models/demo_network.hpp"

namespace bmru::experiments {
namespace {

models::PortMap two_inputs() {
  models::PortMap p;
  p.inputs = {{"iin0p", "iin0n"}, {"iin1p", "iin1n"}};
  return p;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(PrepareNetlist, RewritesInputsAndDropsAnalysesControlAndEnd) {
  const std::string deck =
      "my cell variant\n"
      ".include /dev/null\n"
      "Iin0p 0 a pwl(0 0 1m 1n)\n"
      "IIN0N 0 b dc 0\n"
      "iin1p 0 c\n+ pwl(0 0 1m 2n)\n"
      "iin1n 0 d 0\n"
      ".subckt inner x\niin0p x 0 1n\n.ends\n"
      ".tran 1m 10m\n.TRAN 1m 20m\n.op\n.save all\n.print tran v(a)\n"
      ".control\nrun\nwrdata out.txt v(a)\nquit\n.endc\n"
      ".ic v(a)=0\n"
      ".END\n";
  const PreparedNetlist p = prepare_netlist(deck, "deck.sp", two_inputs());
  EXPECT_TRUE(p.problems.empty()) << p.problems.front();
  EXPECT_EQ(p.text.substr(0, p.text.find('\n')), "my cell variant");  // the title stays first
  EXPECT_TRUE(contains(p.text, "Iin0p 0 a external\n"));
  EXPECT_TRUE(contains(p.text, "IIN0N 0 b external\n"));
  EXPECT_TRUE(
      contains(p.text, "iin1p 0 c external\n"));  // continuation lines joined, then rewritten
  EXPECT_TRUE(contains(
      p.text, "iin0p x 0 1n\n"));  // a same-named source inside a subcircuit is not an input
  EXPECT_TRUE(p.refused.empty()) << p.refused.front();
  EXPECT_TRUE(contains(p.text, ".include \"/dev/null\"\n"));
  EXPECT_TRUE(contains(p.text, ".ic v(a)=0\n"));
  for (const char* gone :
       {".tran", ".TRAN", ".op\n", ".save", ".print", ".control", "wrdata", "quit", ".END"})
    EXPECT_FALSE(contains(p.text, gone)) << gone;
  EXPECT_TRUE(p.text.size() > 5 && p.text.substr(p.text.size() - 5) == ".end\n");
}

TEST(PrepareNetlist, NamesEveryMissingOrWrongInputSource) {
  const std::string deck = "t\nvin0p 0 a 0\niin1p 0 c 1n\niin1n 0 d 0\n.end\n";
  const PreparedNetlist p = prepare_netlist(deck, "deck.sp", two_inputs());
  ASSERT_EQ(p.problems.size(), 2u);
  std::string all;
  for (const auto& q : p.problems) all += q + "\n";
  EXPECT_TRUE(contains(all, "inputs[0].pos 'iin0p': no such source at the top level of deck.sp"))
      << all;
  EXPECT_TRUE(contains(all, "inputs[0].neg 'iin0n'")) << all;
}

// Issue 15: a .control block or a shell command in an included file would run with the user's
// rights the moment ngspice reads the deck. Every include is followed, and such a netlist is
// refused naming file and line; relative paths are read from the including file's folder.
TEST(PrepareNetlist, RefusesScriptsInIncludedFilesAndResolvesRelativePaths) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "lib" / "sub");
  std::ofstream(dir / "lib" / "models.lib")
      << "* models\n.lib tt\n.include sub/inner.sp\n.endl tt\n";
  std::ofstream(dir / "lib" / "sub" / "inner.sp")
      << "* inner\nR1 a 0 1k\n.CONTROL\nshell rm -f victim\n.endc\n";
  std::ofstream(dir / "lib" / "plain.sp") << "* plain\nR2 b 0 1k\n";
  std::ofstream(dir / "lib" / "sys.sp") << "* sys\n  System touch x\n";
  std::ofstream(dir / "lib" / "script.sp") << "*ng_script\necho hi\n";
  const std::string deck_path = (dir / "deck.sp").string();
  const std::string deck =
      "t\n.include lib/plain.sp\n.lib 'lib/models.lib' tt\n.inc lib/sys.sp\n"
      ".include lib/script.sp\n.include lib/missing.sp\niin0p 0 a 0\niin0n 0 a 0\n"
      "iin1p 0 a 0\niin1n 0 a 0\n.end\n";
  const PreparedNetlist p = prepare_netlist(deck, deck_path, two_inputs());
  std::string all;
  for (const auto& q : p.refused) all += q + "\n";
  ASSERT_EQ(p.refused.size(), 6u) << all;
  const std::string inner = (dir / "lib" / "sub" / "inner.sp").string();
  EXPECT_TRUE(contains(all, inner + ":3: a .control block")) << all;
  EXPECT_TRUE(contains(all, inner + ":4: the 'shell' command")) << all;
  EXPECT_TRUE(contains(all, inner + ":5: a .endc block")) << all;
  EXPECT_TRUE(contains(all, (dir / "lib" / "sys.sp").string() + ":2: the 'system' command")) << all;
  EXPECT_TRUE(contains(all, (dir / "lib" / "script.sp").string() + ":1: an ngspice script")) << all;
  EXPECT_TRUE(contains(all, deck_path + ":6: the included file 'lib/missing.sp' was not found"))
      << all;
  // The plain include is written with its absolute path, so ngspice reads the same file.
  EXPECT_TRUE(contains(p.text, ".include \"" + (dir / "lib" / "plain.sp").string() + "\"\n"))
      << p.text;
  EXPECT_TRUE(contains(p.text, ".lib \"" + (dir / "lib" / "models.lib").string() + "\" tt\n"))
      << p.text;
}

// Issue 16: /config said reltol 1e-3 even when the user's own .option line set another value.
TEST(PrepareNetlist, RecordsTheSimulatorSettingsThatWin) {
  const std::string deck =
      "t\niin0p 0 a 0\niin0n 0 a 0\niin1p 0 a 0\niin1n 0 a 0\n.options RELTOL=1e-4 itl4=50\n"
      ".subckt s a\n.option reltol=0.5\n.ends\n.option gmin 1e-13\n.end\n";
  const PreparedNetlist p = prepare_netlist(deck, "deck.sp", two_inputs());
  EXPECT_EQ(p.sim.method, "gear");   // ours, not overridden
  EXPECT_EQ(p.sim.abstol_a, 1e-14);  // ours
  EXPECT_EQ(p.sim.reltol, 1e-4);     // the netlist's own (not the one inside a subcircuit)
  EXPECT_EQ(p.sim.gmin_s, 1e-13);    // "key value" without '=' too
  EXPECT_FALSE(p.sim.trtol.has_value());
  // One renderer: our line comes first in the prepared text.
  EXPECT_TRUE(contains(p.text, "t\n.option method=gear abstol=1e-14 gmin=1e-15\n")) << p.text;
  std::string attrs;
  for (const auto& a : p.sim.config_attrs())
    attrs += a.name + "=" +
             std::visit(
                 [](const auto& v) {
                   if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>)
                     return v;
                   else
                     return core::format_number(static_cast<double>(v));
                 },
                 a.value) +
             " ";
  EXPECT_EQ(attrs,
            "tran_method=gear tran_abstol=1e-14 tran_reltol=1e-04 tran_trtol=7 tran_gmin=1e-13 ");
  spice::SimOptions later;
  later.abstol_a = 1e-15;
  EXPECT_EQ(p.sim.merged(later).option_line(),
            ".option method=gear abstol=1e-15 reltol=1e-04 gmin=1e-13");
  EXPECT_EQ(spice::SimOptions{}.option_line(), "");
}

TEST(ResolveProbe, FindsSourcesAndRefusesNodeVoltages) {
  const std::vector<std::string> vectors{"time", "a", "x1.n1", "vcand#branch", "v.x1.vs#branch"};
  EXPECT_EQ(*resolve_probe("VCAND", vectors).resolved, "vcand#branch");
  EXPECT_EQ(*resolve_probe("vcand#branch", vectors).resolved, "vcand#branch");
  EXPECT_EQ(*resolve_probe("x1.vs", vectors).resolved, "v.x1.vs#branch");
  EXPECT_EQ(*resolve_probe("v.x1.vs", vectors).resolved, "v.x1.vs#branch");
  EXPECT_TRUE(contains(resolve_probe("a", vectors).problem, "node voltage"));
  EXPECT_TRUE(contains(resolve_probe("x1.n1", vectors).problem, "node voltage"));
  EXPECT_TRUE(contains(resolve_probe("vnope", vectors).problem, "no such source"));
}

TEST(PortMap, ReadsAndCountsAgainstTheModel) {
  const core::Network net = models::demo_network();
  EXPECT_THROW(read_port_map("{", "p.json"), InputError);
  EXPECT_THROW(read_port_map(R"({"inputs": []})", "p.json"), InputError);
  try {
    read_port_map(R"({"inputs": [{"pos": "a"}], "layers": []})", "p.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.what(), "inputs[0].neg")) << e.what();
  }
  const UserPorts u = read_port_map(
      R"({"inputs": [{"pos": "IA", "neg": "ib"}],
          "layers": [{"candidate": ["c0"], "state": ["s0", "s1"], "output": []}],
          "supplies": {"cells": "vdd_cells"}})",
      "p.json");
  EXPECT_EQ(u.ports.inputs[0].pos, "ia");
  EXPECT_FALSE(u.has_logits);
  EXPECT_TRUE(u.has_supply[0]);
  EXPECT_FALSE(u.has_supply[1]);
  const auto problems = port_count_problems(u, net);
  std::string all;
  for (const auto& q : problems) all += q + "\n";
  EXPECT_TRUE(contains(all, "inputs: 1 entries, the model needs 13")) << all;
  EXPECT_TRUE(contains(all, "layers: 1 entries, the model needs 2")) << all;
  EXPECT_TRUE(contains(all, "layers[0].candidate: 1 entries, the model needs 4")) << all;
  EXPECT_TRUE(contains(all, "layers[0].output: 0 entries")) << all;
  EXPECT_FALSE(contains(all, "logits")) << all;  // a map without logits compares what it has

  // A layer output's part is one probe or a list of probes whose currents add (the generator's
  // residual stream is a bundle of lines); a bad entry is named.
  const UserPorts sum = read_port_map(
      R"({"inputs": [], "layers": [{"candidate": [], "state": [],
          "output": [{"pos": ["U0P", "p1"], "neg": "u0n"}]}]})",
      "p.json");
  EXPECT_EQ(sum.ports.layers[0].output[0].pos, (std::vector<std::string>{"u0p", "p1"}));
  EXPECT_EQ(sum.ports.layers[0].output[0].neg, std::vector<std::string>{"u0n"});
  for (const char* bad : {R"(["u0p", 3])", "[]"}) try {
      read_port_map(std::string(R"({"inputs": [], "layers": [{"candidate": [], "state": [],
          "output": [{"pos": )") +
                        bad + R"(, "neg": "u0n"}]}]})",
                    "p.json");
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_TRUE(contains(e.what(), "layers[0].output[0].pos")) << e.what();
    }
}

}  // namespace
}  // namespace bmru::experiments
