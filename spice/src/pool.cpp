#include "spice/pool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <optional>
#include <thread>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "wire.hpp"

extern char** environ;

namespace bmru::spice {
namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  pid_t pid = -1;
  int to = -1;    // jobs, parent -> worker
  int from = -1;  // messages, worker -> parent
  int err = -1;   // the worker's stdout and stderr
  wire::Reader reader;
  std::string err_tail;
  long job = -1;
  bool from_open = true;
  bool err_open = true;
  Clock::time_point started, deadline;
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "the worker process was killed by signal " + std::to_string(sig) + " (" +
           (strsignal(sig) ? strsignal(sig) : "?") + ")";
  }
  if (WIFEXITED(status))
    return "the worker process exited with code " + std::to_string(WEXITSTATUS(status));
  return "the worker process ended";
}

// The last lines the worker printed (crash messages, ngspice complaints), for error texts.
std::string tail(const Worker& w) {
  if (w.err_tail.empty()) return "";
  std::string t = w.err_tail;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  const size_t keep = 1500;
  if (t.size() > keep) t = "..." + t.substr(t.size() - keep);
  return "\n  worker output:\n    " + t;
}

}  // namespace

struct WorkerPool::Impl {
  std::filesystem::path binary;
  int max_workers = 1;
  std::vector<std::unique_ptr<Worker>> workers;

  std::unique_ptr<Worker> spawn() {
    int jobs[2], msgs[2], errs[2];
    if (pipe2(jobs, O_CLOEXEC) || pipe2(msgs, O_CLOEXEC) || pipe2(errs, O_CLOEXEC))
      throw Error("Could not create pipes for a worker process: " + std::string(strerror(errno)));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, jobs[0], wire::kJobsFd);
    posix_spawn_file_actions_adddup2(&fa, msgs[1], wire::kMessagesFd);
    posix_spawn_file_actions_adddup2(&fa, errs[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, errs[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    const std::string path = binary.string();
    std::string arg0 = path, arg1 = "worker";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    auto w = std::make_unique<Worker>();
    const int rc = posix_spawn(&w->pid, path.c_str(), &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(jobs[0]);
    ::close(msgs[1]);
    ::close(errs[1]);
    if (rc != 0) {
      ::close(jobs[1]);
      ::close(msgs[0]);
      ::close(errs[0]);
      throw Error("Could not start the worker '" + path + " worker': " + strerror(rc));
    }
    w->to = jobs[1];
    w->from = msgs[0];
    w->err = errs[0];
    fcntl(w->from, F_SETFL, O_NONBLOCK);
    fcntl(w->err, F_SETFL, O_NONBLOCK);
    return w;
  }

  // Ends a worker for good and returns how it ended.
  std::string reap(Worker& w, bool kill_it) {
    if (kill_it && w.pid > 0) ::kill(w.pid, SIGKILL);
    close_fd(w.to);
    drain(w);
    int status = 0;
    if (w.pid > 0) waitpid(w.pid, &status, 0);
    w.pid = -1;
    close_fd(w.from);
    close_fd(w.err);
    return describe_status(status);
  }

  void drain(Worker& w) {
    char buf[4096];
    while (w.err >= 0) {
      const ssize_t n = ::read(w.err, buf, sizeof buf);
      if (n <= 0) break;
      w.err_tail.append(buf, static_cast<size_t>(n));
      if (w.err_tail.size() > 4096) w.err_tail.erase(0, w.err_tail.size() - 4096);
    }
  }

  void shutdown() {
    for (auto& w : workers) close_fd(w->to);  // a worker exits when its job channel closes
    const auto until = Clock::now() + std::chrono::seconds(2);
    for (auto& w : workers) {
      int status = 0;
      while (w->pid > 0 && waitpid(w->pid, &status, WNOHANG) == 0 && Clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (w->pid > 0 && waitpid(w->pid, &status, WNOHANG) == 0) {
        ::kill(w->pid, SIGKILL);
        waitpid(w->pid, &status, 0);
      }
      w->pid = -1;
      close_fd(w->from);
      close_fd(w->err);
    }
    workers.clear();
  }
};

WorkerPool::WorkerPool(std::filesystem::path binary, int workers)
    : impl_(std::make_unique<Impl>()) {
  // A worker that dies while we write its job must not kill us with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  impl_->binary = std::move(binary);
  if (!std::filesystem::exists(impl_->binary))
    throw Error("The worker binary '" + impl_->binary.string() + "' does not exist");
  impl_->max_workers =
      workers > 0 ? workers : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

WorkerPool::~WorkerPool() {
  impl_->shutdown();
}

int WorkerPool::workers() const {
  return impl_->max_workers;
}

namespace {

// One call of WorkerPool::run: the queue of jobs, their outcomes, and the steps of its loop.
class Dispatch {
 public:
  Dispatch(WorkerPool::Impl& p, const std::vector<Job>& jobs,
           const WorkerPool::MessageFn& on_message, const WorkerPool::DoneFn& on_done)
      : p_(p),
        jobs_(jobs),
        on_message_(on_message),
        on_done_(on_done),
        out_(jobs.size()),
        handoff_failures_(jobs.size(), 0) {
    for (size_t i = 0; i < jobs.size(); ++i) pending_.push_back(i);
  }

  std::vector<JobOutcome> run() {
    while (finished_ < jobs_.size()) {
      hand_out();
      remove_dead();
      poll_workers();
      time_out();
      remove_dead();
    }
    return std::move(out_);
  }

 private:
  void finish(Worker& w, bool ok, std::string error) {
    JobOutcome& o = out_[static_cast<size_t>(w.job)];
    o.ok = ok;
    o.error = std::move(error);
    o.wall_s = std::chrono::duration<double>(Clock::now() - w.started).count();
    const auto j = static_cast<size_t>(w.job);
    w.job = -1;
    ++finished_;
    if (on_done_) on_done_(j, o);
  }
  void remove_dead() {
    p_.workers.erase(std::remove_if(p_.workers.begin(), p_.workers.end(),
                                    [](const auto& w) { return w->pid < 0; }),
                     p_.workers.end());
  }

  // Hands pending jobs to idle workers, starting new ones up to the limit.
  void hand_out() {
    for (size_t i = 0; !pending_.empty() && i <= p_.workers.size(); ++i) {
      if (i == p_.workers.size()) {
        if (static_cast<int>(p_.workers.size()) >= p_.max_workers) break;
        p_.workers.push_back(p_.spawn());
      }
      Worker& w = *p_.workers[i];
      if (w.job >= 0) continue;
      const size_t j = pending_.front();
      pending_.pop_front();
      std::string frame(8, '\0');
      const std::uint64_t n = jobs_[j].kind.size();
      std::memcpy(frame.data(), &n, 8);
      frame += jobs_[j].kind + jobs_[j].payload;
      w.job = static_cast<long>(j);
      ++out_[j].attempts;
      w.started = Clock::now();
      w.deadline = w.started + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(jobs_[j].timeout_s));
      if (!wire::write_frame(w.to, wire::job, frame)) {
        // The worker ended before taking the job: the job goes back to the queue once.
        const std::string why = p_.reap(w, true);
        if (++handoff_failures_[j] < 2) {
          pending_.push_front(j);
          w.job = -1;
        } else {
          finish(w, false, "Could not hand the job to a worker: " + why + tail(w));
        }
      }
    }
  }

  // Waits up to a second (or the nearest deadline) for output, and takes what came.
  void poll_workers() {
    std::vector<pollfd> fds;
    std::vector<std::pair<Worker*, bool>> owners;  // (worker, is message channel)
    auto wait_ms = 1000;
    const auto now = Clock::now();
    for (auto& w : p_.workers) {
      if (w->from >= 0 && w->from_open) {
        fds.push_back({w->from, POLLIN, 0});
        owners.emplace_back(w.get(), true);
      }
      if (w->err >= 0 && w->err_open) {
        fds.push_back({w->err, POLLIN, 0});
        owners.emplace_back(w.get(), false);
      }
      if (w->job >= 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(w->deadline - now).count();
        wait_ms = static_cast<int>(std::clamp<long long>(left, 0, wait_ms));
      }
    }
    if (!fds.empty()) ::poll(fds.data(), fds.size(), wait_ms);
    for (size_t f = 0; f < fds.size(); ++f) {
      if (!(fds[f].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (owners[f].second)
        read_messages(*owners[f].first);
      else
        read_output(*owners[f].first);
    }
  }

  // The worker's own stdout and stderr: the last 4 KiB are kept for error reports.
  static void read_output(Worker& w) {
    char buf[4096];
    const ssize_t n = ::read(w.err, buf, sizeof buf);
    if (n > 0) {
      w.err_tail.append(buf, static_cast<size_t>(n));
      if (w.err_tail.size() > 4096) w.err_tail.erase(0, w.err_tail.size() - 4096);
    } else if (n == 0) {
      w.err_open = false;
    }
  }

  void read_messages(Worker& w) {
    char buf[65536];
    const ssize_t n = ::read(w.from, buf, sizeof buf);
    if (n > 0) w.reader.feed(buf, static_cast<size_t>(n));
    wire::Type type;
    std::string payload;
    bool exits = false;
    while (w.reader.next(type, payload)) {
      if (w.job < 0) continue;
      const size_t j = static_cast<size_t>(w.job);
      if (type == wire::message) {
        on_message_(j, payload);
      } else if (type == wire::done || type == wire::retired) {
        finish(w, true, "");
        exits = exits || type == wire::retired;
      } else {
        finish(w, false, payload);
        exits = exits || type == wire::lost;
      }
    }
    if (n == 0 || exits) worker_ended(w);
  }

  // The worker ended (crash, exit, or lost its ngspice): its running job is retried on a fresh
  // worker if it may be, else it fails; the next job gets a fresh worker.
  void worker_ended(Worker& w) {
    const std::string why = p_.reap(w, false);
    if (w.job < 0) return;
    const auto j = static_cast<size_t>(w.job);
    if (out_[j].attempts <= jobs_[j].retries_on_worker_death) {
      out_[j].retried_after = "its worker died: " + why;
      pending_.push_front(j);
      w.job = -1;
      return;
    }
    finish(w, false,
           "The job's worker died: " + why + tail(w) +
               (out_[j].retried_after.empty() ? ""
                                              : " (a second time; the first run was lost because " +
                                                    out_[j].retried_after + ")"));
  }

  void time_out() {
    for (auto& w : p_.workers)
      if (w->pid > 0 && w->job >= 0 && Clock::now() >= w->deadline) {
        p_.reap(*w, true);
        finish(*w, false,
               "The job timed out after " +
                   core::format_number(jobs_[static_cast<size_t>(w->job)].timeout_s) +
                   " s and its worker was killed");
      }
  }

  WorkerPool::Impl& p_;
  const std::vector<Job>& jobs_;
  const WorkerPool::MessageFn& on_message_;
  const WorkerPool::DoneFn& on_done_;
  std::vector<JobOutcome> out_;
  std::deque<size_t> pending_;
  size_t finished_ = 0;
  std::vector<int> handoff_failures_;
};

}  // namespace

std::vector<JobOutcome> WorkerPool::run(const std::vector<Job>& jobs, const MessageFn& on_message,
                                        const DoneFn& on_done) {
  return Dispatch(*impl_, jobs, on_message, on_done).run();
}

}  // namespace bmru::spice
