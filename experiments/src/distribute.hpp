#pragma once
// Work spread over the ranks of an MPI job (issue 20), or done in this process alone.
//
// `mpirun -np N bmru sweep|evaluate ...` starts N copies of the command. Each rank runs the items
// (sweep runs, evaluation chunks) it is given with its own worker processes; rank 0 hands them out
// one at a time as ranks ask (runs differ in length), works on its own share in a thread beside
// its dispatcher, and alone commits results (it holds the journal's lock; other ranks send theirs
// to it). Worker processes never initialise MPI: only the sweep and evaluate commands do, and only
// when launched with more than one rank. Without MPI in the build, or outside mpirun/srun, the
// world is this process and `distribute` runs every item here, in order.
#include <functional>
#include <string>
#include <vector>

namespace bmru::experiments {

class MpiWorld {
 public:
  // Initialises MPI when `join` and this process is one of several ranks (the launcher's
  // environment says so) and the build has MPI; otherwise a world of one (MpiWorld(false): the
  // evaluations inside a sweep's runs, say, which their rank runs alone).
  explicit MpiWorld(bool join = true);
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }

 private:
  int rank_ = 0, size_ = 1;
  bool initialised_ = false;
};

// True when the build has MPI (the `mpi` tests skip otherwise).
bool mpi_built();

// Runs work(payload) for every payload across the world. On rank 0, commit(index, result) runs on
// the calling thread for every item, in the order they finish, and the call returns when all are
// committed; other ranks are given payloads until none is left and never commit. Idle ranks sleep
// between polls instead of spinning. `work` must not throw (a failure is part of its result).
void distribute(const MpiWorld& world, const std::vector<std::string>& payloads,
                const std::function<std::string(const std::string&)>& work,
                const std::function<void(size_t, const std::string&)>& commit);

}  // namespace bmru::experiments
