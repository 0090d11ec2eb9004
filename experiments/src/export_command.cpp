#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "experiments/export.hpp"

namespace bmru::experiments {

void add_export_command(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export",
                                     "Write a run file's waveforms and traces as an ngspice raw "
                                     "file (or CSV files) for other tools");
  cmd->add_option("run", o->run, "Run file (HDF5)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--format", o->format,
                  "raw (default: ngspice binary raw; ngspice, gaw, xschem) or csv")
      ->check(CLI::IsMember({"raw", "csv"}));
  cmd->add_option("-o,--out", o->out, "The raw file, or the folder of CSV files")->required();
  cmd->callback([o] {
    const ExportResult r = run_export(*o);
    if (o->format == "raw")
      std::printf("export: %d plots, %lld vectors, %lld points\nwrote %s\n", r.plots, r.vectors,
                  r.points, o->out.c_str());
    else
      std::printf("export: %d CSV files, %lld rows\nwrote %s\n", r.files, r.points, o->out.c_str());
  });
}

}  // namespace bmru::experiments
