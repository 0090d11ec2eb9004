#include "program.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"

extern char** environ;

namespace bmru::experiments {

int run_program(const ProgramRun& run) {
  if (run.argv.empty()) throw Error("run_program: no program given");
  std::vector<std::string> args = run.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  if (run.output) {
    posix_spawn_file_actions_addopen(&files, 1, run.output->c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
  if (run.cwd) posix_spawn_file_actions_addchdir_np(&files, run.cwd->c_str());
#endif
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0].c_str(), &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) throw Error("Could not start '" + args[0] + "': " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error("Lost track of '" + args[0] + "': " + std::strerror(errno));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace bmru::experiments
