#include "core/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "core/errors.hpp"

namespace bmru::core {
namespace {

std::string holder_of(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "another bmru process" : "another bmru process (pid " + pid + ")";
}

}  // namespace

FileLock::FileLock(std::filesystem::path lock_file, const std::string& what, bool remove_on_release)
    : path_(std::move(lock_file)), remove_(remove_on_release) {
  // A lock file removed by its last holder between our open and our flock would leave us holding
  // a lock on a file nobody else can see: retry until the locked file is the one at the path.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw FileError(path_.string(), "",
                      std::string("could not create the lock file: ") + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const std::string holder = holder_of(fd);
      ::close(fd);
      throw InputError(what + " is in use by " + holder + " (lock " + path_.string() +
                       "); wait for it to finish, or stop it, before running this again.");
    }
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &named) == 0 &&
        held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
      fd_ = fd;
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
        // The lock holds without the pid; a refused process then names no pid.
      }
      return;
    }
    ::close(fd);
  }
  throw FileError(path_.string(), "", "could not be locked (it keeps being replaced)");
}

FileLock::FileLock(FileLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), remove_(other.remove_) {}

FileLock::~FileLock() {
  if (fd_ < 0) return;
  if (remove_) ::unlink(path_.c_str());  // while still locked, so no one locks the old file
  ::close(fd_);
}

}  // namespace bmru::core
