#include <cstdio>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "core/errors.hpp"
#include "core/stimuli.hpp"
#include "experiments/netlist.hpp"
#include "experiments/simulate.hpp"
#include "options.hpp"
#include "pdk/registry.hpp"

namespace bmru::experiments {

void add_netlist_command(CLI::App& app) {
  struct Options {
    std::optional<std::filesystem::path> model, inputs, ports;
    TechnologyOptions tech;
    std::optional<double> unit_current_a;
    std::optional<std::uint64_t> mismatch_seed;
    core::Index frames = 101;
    std::uint64_t seed = 1;
    double frame_period_s = 10e-3;
    bool clamp = false, print_map = false;
    std::filesystem::path out;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "netlist", "Write the transistor-level circuit of a network as a standalone ngspice netlist");
  cmd->add_option("--model", o->model, "Model file (HDF5 or JSON); default: the demo network")
      ->check(CLI::ExistingFile);
  add_technology_options(cmd, o->tech);
  add_quantity(cmd, "--unit-current", o->unit_current_a,
               "Amperes per model unit (overrides the model file)");
  add_count(cmd, "--mismatch-seed", o->mismatch_seed, "Draw device mismatch with this seed", 0);
  cmd->add_option("--inputs", o->inputs,
                  "Input sequence (first sequence of an HDF5 /inputs, or CSV)")
      ->check(CLI::ExistingFile);
  add_count(cmd, "--frames", o->frames, "Frames of the random input sequence (default 101)");
  add_count(cmd, "--seed", o->seed, "Seed of the random input sequence (default 1)", 0);
  add_quantity(cmd, "--frame-period", o->frame_period_s, "Frame period (default 10m)");
  cmd->add_flag("--clamp", o->clamp, "Clamp out-of-range parameters and report every change");
  cmd->add_flag("--map", o->print_map, "Print the parameter-to-element map");
  cmd->add_option("--ports", o->ports, "Also write the port map (JSON)");
  cmd->add_option("-o,--out", o->out, "Netlist file to write")->required();
  cmd->callback([o] {
    const core::Network net = load_network(o->model, o->unit_current_a);
    const auto tech = pdk::open_technology(o->tech.pdk, o->tech.pdk_path);
    spice::Session session;
    const Calibrated cal = calibrated_options(session, *tech, o->tech.conditions);
    for (const auto& n : cal.notes) std::printf("note: %s\n", n.c_str());
    if (cal.cell_from_cache)
      std::printf("calibration: from cache\n");
    else
      std::printf("calibration: built in %.1f s\n", cal.cell_build_s);
    models::CircuitOptions copt = cal.options;
    copt.mismatch_seed = o->mismatch_seed;
    copt.clamp = o->clamp;
    const models::CircuitModel c = models::build_circuit(net, *tech, copt);
    for (const auto& change : c.realised)
      std::printf("realised %s: %s -> %s\n", change.parameter.c_str(),
                  core::format_number(change.requested).c_str(),
                  core::format_number(change.realised).c_str());
    for (const auto& change : c.clamped)
      std::printf("clamped %s: %s -> %s\n", change.parameter.c_str(),
                  core::format_number(change.requested).c_str(),
                  core::format_number(change.realised).c_str());
    auto source = o->inputs ? core::file_stimuli(*o->inputs, net.n_in())
                            : core::random_stimuli({1, o->frames, net.n_in(), o->seed});
    const core::Matrix x = source->read_sequence(0, 0, source->frames());
    const auto axis = core::FrameAxis::with_period(o->frame_period_s);
    const std::string data = o->out.string() + ".data";
    std::ofstream(o->out) << standalone_netlist(c, *tech, o->tech.conditions, x, axis, data);
    if (o->ports) {
      // The parameters the netlist realises (dropped, widened and, with --clamp, clamped).
      std::ofstream(*o->ports) << port_map_json(c.ports, &c.network);
    }
    if (o->print_map) std::printf("%s", map_table(c.map).c_str());
    std::printf("wrote %s (%zu map rows; ngspice -b writes the probes to %s)\n", o->out.c_str(),
                c.map.size(), data.c_str());
  });
}

}  // namespace bmru::experiments
