#pragma once
// Framing on the pipes between the pool and its workers: [type:1][length:8][bytes], little-endian
// host order (both ends are the same binary on the same machine).
#include <cstdint>
#include <string>

namespace bmru::spice::wire {

inline constexpr int kJobsFd = 3;      // in the worker: jobs from the parent
inline constexpr int kMessagesFd = 4;  // in the worker: messages to the parent

enum Type : char {
  job = 'J',      // parent -> worker: payload = [kind length:8][kind][payload]
  message = 'M',  // worker -> parent: one message of the running job
  done = 'D',     // the job succeeded
  failed = 'F',   // the job failed; payload = error text
  lost = 'L',     // the job failed and the worker exits (its ngspice is unusable, or it retires)
  retired = 'R',  // the job succeeded and the worker exits (it retires)
};

// Blocking writes and reads of whole frames; false on EOF or error.
bool write_frame(int fd, Type type, const std::string& payload);
bool read_frame(int fd, Type& type, std::string& payload);

// Incremental parsing for the parent's non-blocking reads.
class Reader {
 public:
  void feed(const char* data, size_t n) { buffer_.append(data, n); }
  bool next(Type& type, std::string& payload);

 private:
  std::string buffer_;
};

}  // namespace bmru::spice::wire
