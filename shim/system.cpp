// system() for greenlets. glibc's system() waits for the shell through an internal alias of
// waitpid that the shim cannot interpose, so a cooperative call runs glibc's own algorithm
// (sysdeps/posix/system.c, 2.36) again, waiting through the shim's waitpid:
// - SIGINT and SIGQUIT are ignored and SIGCHLD is blocked in the caller while it waits, as POSIX
//   asks; the shell gets the caller's signal mask, and SIGINT/SIGQUIT back at their defaults
//   unless the caller ignored them;
// - the shell is posix_spawn()ed as `sh -c LINE` from /bin/sh with the caller's environment; the
//   status is waitpid's (127 << 8 from a shell that could not find the command), -1 when the
//   wait failed, and 127 << 8 with errno set to posix_spawn's error when no shell could start;
// - system(NULL) runs `exit 0` and answers whether that worked (nonzero: a shell exists);
// - a greenlet killed while it waits (the hub winding down at exit) kills the shell with SIGKILL
//   and reaps it, as glibc's cancellation handler does.
//
// The signal dispositions and the mask belong to the process and to the OS thread, which all
// greenlets share: the first greenlet to enter system() changes them and the last to leave puts
// them back, as glibc counts concurrent callers for the dispositions. Only the SIGCHLD bit that
// system() added is taken out again, so that mask changes other greenlets made meanwhile stay.
// While any greenlet is in system() the whole hub thread has SIGCHLD blocked (natively only the
// calling thread): a SIGCHLD handler runs when the last one returns.
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/cooperative.hpp"
#include "shim/real.hpp"

extern char** environ;

namespace cogent::shim {
namespace {

// What the first caller found and the last one restores. Hub thread only (cooperative calls).
struct SharedSignals {
  int callers = 0;
  struct sigaction intr {};
  struct sigaction quit {};
  bool chld_was_blocked = false;
};

SharedSignals& shared_signals() {
  static SharedSignals s;
  return s;
}

sigset_t only(int signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal);
  return set;
}

void enter_system() {
  SharedSignals& s = shared_signals();
  if (s.callers++ > 0) return;
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  // Through the shim's sigaction, which keeps the program's view of the dispositions: what
  // glibc's system() changes, the program sees changed, and gets back as it was.
  ::sigaction(SIGINT, &ignore, &s.intr);
  ::sigaction(SIGQUIT, &ignore, &s.quit);
  const sigset_t chld = only(SIGCHLD);
  sigset_t before;
  sigprocmask(SIG_BLOCK, &chld, &before);
  s.chld_was_blocked = sigismember(&before, SIGCHLD) == 1;
}

void leave_system() {
  SharedSignals& s = shared_signals();
  if (--s.callers > 0) return;
  ::sigaction(SIGINT, &s.intr, nullptr);
  ::sigaction(SIGQUIT, &s.quit, nullptr);
  if (!s.chld_was_blocked) {
    const sigset_t chld = only(SIGCHLD);
    sigprocmask(SIG_UNBLOCK, &chld, nullptr);
  }
}

// glibc's do_system().
int run_shell(const char* line) {
  const int saved_errno = errno;
  enter_system();
  SharedSignals& s = shared_signals();
  sigset_t mask;  // the caller's, without the SIGCHLD block system() added
  sigprocmask(SIG_BLOCK, nullptr, &mask);
  if (!s.chld_was_blocked) sigdelset(&mask, SIGCHLD);
  sigset_t reset;
  sigemptyset(&reset);
  if (s.intr.sa_handler != SIG_IGN) sigaddset(&reset, SIGINT);
  if (s.quit.sa_handler != SIG_IGN) sigaddset(&reset, SIGQUIT);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setsigdefault(&attr, &reset);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(line),
                        nullptr};
  const int spawn_error = posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);

  int status = -1;
  int final_errno = saved_errno;  // natively nothing on the way changes it when all goes well
  if (spawn_error == 0) {
    try {
      pid_t waited;
      do {
        waited = ::waitpid(pid, &status, 0);  // the shim's: cooperative
      } while (waited == -1 && errno == EINTR);
      if (waited != pid) {
        status = -1;
        final_errno = errno;
      }
    } catch (...) {
      ::kill(pid, SIGKILL);
      int ignored;
      COGENT_REAL(waitpid)(pid, &ignored, 0);
      leave_system();
      throw;
    }
  } else {
    // POSIX: a shell that cannot run is reported as if it had ended with _exit(127).
    status = W_EXITCODE(127, 0);
    final_errno = spawn_error;
  }
  leave_system();
  errno = final_errno;
  return status;
}

}  // namespace
}  // namespace cogent::shim

extern "C" int system(const char* line) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(system)(line);
  // Whether a command processor is there at all (it may not be after a chroot).
  if (line == nullptr) return cogent::shim::run_shell("exit 0") == 0;
  return cogent::shim::run_shell(line);
}
