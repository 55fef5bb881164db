// popen() and pclose() for greenlets. glibc's popen stream reads, writes and waits for its child
// through internal aliases the shim cannot interpose, so a cooperative popen() builds the stream
// itself: glibc's algorithm (libio/iopopen.c, 2.36) for the pipe and the child, and a stdio
// stream made with fopencookie() whose functions wait cooperatively:
// - modes "r" and "w", optionally with "e" (close-on-exec on the parent's end); anything else is
//   EINVAL, as is "rw". The child is `sh -c COMMAND` (posix_spawn of /bin/sh) with the pipe's
//   other end on its stdin or stdout; the streams of earlier popen() calls still open are closed
//   in it, as POSIX requires. A child that cannot be started is ENOMEM, as in glibc;
// - reading and writing wait for the pipe cooperatively, then make the real call (writes at most
//   PIPE_BUF bytes at a time, which a writable pipe always takes without blocking); a descriptor
//   the program made non-blocking itself (fcntl on fileno()) is not waited for, so it still gets
//   EAGAIN. A signal handler interrupts the wait as it interrupts read and write: EINTR (a
//   stream error) unless it has SA_RESTART. The stream's buffer has the size glibc gives a pipe
//   (its st_blksize), fileno() is the pipe, fseek/ftell fail with ESPIPE;
// - pclose(), and fclose() on such a stream, close the pipe and wait for the child
//   cooperatively; the result is the child's wait status (pclose of `exit 5` is 5 << 8), -1 when
//   the wait failed. pclose needs no interposer of its own: glibc's pclose is fclose, which
//   calls the stream's close function (stream_close below) and returns its result.
//
// What differs: the stream's lock, like every stdio lock, belongs to the OS thread, which all
// greenlets share, so two threads using one popen stream at the same moment are not kept apart
// by it while one of them waits for the pipe. A greenlet killed while it waits in a read, a
// write or pclose() (the hub winding down at exit, pthread_cancel) unwinds through libc's stdio
// as a cancellation does (libio runs its unlock cleanups); in pclose() the child is then left
// unreaped, where glibc waits with cancellation disabled. Streams opened by a non-cooperative
// popen() (libc's) are not closed in the children of cooperative ones, and the other way round.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <system_error>

#include "cogent/detail/core.hpp"
#include "cogent/detail/io_operation.hpp"
#include "cogent/error.hpp"
#include "cogent/wait_fd.hpp"
#include "shim/cooperative.hpp"
#include "shim/interrupt.hpp"
#include "shim/real.hpp"
#include "shim/stuck.hpp"

extern char** environ;

namespace cogent::shim {
namespace {

// One cooperative popen() stream: the cookie of its FILE.
struct ProcStream {
  int fd = -1;     // the parent's end of the pipe; -1 until the child runs
  pid_t pid = -1;  // the child
  char* buffer = nullptr;
  ProcStream* next = nullptr;  // the open streams, for closing them in later children
};

// The streams still open. Locked because a stream may be closed on any thread.
std::mutex chain_mutex;
ProcStream* chain = nullptr;

bool unlink_stream(ProcStream* s) {
  std::lock_guard lock(chain_mutex);
  for (ProcStream** p = &chain; *p != nullptr; p = &(*p)->next) {
    if (*p == s) {
      *p = s->next;
      return true;
    }
  }
  return false;
}

enum class Wait { kReady, kError };

// Waits for the pipe to be ready for `events`, unless the program made it non-blocking (then it
// gets EAGAIN from the real call, as natively). errno is left as it was, except for kError: a
// signal handler without SA_RESTART interrupts the wait as it interrupts read and write (EINTR).
Wait wait_for_pipe(int fd, short events) {
  if (!cooperative()) return Wait::kReady;
  const int saved_errno = errno;
  if (const int flags = COGENT_REAL(fcntl)(fd, F_GETFL); flags < 0 || (flags & O_NONBLOCK)) {
    errno = saved_errno;
    return Wait::kReady;
  }
  try {
    RuntimeScope scope;
    InterruptibleCall call(Restart::kUnderSaRestart);
    for (;;) {
      const WaitEnd end = call.run([&] {
        detail::wait_fd(fd, events, TimePoint::max(), events == POLLIN ? "read" : "write");
      });
      if (end == WaitEnd::kDone) break;
      if (end == WaitEnd::kInterrupted) {
        errno = EINTR;
        return Wait::kError;
      }
    }
  } catch (const std::system_error& e) {
    errno = e.code().value();
    return Wait::kError;
  } catch (const LoopExit& e) {
    die_stuck(e);
  }
  errno = saved_errno;
  return Wait::kReady;
}

ssize_t stream_read(void* cookie, char* buf, size_t size) {
  const int fd = static_cast<ProcStream*>(cookie)->fd;
  if (wait_for_pipe(fd, POLLIN) == Wait::kError) return -1;
  return COGENT_REAL(read)(fd, buf, size);
}

// As glibc writes a stream's buffer: all of it unless an error stops it; the count written.
ssize_t stream_write(void* cookie, const char* buf, size_t size) {
  const int fd = static_cast<ProcStream*>(cookie)->fd;
  const bool in_pieces = cooperative();
  size_t done = 0;
  while (done < size) {
    if (wait_for_pipe(fd, POLLOUT) == Wait::kError) break;
    const size_t piece = in_pieces ? std::min<size_t>(size - done, PIPE_BUF) : size - done;
    const ssize_t n = COGENT_REAL(write)(fd, buf + done, piece);
    if (n < 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

int stream_seek(void* cookie, off64_t* offset, int whence) {
  const off64_t at = ::lseek64(static_cast<ProcStream*>(cookie)->fd, *offset, whence);
  if (at < 0) return -1;
  *offset = at;
  return 0;
}

// glibc's _IO_new_proc_close: the stream's close function, run by fclose (and so by pclose).
int stream_close(void* cookie) {
  auto* s = static_cast<ProcStream*>(cookie);
  const bool linked = unlink_stream(s);
  const int fd = s->fd;
  const pid_t pid = s->pid;
  // glibc no longer reads the buffer: it only forgets it, after this returns.
  free(s->buffer);
  delete s;
  if (fd < 0) return 0;  // popen() failed before the child ran
  if (!linked) return -1;
  int rc;
  {
    RuntimeScope scope;
    rc = detail::close_fd(fd);
  }
  if (rc < 0) {
    errno = -rc;
    return -1;
  }
  int status;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &status, 0);  // the shim's: cooperative
  } while (waited == -1 && errno == EINTR);
  return waited == -1 ? -1 : status;
}

const cookie_io_functions_t kStreamFunctions = {stream_read, stream_write, stream_seek,
                                                stream_close};

// glibc's spawn_process(): the child with the pipe's end on `child_fd`, the other popen streams
// closed. Called with chain_mutex held.
int spawn_shell(const char* command, int child_end, int child_fd, pid_t& pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int rc = 0;
  if (child_end != child_fd) rc = posix_spawn_file_actions_adddup2(&actions, child_end, child_fd);
  // A stream of an earlier call that is on child_fd was closed by the dup2 already.
  for (ProcStream* p = chain; p != nullptr && rc == 0; p = p->next) {
    if (p->fd != child_fd) rc = posix_spawn_file_actions_addclose(&actions, p->fd);
  }
  if (rc == 0) {
    char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                          const_cast<char*>(command), nullptr};
    rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, environ);
  }
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

// The buffer glibc would give the stream: st_blksize of the pipe, at most BUFSIZ.
void set_buffer(FILE* file, ProcStream* s) {
  struct stat st;
  std::size_t size = BUFSIZ;
  if (::fstat(s->fd, &st) == 0 && st.st_blksize > 0 && st.st_blksize < BUFSIZ) {
    size = static_cast<std::size_t>(st.st_blksize);
  }
  s->buffer = static_cast<char*>(malloc(size));
  if (s->buffer != nullptr) setvbuf(file, s->buffer, _IOFBF, size);
}

FILE* open_stream(const char* command, const char* mode) {
  bool read = false;
  bool write = false;
  bool cloexec = false;
  for (const char* m = mode; *m != '\0'; ++m) {
    switch (*m) {
      case 'r':
        read = true;
        break;
      case 'w':
        write = true;
        break;
      case 'e':
        cloexec = true;
        break;
      default:
        errno = EINVAL;
        return nullptr;
    }
  }
  if (read == write) {
    errno = EINVAL;
    return nullptr;
  }

  auto* s = new (std::nothrow) ProcStream;
  if (s == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  FILE* file = fopencookie(s, read ? "r" : "w", kStreamFunctions);
  if (file == nullptr) {
    delete s;
    return nullptr;
  }
  // Close-on-exec on both ends at first, so that no concurrent fork leaks them; the child's end
  // loses it in the child through the dup2, the parent's unless "e" was asked for.
  int fds[2];
  if (COGENT_REAL(pipe2)(fds, O_CLOEXEC) < 0) {
    const int error = errno;
    COGENT_REAL(fclose)(file);
    errno = error;
    return nullptr;
  }
  const int parent_end = read ? 0 : 1;
  const int child_end = read ? 1 : 0;
  const int child_fd = read ? STDOUT_FILENO : STDIN_FILENO;
  bool ok = true;
  // The child's end must not already be the descriptor the child uses: nothing could then take
  // its close-on-exec flag off in the child without a race in the parent.
  if (fds[child_end] == child_fd) {
    const int moved = COGENT_REAL(fcntl)(child_fd, F_DUPFD_CLOEXEC, 0);
    if (moved >= 0) {
      COGENT_REAL(close)(fds[child_end]);
      fds[child_end] = moved;
    }
    ok = moved >= 0;
  }
  if (ok) {
    std::lock_guard lock(chain_mutex);
    pid_t pid = -1;
    ok = spawn_shell(command, fds[child_end], child_fd, pid) == 0;
    if (ok) {
      COGENT_REAL(close)(fds[child_end]);
      if (!cloexec) COGENT_REAL(fcntl)(fds[parent_end], F_SETFD, 0);
      s->fd = fds[parent_end];
      s->pid = pid;
      file->_fileno = s->fd;  // fileno() is the pipe, as for glibc's popen streams
      s->next = chain;
      chain = s;
    }
  }
  if (!ok) {
    COGENT_REAL(close)(fds[child_end]);
    COGENT_REAL(close)(fds[parent_end]);
    COGENT_REAL(fclose)(file);
    errno = ENOMEM;
    return nullptr;
  }
  set_buffer(file, s);
  return file;
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

FILE* popen(const char* command, const char* mode) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(popen)(command, mode);
  return cogent::shim::open_stream(command, mode);
}

}  // extern "C"
