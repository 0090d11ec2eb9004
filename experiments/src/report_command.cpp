#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "core/errors.hpp"
#include "program.hpp"
#include "report_script.hpp"

namespace bmru::experiments {

void add_report_command(CLI::App& app) {
  struct Options {
    std::filesystem::path run;
    std::filesystem::path out = "report";
    int sequence = 0;
    std::string window;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Draw PNG figures of a fidelity, validate or sweep file, or a training history (matplotlib)");
  cmd->add_option("run", o->run, "Run file (HDF5), or the training history CSV of bmru train")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", o->out, "Folder for the figures (default ./report)");
  cmd->add_option("--sequence", o->sequence, "Sequence to draw (default 0)");
  cmd->add_option("--window", o->window, "Frames to draw, a:b (from a to b-1; default: all)");
  cmd->callback([o] {
    std::error_code ec;
    std::filesystem::create_directories(o->out, ec);
    if (ec || ::access(o->out.c_str(), W_OK) != 0)
      throw FileError(o->out.string(), "", "cannot be written to (choose another --out folder)");
    const auto script = std::filesystem::temp_directory_path() /
                        ("bmru-report-" + std::to_string(getpid()) + ".py");
    std::ofstream(script) << kReportScript;
    // Debian's interpreter, where scripts/setup.sh installs h5py and matplotlib. The script reports
    // its own errors as one line naming the file (never a traceback) and exits 1.
    const int rc = run_program({{"/usr/bin/python3", script.string(), o->run.string(),
                                 o->out.string(), std::to_string(o->sequence), o->window},
                                std::nullopt,
                                std::nullopt});
    std::filesystem::remove(script);
    if (rc != 0)
      throw Error("The report of '" + o->run.string() + "' was not drawn (see the message above)");
  });
}

}  // namespace bmru::experiments
