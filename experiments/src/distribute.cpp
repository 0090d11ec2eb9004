#include "distribute.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "core/errors.hpp"

#ifdef BMRU_WITH_MPI
// The C API only (Open MPI's mpi.h would pull in its deprecated C++ bindings otherwise).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace bmru::experiments {
namespace {

// The launcher's world size, from the environment of Open MPI, PMIx or Slurm's PMI.
int launched_size() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return 1;
}

}  // namespace

bool mpi_built() {
#ifdef BMRU_WITH_MPI
  return true;
#else
  return false;
#endif
}

MpiWorld::MpiWorld(bool join) {
  if (!join || launched_size() <= 1) return;
#ifdef BMRU_WITH_MPI
  int provided = 0;
  // Only the calling thread makes MPI calls (rank 0's own work runs in a thread without MPI).
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
#else
  throw InputError(
      "This bmru was built without MPI, but it was started as one of " +
      std::to_string(launched_size()) +
      " ranks: install libopenmpi-dev (scripts/setup.sh does) and rebuild, or run it without "
      "mpirun");
#endif
}

MpiWorld::~MpiWorld() {
#ifdef BMRU_WITH_MPI
  if (initialised_) MPI_Finalize();
#endif
}

#ifdef BMRU_WITH_MPI
namespace {

enum Tag : int { kRequest = 1, kAssign = 2, kResult = 3 };
constexpr auto kPoll = std::chrono::milliseconds(5);

void send_text(const std::string& s, int to, int tag) {
  MPI_Send(s.data(), static_cast<int>(s.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

std::string receive_text(int from, int tag, MPI_Status* status = nullptr) {
  MPI_Status st;
  // Waits without spinning: probe, sleep, probe (Open MPI's blocking calls poll at full speed).
  for (int flag = 0;;) {
    MPI_Iprobe(from, tag, MPI_COMM_WORLD, &flag, &st);
    if (flag) break;
    std::this_thread::sleep_for(kPoll);
  }
  int n = 0;
  MPI_Get_count(&st, MPI_CHAR, &n);
  std::string s(static_cast<size_t>(n), '\0');
  MPI_Recv(s.data(), n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (status) *status = st;
  return s;
}

// Other ranks: ask, work, send the result back (its item index first), until told to stop.
void serve(const std::function<std::string(const std::string&)>& work) {
  for (;;) {
    send_text("", 0, kRequest);
    const std::string assignment = receive_text(0, kAssign);
    if (assignment.empty()) return;  // nothing left
    const auto bar = assignment.find('\n');
    const std::string index = assignment.substr(0, bar);
    send_text(index + "\n" + work(assignment.substr(bar + 1)), 0, kResult);
  }
}

}  // namespace
#endif

void distribute(const MpiWorld& world, const std::vector<std::string>& payloads,
                const std::function<std::string(const std::string&)>& work,
                const std::function<void(size_t, const std::string&)>& commit) {
  if (world.size() == 1) {
    for (size_t i = 0; i < payloads.size(); ++i) commit(i, work(payloads[i]));
    return;
  }
#ifdef BMRU_WITH_MPI
  if (!world.root()) {
    serve(work);
    return;
  }
  std::mutex m;
  std::deque<size_t> queue;
  for (size_t i = 0; i < payloads.size(); ++i) queue.push_back(i);
  std::deque<std::pair<size_t, std::string>> local_done;
  const auto next = [&]() -> std::optional<size_t> {
    const std::lock_guard<std::mutex> lock(m);
    if (queue.empty()) return std::nullopt;
    const size_t i = queue.front();
    queue.pop_front();
    return i;
  };
  // Rank 0's own share, in a thread: no MPI calls there.
  std::thread own([&] {
    while (const auto i = next()) {
      std::string r = work(payloads[*i]);
      const std::lock_guard<std::mutex> lock(m);
      local_done.emplace_back(*i, std::move(r));
    }
  });
  size_t committed = 0;
  int stopped = 0;
  while (committed < payloads.size() || stopped < world.size() - 1) {
    bool busy = false;
    MPI_Status st;
    int flag = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (flag) {
      busy = true;
      const std::string text = receive_text(st.MPI_SOURCE, st.MPI_TAG);
      if (st.MPI_TAG == kRequest) {
        if (const auto i = next()) {
          send_text(std::to_string(*i) + "\n" + payloads[*i], st.MPI_SOURCE, kAssign);
        } else {
          send_text("", st.MPI_SOURCE, kAssign);
          ++stopped;
        }
      } else if (st.MPI_TAG == kResult) {
        const auto bar = text.find('\n');
        commit(std::stoul(text.substr(0, bar)), text.substr(bar + 1));
        ++committed;
      }
    }
    std::deque<std::pair<size_t, std::string>> mine;
    {
      const std::lock_guard<std::mutex> lock(m);
      mine.swap(local_done);
    }
    for (auto& [i, r] : mine) {
      commit(i, r);
      ++committed;
      busy = true;
    }
    if (!busy) std::this_thread::sleep_for(kPoll);
  }
  own.join();
#endif
}

}  // namespace bmru::experiments
