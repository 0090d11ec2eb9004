#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "core/errors.hpp"
#include "report_script.hpp"

namespace bmru::experiments {

void add_report_command(CLI::App& app) {
  struct Options {
    std::filesystem::path run;
    std::filesystem::path out = "report";
    int sequence = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("report", "Draw PNG figures of a fidelity, validate or sweep file (matplotlib)");
  cmd->add_option("run", o->run, "Run file (HDF5)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", o->out, "Folder for the figures (default ./report)");
  cmd->add_option("--sequence", o->sequence, "Sequence to draw (default 0)");
  cmd->callback([o] {
    const auto script = std::filesystem::temp_directory_path() / ("bmru-report-" + std::to_string(getpid()) + ".py");
    std::ofstream(script) << kReportScript;
    // Debian's interpreter, where scripts/setup.sh installs h5py and matplotlib.
    const std::string cmdline = "/usr/bin/python3 '" + script.string() + "' '" + o->run.string() + "' '" +
                                o->out.string() + "' " + std::to_string(o->sequence);
    const int rc = std::system(cmdline.c_str());
    std::filesystem::remove(script);
    if (rc != 0)
      throw Error("Drawing the report of '" + o->run.string() + "' failed (exit " +
                  std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : rc) + "); see the message above");
  });
}

}  // namespace bmru::experiments
