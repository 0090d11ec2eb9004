#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/errors.hpp"

namespace bmru::core {

void sync_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw FileError(file.string(), "",
                    std::string("could not be reopened to sync it: ") + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0)
    throw FileError(
        file.string(), "",
        std::string("could not be synced to the disk (") + std::strerror(err) + "; disk full?)");
}

void publish(const std::filesystem::path& part, const std::filesystem::path& out) {
  sync_file(part);
  std::error_code ec;
  std::filesystem::rename(part, out, ec);
  if (ec)
    throw FileError(out.string(), "",
                    "could not be moved into place from '" + part.string() + "': " + ec.message());
  const auto dir = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);  // best effort: the rename is done either way
    ::close(fd);
  }
}

void require_space(const std::filesystem::path& file, double bytes) {
  const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  double room = std::numeric_limits<double>::infinity();
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) == 0)
    room = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    room = std::min(room, static_cast<double>(limit.rlim_cur));
  if (bytes > room) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "needs about %.3g MB but only %.3g MB can be written there (disk full?)",
                  bytes / 1e6, room / 1e6);
    throw FileError(file.string(), "", text);
  }
}

void write_text_atomically(const std::filesystem::path& path, const std::string& text,
                           const std::string& suffix) {
  const std::filesystem::path tmp = path.string() + suffix;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f)
      throw FileError(tmp.string(), "", "could not be created (check the folder and permissions)");
    f << text;
    f.flush();
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);  // the partial file; `path` itself is untouched
      throw FileError(tmp.string(), "", "could not be written (disk full?)");
    }
  }
  publish(tmp, path);
}

}  // namespace bmru::core
