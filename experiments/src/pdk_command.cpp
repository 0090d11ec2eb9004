#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "core/units.hpp"
#include "experiments/characterize.hpp"
#include "options.hpp"
#include "pdk/registry.hpp"

namespace bmru::experiments {

void add_technology_options(CLI::App* cmd, TechnologyOptions& t) {
  cmd->add_option("--pdk", t.pdk, "Technology: generic180 (default) or gf180mcu");
  cmd->add_option("--pdk-path", t.pdk_path,
                  "GF180MCU model folder or sm141064.ngspice (default: PDK_ROOT/PDK)");
  cmd->add_option("--corner", t.conditions.corner, "Process corner (default tt)");
  add_quantity(cmd, "--temp", t.conditions.temperature_c, "Temperature in C (default 27)");
  add_quantity(cmd, "--vdd", t.conditions.vdd_v, "Supply in V (default 1.8)");
}

void add_pdk_command(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("pdk", "List the technologies bmru can find, their corners and devices");
  cmd->callback([] {
    for (const auto& a : pdk::list_technologies()) {
      if (!a.found) {
        std::printf("%s: not found\n  %s\n", a.name.c_str(), a.location.c_str());
        continue;
      }
      const auto t = pdk::open_technology(a.name);
      std::printf("%s: %s\n  corners:", a.name.c_str(), a.location.c_str());
      for (const auto& c : t->corners()) std::printf(" %s", c.c_str());
      std::printf("\n  devices:");
      for (const auto& d : t->device_names()) std::printf(" %s", d.c_str());
      std::printf("\n  nominal vdd: %s V\n", core::format_number(t->nominal_vdd()).c_str());
    }
  });
}

}  // namespace bmru::experiments
