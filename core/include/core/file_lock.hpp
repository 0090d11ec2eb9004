#pragma once
// An exclusive advisory lock (flock) on a lock file, so that two processes never write one output
// or one sweep journal at once (issue 15). The holder's pid is written into the file so that a
// refused process can name it. Released (and, if asked, removed) when the object dies; the kernel
// releases it when the process dies, even by SIGKILL.
#include <filesystem>
#include <string>

namespace bmru::core {

class FileLock {
 public:
  // Takes the lock without waiting. `what` names the thing guarded for the message ("the journal
  // 'run.h5.runs'"). Throws InputError naming the holding process when another one holds it, and
  // FileError when the lock file cannot be created.
  FileLock(std::filesystem::path lock_file, const std::string& what, bool remove_on_release);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool remove_ = false;
};

}  // namespace bmru::core
