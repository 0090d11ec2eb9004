#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "core/errors.hpp"
#include "core/stimuli.hpp"
#include "core/units.hpp"
#include "experiments/bench.hpp"
#include "models/demo_network.hpp"
#include "models/reference_engine.hpp"
#include "pdk/registry.hpp"
#include "spice/session.hpp"

#include "program.hpp"

namespace bmru::experiments {
namespace {

using Clock = std::chrono::steady_clock;

// CPU time of this process: less sensitive than wall time to other load on a shared machine.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
using core::format_number;

// The input current of frame k: 1 nA + 0.3 nA x_k(0), from the demo's random inputs.
double input_current(const core::Matrix& x, core::Index k) {
  return 1e-9 + 0.3e-9 * x(k, 0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Free final : spice::LockstepHandler {
  spice::Action on_sample(core::Index, std::span<const double>) override {
    return spice::Action::proceed;
  }
};

// Full lockstep work per frame: a behavioural step of the demo network on the same frame input and
// a comparison of the chain's output with its input current (the chain's gain).
struct Lockstep final : spice::LockstepHandler {
  explicit Lockstep(const core::Matrix& inputs) : x(inputs), engine(models::demo_network()) {
    engine.reset(1);
  }
  spice::Action on_sample(core::Index k, std::span<const double> probes) override {
    engine.step(x.row(k), frame);
    gain = std::abs(probes.back()) / input_current(x, k);
    return spice::Action::proceed;
  }
  void on_frame_end(core::Index, std::span<const double> integrals) override {
    charge += integrals[0];
  }
  const core::Matrix& x;
  models::ReferenceEngine engine;
  core::Frame frame;
  double gain = 0, charge = 0;
};

}  // namespace

std::string mirror_chain(int stages, const std::string& input) {
  const auto tech = pdk::generic180();
  std::string s = "* bmru bench: chain of subthreshold current mirrors\n" + tech->header({}) +
                  "Vdd vdd 0 1.8\n" + input + "\n";
  // Long channels keep each mirror's gain error (channel-length modulation) small.
  const pdk::Device n{pdk::Polarity::n, 1e-6, 16e-6, 1, {}};
  const pdk::Device p{pdk::Polarity::p, 1e-6, 16e-6, 1, {}};
  const auto node = [](char prefix, int i) {
    std::string s(1, prefix);
    s += std::to_string(i);
    return s;
  };
  for (int i = 0; i < stages; ++i) {
    const std::string a = node('a', i), b = node('b', i), c = node('c', i), i_s = std::to_string(i);
    const std::string next = i + 1 < stages ? node('a', i + 1) : "out";
    s += tech->device_line("nd" + i_s, a, a, "0", "0", n) + "\n";
    s += tech->device_line("no" + i_s, c, a, "0", "0", n) + "\n";
    s += "Vt" + i_s + " " + b + " " + c + " 0\n";
    s += tech->device_line("pd" + i_s, b, b, "vdd", "vdd", p) + "\n";
    s += tech->device_line("po" + i_s, next, b, "vdd", "vdd", p) + "\n";
  }
  return s + "Vout out 0 0.9\n.end\n";
}

BenchLockstepResult run_bench_lockstep(const BenchLockstepOptions& o) {
  BenchLockstepResult r;
  r.mosfets = 4 * o.stages;
  const core::FrameAxis axis = core::FrameAxis::with_period(o.frame_period_s);
  const spice::Transient tran{axis.print_step(), axis.stop_time(o.frames), axis.max_step()};
  const core::Matrix x = core::random_stimuli({1, o.frames, 13, 1})->read_sequence(0, 0, o.frames);

  spice::LockstepSpec spec;
  spec.axis = axis;
  spec.frames = o.frames;
  spec.sources = {"Iin"};
  spec.frame_values = [&x](core::Index k, std::span<double> v) { v[0] = input_current(x, k); };
  spice::LockstepSpec bare = spec;  // same sources and breakpoints, nothing sampled
  for (int i = 4; i < o.stages; i += 5) spec.probes.push_back("vt" + std::to_string(i) + "#branch");
  spec.probes.push_back("vout#branch");
  spec.integrals = {"vdd#branch"};

  const std::string netlist = mirror_chain(o.stages, "Iin vdd a0 external");
  spice::Session session;
  for (int pair = 0; pair < o.pairs; ++pair) {
    {
      spice::Circuit c = session.load(netlist);
      Free h;
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      c.lockstep(tran, bare, h);
      r.free_cpu_s.push_back(cpu_seconds() - c0);
      r.free_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    {
      spice::Circuit c = session.load(netlist);
      Lockstep h(x);
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      const auto s = c.lockstep(tran, spec, h);
      r.lockstep_cpu_s.push_back(cpu_seconds() - c0);
      r.lockstep_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      r.accepted_points = s.accepted_points;
      r.chain_gain = h.gain;
    }
  }
  std::vector<double> ratios, cpu_ratios;
  for (size_t i = 0; i < r.free_s.size(); ++i) {
    ratios.push_back(r.lockstep_s[i] / r.free_s[i]);
    cpu_ratios.push_back(r.lockstep_cpu_s[i] / r.free_cpu_s[i]);
  }
  r.overhead_ratio = median(ratios);
  r.overhead_cpu_ratio = median(cpu_ratios);

  // The same circuit and input as PWL corners, run by ngspice's own executable in batch mode.
  std::string pwl = "Iin vdd a0 pwl(0 " + format_number(input_current(x, 0));
  for (core::Index k = 1; k < o.frames; ++k)
    for (const double v :
         {axis.frame_start(k), input_current(x, k - 1), axis.ramp_end(k), input_current(x, k)}) {
      pwl += ' ';
      pwl += format_number(v);
    }
  pwl += ")";
  std::string deck = mirror_chain(o.stages, pwl);
  deck.erase(deck.rfind(".end"));
  const auto dir =
      std::filesystem::temp_directory_path() / ("bmru-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  deck += ".control\nset num_threads=1\nsave vout#branch\ntran " + format_number(tran.step_s) +
          " " + format_number(tran.stop_s) + " 0 " + format_number(tran.max_step_s) + "\nwrdata " +
          (dir / "out.txt").string() + " vout#branch\nquit\n.endc\n.end\n";
  std::ofstream(dir / "deck.sp") << deck;
  const auto t0 = Clock::now();
  const int rc = run_program({{o.ngspice, "-b", "deck.sp"}, dir, dir / "batch.log"});
  r.batch_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const bool wrote =
      std::filesystem::exists(dir / "out.txt") && std::filesystem::file_size(dir / "out.txt") > 0;
  std::filesystem::remove_all(dir);
  if (rc != 0 || !wrote)
    throw Error("The batch run '" + o.ngspice + " -b' did not simulate the fixture (exit " +
                std::to_string(rc) + ")");
  r.batch_ratio = median(r.lockstep_s) / r.batch_s;
  return r;
}

}  // namespace bmru::experiments
