// pthread condition variables for greenlets: in a cooperative call (see cooperative.hpp) wait,
// timedwait, clockwait, signal and broadcast are served by a cogent::Condition kept in a side
// table keyed by the pthread_cond_t's address (made on first use, dropped by
// pthread_cond_destroy or a new pthread_cond_init there), with the mutex's GreenMutex: a wait
// releases it, parks the greenlet until signalled (or the deadline), and takes it back. Other
// calls go to libc.
//
// glibc has two versions of the pthread_cond_* functions; programs link the current ones
// (GLIBC_2.3.2), while dlsym(RTLD_NEXT) would give the old ones (GLIBC_2.2.5), so the real
// functions are looked up by version here.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unordered_map>

#include "cogent/condition.hpp"
#include "cogent/error.hpp"
#include "shim/cooperative.hpp"
#include "shim/green_mutex.hpp"
#include "shim/real.hpp"
#include "shim/stuck.hpp"
#include "shim/threads.hpp"

namespace cogent::shim {

void* resolve_cond(const char* name) noexcept {
  void* fn = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
  if (fn == nullptr) {
    std::fprintf(stderr, "libcogent_preload: no %s@GLIBC_2.3.2 in libc\n", name);
    std::abort();
  }
  return fn;
}

namespace {

// The real (GLIBC_2.3.2) `name`, resolved on first use.
#define COGENT_REAL_COND(name)                                                    \
  ([]() noexcept {                                                                \
    static const auto fn =                                                        \
        reinterpret_cast<decltype(&::name)>(::cogent::shim::resolve_cond(#name)); \
    return fn;                                                                    \
  }())

// Only the hub thread touches it, in cooperative calls. Never destroyed: greenlets still run
// while the process exits.
std::unordered_map<const pthread_cond_t*, std::unique_ptr<Condition>>& conditions() {
  static auto* m = new std::unordered_map<const pthread_cond_t*, std::unique_ptr<Condition>>;
  return *m;
}

Condition& green_cond(pthread_cond_t* cond) {
  auto& table = conditions();
  auto it = table.find(cond);
  if (it == table.end()) it = table.emplace(cond, std::make_unique<Condition>()).first;
  return *it->second;
}

// What Condition::wait_until releases and takes back: the mutex, with no checks.
struct Relock {
  GreenMutex& mutex;
  void lock() { mutex.acquire(); }
  void unlock() { mutex.release(); }
};

int wait_until(pthread_cond_t* cond, pthread_mutex_t* mutex, clockid_t clock,
               const timespec* abstime) {
  const int saved_errno = errno;
  TimePoint deadline = TimePoint::max();
  if (abstime != nullptr && !absolute_deadline(clock, *abstime, deadline)) return EINVAL;
  bool notified;
  {
    RuntimeScope scope;
    GreenMutex& m = green_mutex(mutex);
    // glibc answers EPERM when the unlock inside the wait fails (errorcheck, recursive).
    if (!m.locked()) return EPERM;
    Relock relock{m};
    try {
      notified = green_cond(cond).wait_until(relock, deadline);
    } catch (const LoopExit& e) {
      die_stuck(e);
    }
  }
  errno = saved_errno;
  return notified ? 0 : ETIMEDOUT;
}

}  // namespace
}  // namespace cogent::shim

using cogent::shim::green_call;

extern "C" {

int pthread_cond_wait(pthread_cond_t* cond, pthread_mutex_t* mutex) {
  if (!green_call()) return COGENT_REAL_COND(pthread_cond_wait)(cond, mutex);
  return cogent::shim::wait_until(cond, mutex, CLOCK_REALTIME, nullptr);
}

int pthread_cond_timedwait(pthread_cond_t* cond, pthread_mutex_t* mutex, const timespec* abstime) {
  if (!green_call()) return COGENT_REAL_COND(pthread_cond_timedwait)(cond, mutex, abstime);
  // The clock the condition was initialised with (pthread_condattr_setclock) is kept by glibc
  // in the low bit of __wrefs.
  const clockid_t clock = (cond->__data.__wrefs & 1) != 0 ? CLOCK_MONOTONIC : CLOCK_REALTIME;
  return cogent::shim::wait_until(cond, mutex, clock, abstime);
}

int pthread_cond_clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex, clockid_t clock,
                           const timespec* abstime) {
  // Newer than the condition variables' version split: one definition, found as usual.
  if (!green_call()) return COGENT_REAL(pthread_cond_clockwait)(cond, mutex, clock, abstime);
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return EINVAL;
  return cogent::shim::wait_until(cond, mutex, clock, abstime);
}

int pthread_cond_signal(pthread_cond_t* cond) noexcept {
  if (!cogent::shim::calls_may_use_table()) return COGENT_REAL_COND(pthread_cond_signal)(cond);
  auto& table = cogent::shim::conditions();
  if (const auto it = table.find(cond); it != table.end()) it->second->notify_one();
  return 0;
}

int pthread_cond_broadcast(pthread_cond_t* cond) noexcept {
  if (!cogent::shim::calls_may_use_table()) return COGENT_REAL_COND(pthread_cond_broadcast)(cond);
  auto& table = cogent::shim::conditions();
  if (const auto it = table.find(cond); it != table.end()) it->second->notify_all();
  return 0;
}

int pthread_cond_init(pthread_cond_t* cond, const pthread_condattr_t* attr) noexcept {
  if (cogent::shim::calls_may_use_table()) {
    auto& table = cogent::shim::conditions();
    if (const auto it = table.find(cond); it != table.end() && it->second->waiting() == 0) {
      table.erase(it);
    }
  }
  return COGENT_REAL_COND(pthread_cond_init)(cond, attr);
}

int pthread_cond_destroy(pthread_cond_t* cond) noexcept {
  if (cogent::shim::calls_may_use_table()) {
    auto& table = cogent::shim::conditions();
    if (const auto it = table.find(cond); it != table.end()) {
      if (it->second->waiting() != 0) return EBUSY;
      table.erase(it);
    }
  }
  return COGENT_REAL_COND(pthread_cond_destroy)(cond);
}

}  // extern "C"
