// The other calls that take a pthread_t, for greenlet threads. glibc's own would read the shim's
// record as if it were glibc's thread descriptor, so each is answered here:
// - pthread_setname_np/getname_np keep the name in the record (ERANGE past 15 bytes, as glibc);
// - pthread_cancel kills the greenlet: GreenletExit is raised at its next blocking call (a
//   cancellation point, natively) and pthread_join reports PTHREAD_CANCELED; while the target
//   has cancellation disabled the request waits, as natively. Cleanup handlers do not run
//   (threads.hpp says why), and asynchronous cancellation is deferred cancellation here;
// - pthread_getattr_np describes the greenlet (detach state, stack size; no stack address);
// - scheduling, affinity and the CPU-time clock are the one OS thread's: every greenlet thread
//   shares them, so they are read from and applied to the hub thread.
// Other pthread_t values (the main thread, native threads) go to glibc.
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include <unordered_set>

#include "cogent/sleep.hpp"
#include "context/stack_pool.hpp"
#include "shim/cooperative.hpp"
#include "shim/real.hpp"
#include "shim/threads.hpp"

namespace cogent::shim {
namespace {

// Greenlet threads with cancellation disabled, and those with a cancellation waiting for it to
// be enabled again. Hub thread only.
struct CancelState {
  std::unordered_set<const ThreadRecord*> disabled;
  std::unordered_set<const ThreadRecord*> pending;
};

CancelState& cancel_state() {
  static auto* s = new CancelState;
  return *s;
}

/// The live greenlet thread `t` names, or null for a pthread_t glibc should handle (stale ones
/// too: the caller answers ESRCH for those through `stale`).
ThreadRecord* green_target(pthread_t t, bool& stale) noexcept {
  stale = false;
  if (!green_call()) return nullptr;
  switch (kind_of(t)) {
    case Kind::kRecord:
      return as_record(t);
    case Kind::kStale:
      stale = true;
      return nullptr;
    case Kind::kForeign:
      return nullptr;
  }
  return nullptr;
}

/// For the calls about the OS thread: a live greenlet thread stands for the hub thread; ESRCH
/// for one that has ended (as glibc answers for an exited thread), 0 otherwise.
int as_hub_thread(pthread_t& thread) noexcept {
  bool stale;
  ThreadRecord* r = green_target(thread, stale);
  if (stale || (r != nullptr && r->finished)) return ESRCH;
  if (r != nullptr) thread = COGENT_REAL(pthread_self)();
  return 0;
}

void deliver_cancel(ThreadRecord* r) {
  cancel_state().pending.erase(r);
  RuntimeScope scope;
  r->greenlet.kill(false);
}

}  // namespace
}  // namespace cogent::shim

using cogent::shim::as_hub_thread;
using cogent::shim::green_target;

extern "C" {

int pthread_setname_np(pthread_t thread, const char* name) noexcept {
  bool stale;
  cogent::shim::ThreadRecord* r = green_target(thread, stale);
  if (stale) return ESRCH;
  if (r == nullptr) return COGENT_REAL(pthread_setname_np)(thread, name);
  const std::size_t len = strlen(name);
  if (len >= sizeof r->name) return ERANGE;
  memcpy(r->name, name, len + 1);
  return 0;
}

int pthread_getname_np(pthread_t thread, char* buf, size_t size) noexcept {
  bool stale;
  cogent::shim::ThreadRecord* r = green_target(thread, stale);
  if (stale) return ESRCH;
  if (r == nullptr) return COGENT_REAL(pthread_getname_np)(thread, buf, size);
  // Natively a thread starts with the process's name (its comm).
  char fallback[16] = {};
  const char* name = r->name;
  if (name[0] == '\0' && COGENT_REAL(pthread_getname_np)(COGENT_REAL(pthread_self)(), fallback,
                                                         sizeof fallback) == 0) {
    name = fallback;
  }
  const std::size_t len = strlen(name);
  if (len >= size) return ERANGE;
  memcpy(buf, name, len + 1);
  return 0;
}

int pthread_cancel(pthread_t thread) {
  bool stale;
  cogent::shim::ThreadRecord* r = green_target(thread, stale);
  if (stale) return ESRCH;
  if (r == nullptr) return COGENT_REAL(pthread_cancel)(thread);
  if (r->finished) return 0;
  auto& state = cogent::shim::cancel_state();
  if (state.disabled.contains(r)) {
    state.pending.insert(r);
    return 0;
  }
  try {
    cogent::shim::deliver_cancel(r);
  } catch (...) {
    return ENOMEM;
  }
  return 0;
}

int pthread_setcancelstate(int state, int* old) {
  cogent::shim::ThreadRecord* me = cogent::shim::calling_thread_record();
  if (me == nullptr) return COGENT_REAL(pthread_setcancelstate)(state, old);
  if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE) return EINVAL;
  auto& s = cogent::shim::cancel_state();
  if (old != nullptr) {
    *old = s.disabled.contains(me) ? PTHREAD_CANCEL_DISABLE : PTHREAD_CANCEL_ENABLE;
  }
  if (state == PTHREAD_CANCEL_DISABLE) {
    s.disabled.insert(me);
  } else {
    s.disabled.erase(me);
    if (s.pending.contains(me)) cogent::shim::deliver_cancel(me);
  }
  return 0;
}

void pthread_testcancel() {
  if (cogent::shim::calling_thread_record() == nullptr) return COGENT_REAL(pthread_testcancel)();
  // A kill requested earlier is raised by the next switch: make one.
  cogent::shim::RuntimeScope scope;
  cogent::sleep_until(cogent::TimePoint::min());
}

int pthread_getattr_np(pthread_t thread, pthread_attr_t* attr) noexcept {
  bool stale;
  cogent::shim::ThreadRecord* r = green_target(thread, stale);
  if (stale) return ESRCH;
  if (r == nullptr) return COGENT_REAL(pthread_getattr_np)(thread, attr);
  if (int rc = pthread_attr_init(attr); rc != 0) return rc;
  pthread_attr_setdetachstate(attr,
                              r->detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE);
  std::size_t size = r->greenlet.raw_core()->stack_size;
  if (size == 0) {
    try {
      size = cogent::detail::StackPool::default_stack_size();
    } catch (...) {
      size = PTHREAD_STACK_MIN;
    }
  }
  pthread_attr_setstacksize(attr, size);
  return 0;
}

int pthread_getschedparam(pthread_t thread, int* policy, struct sched_param* param) noexcept {
  if (int rc = as_hub_thread(thread); rc != 0) return rc;
  return COGENT_REAL(pthread_getschedparam)(thread, policy, param);
}

int pthread_setschedparam(pthread_t thread, int policy, const struct sched_param* param) noexcept {
  if (int rc = as_hub_thread(thread); rc != 0) return rc;
  return COGENT_REAL(pthread_setschedparam)(thread, policy, param);
}

int pthread_setschedprio(pthread_t thread, int prio) noexcept {
  if (int rc = as_hub_thread(thread); rc != 0) return rc;
  return COGENT_REAL(pthread_setschedprio)(thread, prio);
}

int pthread_setaffinity_np(pthread_t thread, size_t size, const cpu_set_t* set) noexcept {
  if (int rc = as_hub_thread(thread); rc != 0) return rc;
  return COGENT_REAL(pthread_setaffinity_np)(thread, size, set);
}

int pthread_getaffinity_np(pthread_t thread, size_t size, cpu_set_t* set) noexcept {
  if (int rc = as_hub_thread(thread); rc != 0) return rc;
  return COGENT_REAL(pthread_getaffinity_np)(thread, size, set);
}

int pthread_getcpuclockid(pthread_t thread, clockid_t* clock) noexcept {
  if (int rc = as_hub_thread(thread); rc != 0) return rc;
  return COGENT_REAL(pthread_getcpuclockid)(thread, clock);
}

}  // extern "C"
