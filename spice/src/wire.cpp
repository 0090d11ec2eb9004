#include "wire.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bmru::spice::wire {
namespace {

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_all(int fd, char* p, size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

bool write_frame(int fd, Type type, const std::string& payload) {
  char head[9];
  head[0] = type;
  const std::uint64_t n = payload.size();
  std::memcpy(head + 1, &n, 8);
  return write_all(fd, head, 9) && write_all(fd, payload.data(), payload.size());
}

bool read_frame(int fd, Type& type, std::string& payload) {
  char head[9];
  if (!read_all(fd, head, 9)) return false;
  type = static_cast<Type>(head[0]);
  std::uint64_t n = 0;
  std::memcpy(&n, head + 1, 8);
  payload.resize(n);
  return read_all(fd, payload.data(), n);
}

bool Reader::next(Type& type, std::string& payload) {
  if (buffer_.size() < 9) return false;
  std::uint64_t n = 0;
  std::memcpy(&n, buffer_.data() + 1, 8);
  if (buffer_.size() < 9 + n) return false;
  type = static_cast<Type>(buffer_[0]);
  payload.assign(buffer_, 9, n);
  buffer_.erase(0, 9 + n);
  return true;
}

}  // namespace bmru::spice::wire
