// When an interposed call may suspend its caller instead of blocking the thread.
//
// A call cooperates only when all of these hold:
// - the shim is in green-threads mode (COGENT_THREADS unset or "green"; "native" keeps OS
//   threads and every call passes straight through),
// - the calling thread is the shim's hub thread (the thread that first ran a cooperative call,
//   normally the program's main thread; the runtime's own ThreadPool threads never cooperate),
// - a greenlet is running (not the hub itself: a link callback or posted function),
// - the call does not come from inside the runtime: while the shim runs runtime code on behalf
//   of the program (inside a RuntimeScope), the libc calls that code makes (read on an eventfd,
//   epoll_wait in libev, pthread_create for a ThreadPool thread...) go straight to libc.
//
// The "inside the runtime" mark is per greenlet: every greenlet that is switched away is inside
// a RuntimeScope (the switch happens in runtime code), so one thread-local depth that each
// greenlet's entry trampoline resets to zero (enter_program()) and restores on its way out stays
// right across switches. A scope restores the depth it found rather than decrementing, so a
// greenlet resumed after a switch gets its own depth back whatever the others left.
//
//   if (!cogent::shim::cooperative()) return COGENT_REAL(usleep)(usec);
//   cogent::shim::RuntimeScope scope;
//   cogent::sleep(std::chrono::microseconds(usec));
#pragma once

namespace cogent::shim {

/// See above. Cheap: a few thread-local reads.
bool cooperative() noexcept;

/// Marks the current greenlet as running runtime code until the scope ends (nestable).
class RuntimeScope {
 public:
  RuntimeScope() noexcept;
  ~RuntimeScope();
  RuntimeScope(const RuntimeScope&) = delete;
  RuntimeScope& operator=(const RuntimeScope&) = delete;

 private:
  int saved_depth_;
};

/// For a greenlet's entry trampoline: the program's code runs from here (depth 0), until the
/// returned depth is given back to leave_program() before the trampoline returns to the runtime.
int enter_program() noexcept;
void leave_program(int saved_depth) noexcept;

/// The calling greenlet runs runtime code (inside a RuntimeScope): its libc calls are the
/// runtime's own, not the program's.
bool inside_runtime() noexcept;

/// The shim's mode, read once from COGENT_THREADS ("green", the default, or "native").
bool green_threads() noexcept;

}  // namespace cogent::shim
