// fork() under the shim. Natively the child of a multithreaded process has one thread, the one
// that called fork(); under the shim it has one greenlet, the one that called it. The child's hub
// is rebuilt (Scheduler::after_fork_in_child): the other greenlets never run there, and a fresh
// io_uring ring or epoll instance with its own wake-up eventfd replaces the parent's, which are
// kernel objects shared with the parent. The runtime's ThreadPool starts afresh when next needed
// (its own fork handler). pthread_create and every cooperative call work in the child.
//
// The rebuild runs as the first fork handler of the child (registered when the library loads),
// so that the program's own pthread_atfork child handlers, which typically unlock the mutexes
// their prepare handlers took, already find the child's hub: a lock released there must not be
// handed to a greenlet that only exists in the parent.
//
// When the greenlet that forked is not the main one, the child has no main thread, as natively.
// When its thread ends (returns or calls pthread_exit) the child exits with status 0, running its
// atexit handlers, once the threads it started meanwhile have finished: glibc ends a process
// whose last thread ends that way.
//
// Not cooperative (native mode, a runtime thread, no hub yet): libc's fork, nothing rebuilt.
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

#include "cogent/error.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/hub.hpp"
#include "hub/scheduler.hpp"
#include "shim/cooperative.hpp"
#include "shim/real.hpp"

namespace cogent::shim {
namespace {

// The greenlet inside a cooperative fork(), on the hub thread; null otherwise.
[[gnu::tls_model("initial-exec")]] thread_local const detail::GreenletCore* tls_forking = nullptr;

// The body of the greenlet that ends a child whose forking thread has ended.
void exit_after_last_thread() {
  try {
    RuntimeScope scope;
    for (;;) {
      std::vector<detail::GreenletCore*> others;
      const detail::GreenletCore* self = detail::current_core();
      for (detail::GreenletCore* c = detail::current_scheduler().live().first(); c != nullptr;
           c = detail::GreenletList::next(c)) {
        if (c != self) others.push_back(c);
      }
      if (others.empty()) break;
      for (detail::GreenletCore* c : others) c->retain();
      try {
        detail::JoinAllOperation all(others);
        detail::block_on(all, TimePoint::max(), "joinall");
      } catch (...) {
        for (detail::GreenletCore* c : others) c->release();
        throw;
      }
      for (detail::GreenletCore* c : others) c->release();
    }
  } catch (const GreenletExit&) {
    return;  // the hub is winding down: the process is exiting already
  }
  enter_program();
  std::exit(EXIT_SUCCESS);
}

void rebuild_hub() {
  RuntimeScope scope;
  detail::Scheduler& scheduler = Hub::existing()->scheduler();
  scheduler.after_fork_in_child();
  detail::GreenletCore* self = scheduler.current();
  if (self->id() != 0) {  // not the main greenlet (id 0)
    self->add_link([] { spawn(&exit_after_last_thread); });
  }
}

// The child's first fork handler: rebuilds the hub when the fork was a cooperative one.
void on_fork_child() noexcept {
  if (tls_forking == nullptr || tls_forking != detail::current_core()) return;
  tls_forking = nullptr;
  const int saved_errno = errno;
  try {
    rebuild_hub();
  } catch (const std::exception& e) {
    say("cogent: the child of fork() cannot make its own hub: ");
    say(e.what());
    say("\n");
    _exit(EXIT_FAILURE);
  }
  errno = saved_errno;
}

[[gnu::constructor]] void register_fork_handler() {
  if (int rc = pthread_atfork(nullptr, nullptr, &on_fork_child); rc != 0) {
    say("cogent: pthread_atfork failed; fork() will rebuild the child's hub after the program's "
        "own fork handlers\n");
  }
}

}  // namespace
}  // namespace cogent::shim

extern "C" pid_t fork() noexcept {
  if (!cogent::shim::cooperative() || cogent::Hub::existing() == nullptr) {
    return COGENT_REAL(fork)();
  }
  cogent::shim::tls_forking = cogent::detail::current_core();
  const pid_t pid = COGENT_REAL(fork)();
  // In the child, a handler that did not run (registration failed) leaves the rebuild to here.
  if (pid == 0 && cogent::shim::tls_forking != nullptr) cogent::shim::on_fork_child();
  cogent::shim::tls_forking = nullptr;
  return pid;
}
