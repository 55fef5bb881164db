#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <stdexcept>
#include <string>

namespace cogent::detail::test {

struct ChildResult {
  int status = 0;            // as filled in by waitpid
  std::string error_output;  // everything the child wrote to fd 2
};

inline constexpr int kChildThrew = 99;

// Runs `body` in a forked child whose stderr is captured and whose fault signals have their default
// disposition; the child exits with 0 if `body` returns and kChildThrew if it throws.
inline ChildResult run_in_child(const std::function<void()>& body) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    throw std::runtime_error("pipe failed");
  }
  const pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[1]);
    // The test framework's crash handlers would report the child's deliberate faults as failures.
    for (int signal : {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE}) {
      std::signal(signal, SIG_DFL);
    }
    try {
      body();
    } catch (...) {
      _exit(kChildThrew);
    }
    _exit(0);
  }
  close(pipe_fds[1]);
  ChildResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(pipe_fds[0], buffer, sizeof buffer);
    if (got > 0) {
      result.error_output.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(pipe_fds[0]);
  while (waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

}  // namespace cogent::detail::test
