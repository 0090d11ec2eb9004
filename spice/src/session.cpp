#include "spice/session.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <optional>
#include <utility>

#include "core/units.hpp"
#include "session_impl.hpp"

namespace bmru::spice {
namespace {

std::atomic<bool> g_created{false};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ngspice parses numbers with the C library: keep LC_NUMERIC at "C" around every call.
class CLocale {
 public:
  CLocale() {
    const char* cur = std::setlocale(LC_NUMERIC, nullptr);
    if (cur && std::string(cur) != "C") {
      saved_ = cur;
      std::setlocale(LC_NUMERIC, "C");
    }
  }
  ~CLocale() {
    if (saved_) std::setlocale(LC_NUMERIC, saved_->c_str());
  }

 private:
  std::optional<std::string> saved_;
};

Session::Impl* impl_of(void* user) {
  return static_cast<Session::Impl*>(user);
}

int on_char(char* text, int, void* user) {
  if (text) impl_of(user)->lines.emplace_back(text);
  return 0;
}
int on_stat(char*, int, void*) {
  return 0;
}
int on_exit(int status, NG_BOOL, NG_BOOL quit, int, void* user) {
  auto* impl = impl_of(user);
  impl->dead = true;
  impl->exit_status = status;
  impl->lines.push_back(std::string("stderr ControlledExit: status ") + std::to_string(status) +
                        (quit ? " (quit)" : " (ngspice cannot recover)"));
  return 0;
}
int on_data(pvecvaluesall values, int, int, void* user) {
  auto* impl = impl_of(user);
  if (!impl->run) return 0;
  try {
    impl->run->on_data(values);
  } catch (...) {
    if (!impl->pending) impl->pending = std::current_exception();
    impl->run->abort();
  }
  return 0;
}
int on_init_data(pvecinfoall, int, void* user) {
  if (auto* run = impl_of(user)->run) run->on_plot();
  return 0;
}
int on_bg(NG_BOOL, int, void*) {
  return 0;
}
int on_source(double* value, double t, char* name, int, void* user) {
  auto* impl = impl_of(user);
  if (!impl->run) {
    *value = 0.0;  // the abort source outside a lockstep run; external sources without driver
    return 0;
  }
  try {
    *value = impl->run->source_value(name, t);
  } catch (...) {
    if (!impl->pending) impl->pending = std::current_exception();
    impl->run->abort();
    *value = 0.0;
  }
  return 0;
}

// A line that reports a failure. ngspice's return codes do not (DESIGN.md section 4); some of its
// error reports arrive on stdout, so both streams are scanned.
bool is_failure(const std::string& line) {
  const std::string l = lower(line);
  static const char* const patterns[] = {
      "error", "can't find", "cannot find", "singular", "timestep too small", "aborted",
      "not parsed", "unknown subckt", "no such", "could not", "fatal", "controlledexit",
      "there aren't any circuits", "unknown model", "no circuit loaded", "undefined parameter",
      "too many iterations without convergence",
      // "Dynamic/True gmin stepping failed" alone is not fatal: ngspice goes on to source stepping.
      "source stepping failed", "unknown parameter", "netlist line no"};
  for (const char* p : patterns)
    if (l.find(p) != std::string::npos) return true;
  return false;
}

// The folder of the loaded libngspice: its code models live in <dir>/ngspice/*.cm.
std::filesystem::path library_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&ngSpice_Init), &info) && info.dli_fname)
    return std::filesystem::path(info.dli_fname).parent_path();
  return "/usr/lib/x86_64-linux-gnu";
}

std::filesystem::path write_spinit() {
  const auto dir =
      std::filesystem::temp_directory_path() / ("bmru-ngspice-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / "spinit");
  out << "* bmru-cosim's own spinit: the library never reads the system or user init files\n"
         "set num_threads=1\nset nomoremode\nset noaskquit\nset ng_nomodcheck\nset norefvalue\n"
         "set ngbehavior=hsa\n";
  const auto cm = library_dir() / "ngspice";
  for (const char* model : {"spice2poly", "analog", "digital", "xtradev", "xtraevt", "table"}) {
    const auto file = cm / (std::string(model) + ".cm");
    if (std::filesystem::exists(file)) out << "codemodel " << file.string() << "\n";
  }
  return dir;
}

// Sets an environment variable for the lifetime of the object, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

bool Session::Impl::command(const std::string& cmd) {
  CLocale c;
  std::string buf = cmd;
  ngSpice_Command(buf.data());
  return !dead;
}

std::vector<std::string> Session::Impl::failures(size_t from) const {
  std::vector<std::string> out;
  for (size_t i = from; i < lines.size(); ++i)
    if (is_failure(lines[i])) out.push_back(lines[i]);
  return out;
}

std::vector<std::string> Session::Impl::warnings(size_t from) const {
  std::vector<std::string> out;
  for (size_t i = from; i < lines.size(); ++i)
    if (lower(lines[i]).find("warning") != std::string::npos && !is_failure(lines[i]))
      out.push_back(lines[i]);
  return out;
}

void Session::Impl::require_usable() const {
  if (dead)
    throw SessionLost(
        "ngspice reported an unrecoverable error earlier in this process; the session refuses "
        "further work (run it in a fresh worker process)",
        {});
}

void Session::Impl::cleanup() {
  if (dead) return;
  const size_t before = lines.size();
  command("delete all");  // the lockstep run's `stop when` condition
  command("destroy all");
  if (circuit_loaded) command("remcirc");
  circuit_loaded = false;
  ngSpice_Command(nullptr);  // drops the command history, which otherwise grows
  lines.resize(before);      // cleanup chatter is not part of any run's messages
}

Session::Session() {
  if (g_created.exchange(true))
    throw Error(
        "A second ngspice session was requested in one process; libngspice can be initialised "
        "only once per process (use the worker pool for parallel or repeated isolated runs)");
  impl_ = std::make_unique<Impl>();
  impl_->scripts_dir = write_spinit();
  CLocale c;
  {
    // ngspice reads ./.spiceinit or ~/.spiceinit during init: point both at our private folder.
    ScopedEnv scripts("SPICE_SCRIPTS", impl_->scripts_dir.string());
    ScopedEnv home("HOME", impl_->scripts_dir.string());
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(impl_->scripts_dir);
    ngSpice_Init(on_char, on_stat, on_exit, on_data, on_init_data, on_bg, impl_.get());
    int ident = 0;
    ngSpice_Init_Sync(on_source, on_source, nullptr, &ident, impl_.get());
    std::filesystem::current_path(cwd);
  }
  for (const auto& line : impl_->lines) {
    const auto at = line.find("ngspice-");
    if (at != std::string::npos) {
      impl_->version = line.substr(at + 8);
      impl_->version = impl_->version.substr(0, impl_->version.find_first_of(" \t"));
      break;
    }
  }
  // Set again after init, whatever an init file did.
  for (const char* cmd : {"set num_threads=1", "set nomoremode", "set noaskquit",
                          "set ng_nomodcheck", "set norefvalue", "unset interactive"})
    impl_->command(cmd);
}

Session::~Session() {
  if (impl_) {
    impl_->cleanup();
    std::error_code ec;
    std::filesystem::remove_all(impl_->scripts_dir, ec);
  }
}

const std::string& Session::version() const {
  return impl_->version;
}
bool Session::usable() const {
  return !impl_->dead;
}
std::uint64_t Session::seed() const {
  return impl_->seed;
}
std::vector<std::string> Session::log() const {
  return impl_->lines;
}

Circuit Session::load(const std::string& netlist, std::uint64_t seed) {
  impl_->require_usable();
  impl_->cleanup();
  impl_->lines.clear();
  impl_->seed = seed;
  impl_->command("setseed " + std::to_string(seed));

  // Lines as ngspice wants them: title first, then the netlist, our abort source, .end, NULL.
  std::vector<std::string> lines;
  size_t start = 0;
  bool ended = false;
  while (start <= netlist.size()) {
    size_t end = netlist.find('\n', start);
    if (end == std::string::npos) end = netlist.size();
    std::string line = netlist.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string l = lower(line);
    l.erase(0, l.find_first_not_of(" \t"));
    if (l.rfind(".end", 0) == 0 &&
        (l.size() == 4 || std::isspace(static_cast<unsigned char>(l[4])))) {
      ended = true;
      break;
    }
    lines.push_back(line);
    start = end + 1;
  }
  if (!ended) throw SimulationError("The netlist has no .end line; ngspice would not load it", {});
  if (lines.empty()) lines.push_back("* empty");
  lines.push_back("Vbmru_abort bmru_abort 0 external");
  lines.push_back("Rbmru_abort bmru_abort 0 1meg");
  lines.push_back(".end");
  std::vector<char*> ptrs;
  for (auto& s : lines) ptrs.push_back(s.data());
  ptrs.push_back(nullptr);
  {
    CLocale c;
    ngSpice_Circ(ptrs.data());
  }
  impl_->circuit_loaded = true;
  const std::uint64_t generation = ++impl_->generation;
  if (impl_->dead)
    throw SessionLost("ngspice could not recover from this netlist", impl_->failures(0));
  if (auto bad = impl_->failures(0); !bad.empty())
    throw SimulationError("ngspice did not load the netlist cleanly", bad);
  return Circuit(*this, generation);
}

Circuit::Circuit(Circuit&& o) noexcept
    : session_(std::exchange(o.session_, nullptr)), generation_(o.generation_) {}

Circuit::~Circuit() {
  // A stale circuit (a later load replaced it) must not remove its successor.
  if (session_ && session_->impl_->generation == generation_) session_->impl_->cleanup();
}

Session::Impl& Circuit::live() const {
  if (!session_) throw Error("This circuit was moved from; use the circuit it was moved to");
  auto& impl = *session_->impl_;
  if (impl.generation != generation_)
    throw Error(
        "This circuit was replaced by a later Session::load: ngspice holds one circuit at a time; "
        "use the circuit that load returned");
  impl.require_usable();
  return impl;
}

namespace {

// Numbers for ngspice never go through the C locale (printf would write "0,001" under de_DE).
std::string tran_command(const Transient& t) {
  using core::format_number;
  return "tran " + format_number(t.step_s) + " " + format_number(t.stop_s) + " 0 " +
         format_number(t.max_step_s > 0 ? t.max_step_s : t.step_s);
}

// Sends `save` for the names, in commands under ngspice's 1023-character limit.
void save(Session::Impl& impl, const std::vector<std::string>& names) {
  std::string cmd = "save";
  for (const auto& n : names) {
    if (cmd.size() + n.size() + 1 > 900) {
      impl.command(cmd);
      cmd = "save";
    }
    cmd += " " + n;
  }
  if (cmd != "save") impl.command(cmd);
}

double last_time() {
  CLocale c;
  char name[] = "time";
  const pvector_info v = ngGet_Vec_Info(name);
  if (!v || !v->v_realdata || v->v_length <= 0) return -1;
  return v->v_realdata[v->v_length - 1];
}

std::string seconds(double t) {
  return core::format_number(t) + " s";
}

void check_transient(Session::Impl& impl, size_t from, double reached, double stop,
                     bool stopped_early) {
  if (impl.dead) throw SessionLost("ngspice could not recover during the run", impl.failures(from));
  auto bad = impl.failures(from);
  const std::string where = reached < 0 ? "before its first time point (the operating point)"
                                        : "at t = " + seconds(reached) + " of " + seconds(stop);
  if (!bad.empty())
    throw SimulationError("ngspice reported failures in the transient: it stopped " + where, bad,
                          reached, stop);
  if (!stopped_early && !(reached >= stop * (1 - 1e-9)))
    throw SimulationError(
        "The transient ended " + where + ", short of its stop time " + seconds(stop),
        impl.warnings(from), reached, stop);
}

}  // namespace

RunSummary Circuit::transient(const Transient& tran, const std::vector<std::string>& saves) {
  auto& impl = live();
  const size_t from = impl.lines.size();
  if (!saves.empty()) save(impl, saves);
  impl.command(tran_command(tran));
  RunSummary r;
  r.time_reached_s = last_time();
  check_transient(impl, from, r.time_reached_s, tran.stop_s, false);
  r.warnings = impl.warnings(from);
  return r;
}

RunSummary Circuit::lockstep(const Transient& tran, const LockstepSpec& spec,
                             LockstepHandler& handler) {
  auto& impl = live();
  spec.axis.check();
  const size_t from = impl.lines.size();
  LockstepRun run(spec, handler, tran.stop_s);
  // ngspice keeps every accepted point of a saved vector (about 18 MB per 1000 frames for the demo
  // circuit's 45 vectors); see LockstepSpec::keep_vectors for the alternative.
  std::vector<std::string> saves = spec.probes;
  saves.insert(saves.end(), spec.integrals.begin(), spec.integrals.end());
  saves.insert(saves.end(), spec.dense.begin(), spec.dense.end());
  saves.push_back("bmru_abort");
  if (spec.keep_vectors)
    save(impl, saves);
  else
    impl.command("save none");  // every vector still reaches the data callback
  impl.command("stop when bmru_abort > 0.5");
  impl.pending = nullptr;
  impl.run = &run;
  run.queue_initial_breakpoints();
  impl.command(tran_command(tran));
  impl.run = nullptr;
  if (impl.pending) std::rethrow_exception(std::exchange(impl.pending, nullptr));
  RunSummary r;
  r.time_reached_s = run.last_time();
  r.samples = run.samples();
  r.accepted_points = run.accepted();
  r.stopped_early = run.stop_requested();
  if (!run.problems().empty())
    throw SimulationError("The lockstep run could not follow the netlist", run.problems(),
                          r.time_reached_s, tran.stop_s);
  check_transient(impl, from, r.time_reached_s, tran.stop_s, r.stopped_early);
  if (!r.stopped_early && r.samples < spec.frames)
    throw SimulationError("The transient sampled " + std::to_string(r.samples) + " of " +
                              std::to_string(spec.frames) + " frames",
                          impl.warnings(from), r.time_reached_s, tran.stop_s);
  r.warnings = impl.warnings(from);
  return r;
}

void Circuit::analysis(const std::string& command) {
  auto& impl = live();
  const size_t from = impl.lines.size();
  impl.command(command);
  if (impl.dead)
    throw SessionLost("ngspice could not recover during '" + command + "'", impl.failures(from));
  if (auto bad = impl.failures(from); !bad.empty())
    throw SimulationError("The analysis '" + command + "' failed", bad);
}

std::vector<double> Circuit::vector(const std::string& name) const {
  auto& impl = live();
  CLocale c;
  std::string n = name;
  const size_t from = impl.lines.size();
  const pvector_info v = ngGet_Vec_Info(n.data());
  impl.lines.resize(from);
  // Unknown names fall back to ngspice's constants plot ("c" is the speed of light): refuse those.
  if (!v || !v->v_realdata ||
      (v->v_name && lower(v->v_name) != lower(name) &&
       lower(v->v_name).find(lower(name)) == std::string::npos))
    throw SimulationError("No vector '" + name + "' in the last analysis", {});
  return std::vector<double>(v->v_realdata, v->v_realdata + v->v_length);
}

std::vector<std::string> Circuit::vector_names() const {
  live();
  CLocale c;
  std::vector<std::string> out;
  char* plot = ngSpice_CurPlot();
  if (!plot) return out;
  char** names = ngSpice_AllVecs(plot);
  for (char** n = names; n && *n; ++n) out.push_back(lower(*n));
  return out;
}

}  // namespace bmru::spice
