// `bmru bench accuracy`: the transient settings of DESIGN.md section 4 against a tight reference
// (gear, tmax 10 us, reltol 1e-4, abstol 1e-15) on the same sequence, side by side in one run.
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "core/array_file.hpp"
#include "experiments/fidelity.hpp"
#include "experiments/simulate.hpp"
#include "fidelity_cli.hpp"
#include "options.hpp"

namespace bmru::experiments {
namespace {

struct Setting {
  std::string name;
  std::optional<double> tmax_s, reltol, abstol, trtol;
};

// "tmax=250u,trtol=1": a setting to try beside the fixed ones (--setting).
Setting parse_setting(const std::string& text) {
  Setting s{text, {}, {}, {}, {}};
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, end - at);
    const std::size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    if (eq == std::string::npos) throw InputError("--setting: '" + item + "' is not key=value");
    const double v = core::parse_quantity(item.substr(eq + 1), "--setting " + key);
    if (key == "tmax")
      s.tmax_s = v;
    else if (key == "reltol")
      s.reltol = v;
    else if (key == "abstol")
      s.abstol = v;
    else if (key == "trtol")
      s.trtol = v;
    else
      throw InputError("--setting: unknown key '" + key + "' (tmax, reltol, abstol, trtol)");
    at = end + 1;
  }
  return s;
}

struct Outcome {
  double wall_s = 0;
  double max_diff_a[4] = {0, 0, 0, 0};  // candidate, state, output, logits
  long long state_differs = 0, cell_frames = 0;
};

const char* kKinds[4] = {"candidate", "state", "output", "logits"};

}  // namespace

void add_bench_accuracy(CLI::App* bench, const std::string& command_line, const char* argv0) {
  auto o = std::make_shared<FidelityOptions>();
  o->random_sequences = 1;
  o->frames = 30;
  o->jobs = 1;
  o->command_line = command_line;
  o->binary = self_binary(argv0);
  CLI::App* cmd = bench->add_subcommand(
      "accuracy",
      "Transient settings against a tight reference (gear, tmax 10 us, reltol 1e-4, abstol 1e-15)");
  add_count(cmd, "--frames", o->frames, "Frames of the sequence (default 30)");
  add_count(cmd, "--seed", o->seed, "Seed of the random sequence (default 1)", 0);
  add_quantity(cmd, "--frame-period", o->axis.period_s, "Frame period (default 10m)");
  auto extra = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--setting", *extra,
                  "Another setting to try, e.g. tmax=250u,trtol=1 (repeatable)");
  cmd->callback([o, extra] {
    o->axis.ramp_s = o->axis.period_s / 100;
    const double T = o->axis.period_s;
    std::vector<Setting> settings{
        {"reference: tmax 10us reltol 1e-4 abstol 1e-15", 10e-6, 1e-4, 1e-15, {}},
        {"default: tmax T/40 (core FrameAxis)", std::nullopt, {}, {}, {}},
        {"tmax T/100", T / 100, {}, {}, {}},
        {"tmax T/20", T / 20, {}, {}, {}},
        {"tmax T/10", T / 10, {}, {}, {}}};
    if (!extra->empty())
      settings.resize(2);  // only the reference, the default and the ones asked for
    for (const auto& text : *extra) settings.push_back(parse_setting(text));
    const auto dir = std::filesystem::temp_directory_path() /
                     ("bmru-bench-accuracy-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::vector<Outcome> out;
    std::vector<std::vector<core::NamedArray>> traces;
    const core::Network net = load_network(o->model, o->unit_current_a);
    for (size_t i = 0; i < settings.size(); ++i) {
      FidelityOptions run = *o;
      run.tran_max_step_s = settings[i].tmax_s;
      run.reltol = settings[i].reltol;
      run.abstol = settings[i].abstol;
      run.trtol = settings[i].trtol;
      run.out = dir / ("run" + std::to_string(i) + ".h5");
      const FidelityResult r = run_fidelity(run);
      if (!r.failed.empty())
        throw Error("The run '" + settings[i].name + "' failed: " + r.failed.front());
      Outcome q;
      q.wall_s = r.hw_wall_s;
      std::vector<core::NamedArray> t;
      for (core::Index l = 1; l <= net.n_layers(); ++l)
        for (int k = 0; k < 3; ++k)
          t.push_back(core::read_array(run.out, "hw/layer" + std::to_string(l) + "/" + kKinds[k]));
      t.push_back(core::read_array(run.out, "hw/logits"));
      traces.push_back(std::move(t));
      out.push_back(q);
    }
    std::filesystem::remove_all(dir);
    const auto& ref = traces.front();
    std::printf("%-48s %9s %11s %11s %11s %11s %9s %8s\n", "settings", "wall (s)", "cand (A)",
                "state (A)", "output (A)", "logits (A)", "states", "ratio");
    for (size_t i = 0; i < settings.size(); ++i) {
      Outcome& q = out[i];
      for (size_t a = 0; a < ref.size(); ++a) {
        const int kind = a + 1 == ref.size() ? 3 : static_cast<int>(a % 3);
        for (size_t j = 0; j < ref[a].data.size(); ++j)
          q.max_diff_a[kind] =
              std::max(q.max_diff_a[kind], std::abs(traces[i][a].data[j] - ref[a].data[j]));
        if (kind == 1) {  // states: [I_out > alpha/2] against the reference's
          const auto alpha = core::cell_constants(net.layers[a / 3]).alpha;
          for (size_t j = 0; j < ref[a].data.size(); ++j) {
            const double half = alpha(static_cast<core::Index>(j % static_cast<size_t>(net.d()))) *
                                net.unit_current_a / 2;
            q.state_differs += (traces[i][a].data[j] > half) != (ref[a].data[j] > half);
            ++q.cell_frames;
          }
        }
      }
      std::printf("%-48s %9.2f %11.3g %11.3g %11.3g %11.3g %4lld/%-4lld %8.4f\n",
                  settings[i].name.c_str(), q.wall_s, q.max_diff_a[0], q.max_diff_a[1],
                  q.max_diff_a[2], q.max_diff_a[3], q.state_differs, q.cell_frames,
                  q.wall_s / out[0].wall_s);
    }
    const Outcome& d = out[1];
    std::printf(
        "default_max_probe_diff_a=%.4g (target <= 5e-12)\ndefault_state_differences=%lld (target "
        "0)\n"
        "default_wall_ratio=%.4g (target <= 0.1)\n",
        *std::max_element(d.max_diff_a, d.max_diff_a + 4), d.state_differs,
        d.wall_s / out[0].wall_s);
  });
}

}  // namespace bmru::experiments
