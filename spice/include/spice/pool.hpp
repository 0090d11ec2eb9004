#pragma once
// Isolation: a pool of worker processes of our own binary (fork+exec of `<binary> worker`). Each
// worker owns at most one ngspice session. A job is an opaque request (a kind and a payload of
// bytes) handled by a function the caller registers in the worker; the worker streams messages back
// and the parent (which alone writes files) receives them in order. A job whose netlist makes
// ngspice crash, exit, hang past its timeout or report errors fails alone, with the error text, and
// its worker is replaced.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bmru::spice {

class Session;

struct Job {
  std::string kind;
  std::string payload;
  double timeout_s = 120;
  // Times the job is run again on a fresh worker when its worker dies under it (killed, crashed:
  // not a failure the handler reports, not a timeout). The messages of the new run arrive from the
  // start again: the receiver must recognise what it already has.
  int retries_on_worker_death = 0;
};

struct JobOutcome {
  bool ok = false;
  std::string error;  // why it failed: the handler's message, a signal, a timeout
  double wall_s = 0;
  int attempts = 0;           // runs started (1 unless retried)
  std::string retried_after;  // why the first run was lost, when the job was retried
};

// A generous default timeout for a transient of `simulated_s` seconds: 60 s plus 120 s of wall time
// per simulated second (the keyword-spotting network runs at about 9 s per simulated second).
inline double default_timeout_s(double simulated_s) {
  return 60.0 + 120.0 * simulated_s;
}

class WorkerPool {
 public:
  // `workers` = 0 uses the number of cores. Workers start on demand.
  explicit WorkerPool(std::filesystem::path binary, int workers = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs every job and returns their outcomes in order. `on_message(job, bytes)` is called on this
  // thread for each message a job sends, in the order it sent them.
  // `on_done(job, outcome)`, when given, is called (on this thread) as each job ends for good.
  using MessageFn = std::function<void(size_t job, const std::string& message)>;
  using DoneFn = std::function<void(size_t job, const JobOutcome& outcome)>;
  std::vector<JobOutcome> run(const std::vector<Job>& jobs, const MessageFn& on_message,
                              const DoneFn& on_done = {});

  int workers() const;

  struct Impl;  // the workers and how to start and end them (opaque outside pool.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

// ---- inside the worker process ----

// What a handler can do: send messages to the parent and use the worker's ngspice session.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual void send(const std::string& message) = 0;
  // The worker's session, created on first use.
  virtual Session& session() = 0;
  // The worker exits after this job (the pool starts a fresh one for the next): for jobs that leave
  // process-wide state behind in ngspice.
  virtual void retire() = 0;
};

// Throws to fail the job; the message becomes JobOutcome::error.
using JobHandler = std::function<void(const std::string& payload, JobContext& context)>;

// The worker's main loop: reads jobs from the parent until it closes the channel. Returns the exit
// code. After ngspice's ControlledExit the worker finishes the job as failed and exits.
int worker_main(const std::map<std::string, JobHandler>& handlers);

}  // namespace bmru::spice
