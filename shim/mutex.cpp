// pthread mutexes for greenlets: in a cooperative call (see cooperative.hpp) lock, trylock,
// timedlock, clocklock and unlock are served by the mutex's GreenMutex (green_mutex.hpp), so a
// greenlet waiting for a mutex lets the others run, the holder among them. Other calls go to libc.
//
// pthread_mutex_lock, _timedlock and _clocklock are declared noexcept by glibc's C++ headers,
// but a greenlet parked in one is killed (GreenletExit unwinds its stack) when the hub winds down
// at exit. Their bodies are therefore defined under internal names that may throw, and exported
// under the pthread names by assembler aliases: the C callers are unaffected.
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <chrono>

#include "cogent/error.hpp"
#include "cogent/hub.hpp"
#include "shim/cooperative.hpp"
#include "shim/errno_keeper.hpp"
#include "shim/green_mutex.hpp"
#include "shim/real.hpp"
#include "shim/side_table.hpp"
#include "shim/stuck.hpp"
#include "shim/threads.hpp"

namespace cogent::shim {
namespace {

SideTable<pthread_mutex_t, GreenMutex>& mutexes() {
  return SideTable<pthread_mutex_t, GreenMutex>::instance();
}

// glibc's kind field: the type in the low bits, then flags (robust, priority protocols,
// elision) that the shim does not honour.
int type_of(const pthread_mutex_t* mutex) noexcept {
  switch (mutex->__data.__kind & 3) {
    case PTHREAD_MUTEX_RECURSIVE_NP:
      return PTHREAD_MUTEX_RECURSIVE;
    case PTHREAD_MUTEX_ERRORCHECK_NP:
      return PTHREAD_MUTEX_ERRORCHECK;
    default:  // timed (the default) and adaptive
      return PTHREAD_MUTEX_NORMAL;
  }
}

int lock_until(pthread_mutex_t* mutex, clockid_t clock, const timespec* abstime) {
  ErrnoKeeper keep;
  GreenMutex* m;
  {
    RuntimeScope scope;
    m = &green_mutex(mutex);
  }
  // glibc tries first: an uncontended lock succeeds whatever the timeout says.
  if (int rc = m->lock(TimePoint::min()); rc != EBUSY) return rc;
  TimePoint deadline = TimePoint::max();
  if (abstime != nullptr) {
    if (!absolute_deadline(clock, *abstime, deadline)) return EINVAL;
    if (deadline == TimePoint::min()) return ETIMEDOUT;
  }
  return m->lock(deadline);
}

}  // namespace

bool calls_may_use_table() noexcept {
  return green_threads() && Hub::existing() != nullptr && cooperative();
}

bool absolute_deadline(clockid_t clock, const timespec& abstime, TimePoint& deadline) noexcept {
  if (abstime.tv_nsec < 0 || abstime.tv_nsec >= 1'000'000'000) return false;
  timespec now{};
  clock_gettime(clock, &now);
  const auto left = std::chrono::seconds(abstime.tv_sec - now.tv_sec) +
                    std::chrono::nanoseconds(abstime.tv_nsec - now.tv_nsec);
  deadline = left <= Duration::zero() ? TimePoint::min() : deadline_after(left);
  return true;
}

GreenMutex& green_mutex(pthread_mutex_t* mutex) { return mutexes().get(mutex, type_of(mutex)); }

bool GreenMutex::take(TimePoint deadline) {
  try {
    RuntimeScope scope;
    const bool got = type_ == PTHREAD_MUTEX_RECURSIVE ? rlock_.acquire_until(deadline)
                                                      : lock_.acquire_until(deadline);
    if (got) owner_ = detail::current_core();
    return got;
  } catch (const LoopExit& e) {
    die_stuck(e);
  }
}

int GreenMutex::lock(TimePoint deadline) {
  const bool only_try = deadline == TimePoint::min();
  // A trylock by the owner of an errorcheck mutex is EBUSY, as glibc answers.
  if (type_ == PTHREAD_MUTEX_ERRORCHECK && !only_try && locked() &&
      owner_ == detail::current_core()) {
    return EDEADLK;
  }
  if (take(deadline)) return 0;
  return only_try ? EBUSY : ETIMEDOUT;
}

int GreenMutex::unlock() {
  switch (type_) {
    case PTHREAD_MUTEX_RECURSIVE:
      if (!rlock_.owned()) return EPERM;
      break;
    case PTHREAD_MUTEX_ERRORCHECK:
      if (!locked() || owner_ != detail::current_core()) return EPERM;
      break;
    default:
      // glibc does not check a normal mutex: any thread may unlock it. Unlocking one that is
      // not locked is undefined; here it does nothing.
      if (!locked()) return 0;
      break;
  }
  release();
  return 0;
}

bool GreenMutex::locked() const noexcept {
  return type_ == PTHREAD_MUTEX_RECURSIVE ? rlock_.locked() : lock_.locked();
}

void GreenMutex::release() {
  RuntimeScope scope;
  if (type_ == PTHREAD_MUTEX_RECURSIVE) {
    rlock_.release();
    if (!rlock_.locked()) owner_ = nullptr;
  } else {
    owner_ = nullptr;
    lock_.release();
  }
}

void GreenMutex::acquire() { take(TimePoint::max()); }

}  // namespace cogent::shim

using cogent::shim::green_call;

// The bodies of the blocking calls, exported under glibc's names below (see the top comment).
extern "C" {

__attribute__((used)) int cogent_shim_mutex_lock(pthread_mutex_t* mutex) {
  if (!green_call()) return COGENT_REAL(pthread_mutex_lock)(mutex);
  return cogent::shim::lock_until(mutex, CLOCK_REALTIME, nullptr);
}

__attribute__((used)) int cogent_shim_mutex_timedlock(pthread_mutex_t* mutex,
                                                      const timespec* abstime) {
  if (!green_call()) return COGENT_REAL(pthread_mutex_timedlock)(mutex, abstime);
  return cogent::shim::lock_until(mutex, CLOCK_REALTIME, abstime);
}

__attribute__((used)) int cogent_shim_mutex_clocklock(pthread_mutex_t* mutex, clockid_t clock,
                                                      const timespec* abstime) {
  if (!green_call()) return COGENT_REAL(pthread_mutex_clocklock)(mutex, clock, abstime);
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return EINVAL;
  return cogent::shim::lock_until(mutex, clock, abstime);
}

}  // extern "C"

asm(R"(
  .globl pthread_mutex_lock
  .type pthread_mutex_lock, @function
  .set pthread_mutex_lock, cogent_shim_mutex_lock
  .globl pthread_mutex_timedlock
  .type pthread_mutex_timedlock, @function
  .set pthread_mutex_timedlock, cogent_shim_mutex_timedlock
  .globl pthread_mutex_clocklock
  .type pthread_mutex_clocklock, @function
  .set pthread_mutex_clocklock, cogent_shim_mutex_clocklock
)");

extern "C" {

int pthread_mutex_trylock(pthread_mutex_t* mutex) noexcept {
  if (!green_call()) return COGENT_REAL(pthread_mutex_trylock)(mutex);
  cogent::shim::ErrnoKeeper keep;
  try {
    cogent::shim::RuntimeScope scope;
    return cogent::shim::green_mutex(mutex).lock(cogent::TimePoint::min());
  } catch (...) {
    return EAGAIN;  // out of memory for the side table
  }
}

int pthread_mutex_unlock(pthread_mutex_t* mutex) noexcept {
  if (!green_call()) return COGENT_REAL(pthread_mutex_unlock)(mutex);
  cogent::shim::ErrnoKeeper keep;
  cogent::shim::GreenMutex* m = cogent::shim::mutexes().find(mutex);
  // Not known here: locked through libc before the hub existed (before the first thread).
  if (m == nullptr) return COGENT_REAL(pthread_mutex_unlock)(mutex);
  try {
    return m->unlock();
  } catch (...) {
    return EPERM;
  }
}

int pthread_mutex_init(pthread_mutex_t* mutex, const pthread_mutexattr_t* attr) noexcept {
  if (cogent::shim::calls_may_use_table()) {
    cogent::shim::mutexes().erase(mutex);  // a stale entry at a reused address
  }
  return COGENT_REAL(pthread_mutex_init)(mutex, attr);
}

int pthread_mutex_destroy(pthread_mutex_t* mutex) noexcept {
  if (cogent::shim::calls_may_use_table()) {
    if (const cogent::shim::GreenMutex* m = cogent::shim::mutexes().find(mutex)) {
      if (m->locked()) return EBUSY;
      cogent::shim::mutexes().erase(mutex);
    }
  }
  return COGENT_REAL(pthread_mutex_destroy)(mutex);
}

}  // extern "C"
