#include "experiments/cli.hpp"

#include <clocale>
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>

#include "commands.hpp"
#include "core/errors.hpp"
#include "options.hpp"
#include "version.hpp"

namespace bmru::experiments {

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

int run_cli(int argc, char** argv) {
  // Numbers in netlists, files and output never depend on the user's locale.
  std::setlocale(LC_NUMERIC, "C");
  // A write past the file-size limit (ulimit -f) fails with EFBIG, which every writer turns into
  // an error naming the file, instead of killing the process with SIGXFSZ mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"bmru-cosim: co-simulation of BMRU networks against transistor-level circuits"};
  app.set_version_flag("--version", kToolVersion);
  app.require_subcommand(1);
  const std::string cmdline = command_line(argc, argv);
  add_simulate_command(app, cmdline);
  add_demo_model_command(app);
  add_features_command(app, cmdline);
  add_dataset_command(app, cmdline);
  add_pdk_command(app);
  add_characterize_command(app);
  add_bench_command(app, cmdline, argv[0]);
  add_netlist_command(app);
  add_report_command(app);
  add_export_command(app);
  add_fidelity_command(app, cmdline, argv[0]);
  add_sweep_command(app, cmdline, argv[0]);
  add_scaling_command(app, cmdline, argv[0]);
  add_noise_study_command(app, cmdline);
  add_evaluate_command(app, cmdline, argv[0]);
  add_validate_command(app, cmdline, argv[0]);
  add_model_command(app);
  add_train_command(app);
  int exit_code = 0;
  add_worker_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 1 (CLI11's own codes, 105-114, are
    // mapped: exit codes are 0 success, 1 usage / input / environment, 2 internal, 3 failed runs).
    const int code = app.exit(e);
    return code == 0 ? 0 : 1;
  } catch (const bmru::PartialFailure& e) {
    std::fprintf(stderr, "bmru: %s\n", e.what());
    return 3;
  } catch (const bmru::Error& e) {
    std::fprintf(stderr, "bmru: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr,
                 "bmru: error: out of memory: the network, the inputs or the run is too large for "
                 "this machine (check d, --frames and --random-sequences)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bmru: internal error: %s\n", e.what());
    return 2;
  }
  return exit_code;
}

}  // namespace bmru::experiments
