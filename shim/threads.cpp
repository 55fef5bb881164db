// pthread_create/join/detach/self/equal/exit for program threads running as greenlets; see
// threads.hpp for what differs from native threads.
#include "shim/threads.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cogent/error.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/hub.hpp"
#include "shim/cooperative.hpp"
#include "shim/interrupt.hpp"
#include "shim/real.hpp"
#include "shim/stuck.hpp"

namespace cogent::shim {
namespace {

// Thrown by pthread_exit() in a greenlet thread, caught by its entry. Deliberately not a
// std::exception: a program's `catch (const std::exception&)` must not stop it.
struct ThreadExit {
  void* value;
};

// Every record ever made, the live ones and those on the free list, and which greenlet runs
// which. Touched only on the hub thread in cooperative calls, so it needs no lock. Never
// destroyed: greenlets still end while the process exits.
struct Registry {
  std::unordered_set<const ThreadRecord*> known;
  std::vector<ThreadRecord*> free;
  std::unordered_map<const detail::GreenletCore*, ThreadRecord*> running;
};

Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

ThreadRecord* acquire_record() {
  Registry& reg = registry();
  ThreadRecord* r;
  if (!reg.free.empty()) {
    r = reg.free.back();
    reg.free.pop_back();
  } else {
    r = new ThreadRecord;
    try {
      reg.known.insert(r);
    } catch (...) {
      delete r;
      throw;
    }
  }
  r->in_use = true;
  return r;
}

void release_record(ThreadRecord* r) noexcept {
  r->start = nullptr;
  r->arg = r->result = nullptr;
  r->greenlet = Greenlet<void>();
  r->joiner = {};
  r->in_use = r->joining = r->detached = r->finished = false;
  r->keys.clear();
  r->name[0] = '\0';
  try {
    registry().free.push_back(r);
  } catch (const std::bad_alloc&) {
    // Out of memory for the free list: keep the record out of use for good (still known, so its
    // pthread_t keeps getting ESRCH).
  }
}

}  // namespace

Kind kind_of(pthread_t t) noexcept {
  const auto* r = reinterpret_cast<const ThreadRecord*>(t);
  if (!registry().known.contains(r)) return Kind::kForeign;
  return r->in_use ? Kind::kRecord : Kind::kStale;
}

ThreadRecord* as_record(pthread_t t) noexcept { return reinterpret_cast<ThreadRecord*>(t); }

namespace {

// The start routine returned, called pthread_exit() or was killed (the hub winding down).
void finish_thread(ThreadRecord* r) noexcept {
  r->finished = true;
  registry().running.erase(r->greenlet.raw_core());
  if (r->detached) release_record(r);
}

// The greenlet's body: the program's start routine in program context, then its key destructors.
void run_thread(ThreadRecord* r) {
  const int depth = enter_program();
  try {
    r->result = r->start(r->arg);
  } catch (const ThreadExit& e) {
    r->result = e.value;
  } catch (const GreenletExit&) {
    r->result = PTHREAD_CANCELED;
  } catch (...) {
    std::terminate();  // natively an exception leaving a thread's start routine terminates too
  }
  try {
    run_key_destructors(*r);
  } catch (const ThreadExit&) {
  } catch (const GreenletExit&) {
  } catch (...) {
    std::terminate();
  }
  leave_program(depth);
  finish_thread(r);
}

// The stack size a program set in `attr` with pthread_attr_setstacksize() or _setstack(), at
// least PTHREAD_STACK_MIN; 0 when it left glibc's default, so that the greenlet gets the
// runtime's (a legacy program's 8 MiB default is what makes thousands of threads expensive).
std::size_t stack_size_asked(const pthread_attr_t* attr) noexcept {
  if (attr == nullptr) return 0;
  std::size_t size = 0;
  if (pthread_attr_getstacksize(attr, &size) != 0) return 0;
  pthread_attr_t defaults;
  std::size_t default_size = 0;
  if (pthread_getattr_default_np(&defaults) == 0) {
    pthread_attr_getstacksize(&defaults, &default_size);
    pthread_attr_destroy(&defaults);
  }
  if (size == default_size) return 0;
  return std::max<std::size_t>(size, PTHREAD_STACK_MIN);
}

// The thread calling now, as the program sees it.
pthread_t self_id() noexcept {
  ThreadRecord* r = calling_thread_record();
  return r != nullptr ? reinterpret_cast<pthread_t>(r) : COGENT_REAL(pthread_self)();
}

// Keeps the caller's errno: the runtime code run on its behalf may leave its own.
class ErrnoKeeper {
 public:
  ~ErrnoKeeper() { errno = saved_; }

 private:
  int saved_ = errno;
};

// The checks pthread_join and its variants share; 0 when `t` may be joined by the caller.
int check_joinable(pthread_t t) noexcept {
  ThreadRecord* target = as_record(t);
  const pthread_t self = self_id();
  if (t == self) return EDEADLK;
  if (target->detached || target->joining) return EINVAL;
  // Two threads joining each other would wait forever: glibc reports the second one.
  ThreadRecord* me = calling_thread_record();
  if (me != nullptr && me->joining && me->joiner == t) return EDEADLK;
  return 0;
}

// Joins a record that passed check_joinable(), waiting at most until `deadline`.
int join_record(pthread_t t, void** value, TimePoint deadline) {
  ThreadRecord* target = as_record(t);
  if (!target->finished) {
    target->joining = true;
    target->joiner = self_id();
    Greenlet<void> g = target->greenlet;  // the record may be recycled if we are killed
    bool done = true;
    try {
      RuntimeScope scope;
      if (deadline == TimePoint::max()) {
        g.join();
      } else {
        done = g.join(deadline - Clock::now());
      }
    } catch (const LoopExit& e) {
      die_stuck(e);
    } catch (...) {
      target->joining = false;
      throw;
    }
    target->joining = false;
    if (!done) return ETIMEDOUT;
  }
  if (value != nullptr) *value = target->result;
  release_record(target);
  return 0;
}

// Waits until every greenlet thread has finished (the main greenlet's pthread_exit).
void wait_for_all_threads() {
  for (;;) {
    std::vector<Greenlet<void>> live;
    for (const auto& [core, r] : registry().running) {
      if (!r->greenlet.ready()) live.push_back(r->greenlet);
    }
    if (live.empty()) return;
    try {
      RuntimeScope scope;
      joinall(live);
    } catch (const LoopExit& e) {
      die_stuck(e);
    }
  }
}

// The deadline an absolute time on `clock` stands for; min() when it has passed.
bool deadline_of(clockid_t clock, const timespec* abstime, TimePoint& deadline) noexcept {
  if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1'000'000'000) return false;
  timespec now{};
  clock_gettime(clock, &now);
  const auto left = std::chrono::seconds(abstime->tv_sec - now.tv_sec) +
                    std::chrono::nanoseconds(abstime->tv_nsec - now.tv_nsec);
  deadline = left <= Duration::zero() ? TimePoint::min() : deadline_after(left);
  return true;
}

// pthread_tryjoin_np / pthread_timedjoin_np / pthread_clockjoin_np on a record.
int join_until(pthread_t t, void** value, clockid_t clock, const timespec* abstime, bool only_try) {
  ErrnoKeeper keep;
  switch (kind_of(t)) {
    case Kind::kStale:
      return ESRCH;
    case Kind::kForeign:
      return -1;
    case Kind::kRecord:
      break;
  }
  if (int rc = check_joinable(t); rc != 0) return rc;
  if (as_record(t)->finished) return join_record(t, value, TimePoint::max());
  if (only_try) return EBUSY;
  TimePoint deadline;
  if (!deadline_of(clock, abstime, deadline)) return EINVAL;
  if (deadline == TimePoint::min()) return ETIMEDOUT;
  return join_record(t, value, deadline);
}

}  // namespace

bool green_call() noexcept {
  if (!green_threads() || !cooperative()) return false;
  if (Hub::existing() != nullptr) [[likely]] {
    return true;
  }
  RuntimeScope scope;
  try {
    Hub::current();
    return true;
  } catch (...) {
    return false;
  }
}

ThreadRecord* calling_thread_record() noexcept {
  // No hub, no greenlet threads; and cooperative() must not be asked before a hub exists unless
  // one is made right after (see green_call()).
  if (!green_threads() || Hub::existing() == nullptr || !cooperative()) return nullptr;
  const auto& running = registry().running;
  const auto it = running.find(detail::current_core());
  return it != running.end() ? it->second : nullptr;
}

}  // namespace cogent::shim

using cogent::shim::as_record;
using cogent::shim::green_call;
using cogent::shim::Kind;
using cogent::shim::kind_of;

extern "C" {

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*),
                   void* arg) noexcept {
  if (!green_call()) return COGENT_REAL(pthread_create)(thread, attr, start, arg);
  cogent::shim::ErrnoKeeper keep;
  int detach = PTHREAD_CREATE_JOINABLE;
  if (attr != nullptr && pthread_attr_getdetachstate(attr, &detach) != 0) return EINVAL;
  const std::size_t stack_size = cogent::shim::stack_size_asked(attr);
  const sigset_t signal_mask = cogent::shim::inherited_signal_mask();
  cogent::shim::RuntimeScope scope;
  cogent::shim::ThreadRecord* r = nullptr;
  try {
    r = cogent::shim::acquire_record();
    r->start = start;
    r->arg = arg;
    r->detached = detach == PTHREAD_CREATE_DETACHED;
    r->signal_mask = signal_mask;
    r->greenlet = cogent::spawn([r] { cogent::shim::run_thread(r); });
    r->greenlet.raw_core()->stack_size = stack_size;
    cogent::shim::registry().running.emplace(r->greenlet.raw_core(), r);
  } catch (...) {
    // Out of memory (records, stacks) is what EAGAIN means for pthread_create. A greenlet made
    // before the failure would still run: kill it first (it never started, so it never runs).
    if (r != nullptr) {
      if (r->greenlet) r->greenlet.kill(false);
      cogent::shim::release_record(r);
    }
    return EAGAIN;
  }
  *thread = reinterpret_cast<pthread_t>(r);
  return 0;
}

int pthread_join(pthread_t thread, void** value) {
  if (!green_call()) return COGENT_REAL(pthread_join)(thread, value);
  cogent::shim::ErrnoKeeper keep;
  switch (kind_of(thread)) {
    case Kind::kStale:
      return ESRCH;
    case Kind::kForeign:
      return COGENT_REAL(pthread_join)(thread, value);
    case Kind::kRecord:
      break;
  }
  if (int rc = cogent::shim::check_joinable(thread); rc != 0) return rc;
  return cogent::shim::join_record(thread, value, cogent::TimePoint::max());
}

int pthread_tryjoin_np(pthread_t thread, void** value) noexcept {
  if (green_call()) {
    const int rc = cogent::shim::join_until(thread, value, CLOCK_REALTIME, nullptr, true);
    if (rc >= 0) return rc;
  }
  return COGENT_REAL(pthread_tryjoin_np)(thread, value);
}

int pthread_timedjoin_np(pthread_t thread, void** value, const timespec* abstime) {
  if (green_call() && abstime != nullptr) {
    const int rc = cogent::shim::join_until(thread, value, CLOCK_REALTIME, abstime, false);
    if (rc >= 0) return rc;
  } else if (green_call() && kind_of(thread) != Kind::kForeign) {
    return pthread_join(thread, value);  // glibc: no time limit means wait for ever
  }
  return COGENT_REAL(pthread_timedjoin_np)(thread, value, abstime);
}

int pthread_clockjoin_np(pthread_t thread, void** value, clockid_t clock, const timespec* abstime) {
  if (green_call() && kind_of(thread) != Kind::kForeign) {
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return EINVAL;
    if (abstime == nullptr) return pthread_join(thread, value);
    const int rc = cogent::shim::join_until(thread, value, clock, abstime, false);
    if (rc >= 0) return rc;
  }
  return COGENT_REAL(pthread_clockjoin_np)(thread, value, clock, abstime);
}

int pthread_detach(pthread_t thread) noexcept {
  if (!green_call()) return COGENT_REAL(pthread_detach)(thread);
  switch (kind_of(thread)) {
    case Kind::kStale:
      return ESRCH;
    case Kind::kForeign:
      return COGENT_REAL(pthread_detach)(thread);
    case Kind::kRecord:
      break;
  }
  cogent::shim::ThreadRecord* r = as_record(thread);
  if (r->detached) return EINVAL;
  // glibc leaves a thread someone is joining alone and reports success; the joiner frees it.
  if (r->joining) return 0;
  if (r->finished) {
    cogent::shim::release_record(r);
  } else {
    r->detached = true;
  }
  return 0;
}

pthread_t pthread_self() noexcept { return cogent::shim::self_id(); }

// A signal for a greenlet thread is raised on the hub thread (the only OS thread there is), so
// its handler runs before pthread_kill returns, as for raise(); the call the target greenlet is
// blocked in, if any, is the one the signal interrupts (interrupt.hpp).
int pthread_kill(pthread_t thread, int sig) noexcept {
  if (!green_call()) return COGENT_REAL(pthread_kill)(thread, sig);
  switch (kind_of(thread)) {
    case Kind::kStale:
      return ESRCH;
    case Kind::kForeign:
      return COGENT_REAL(pthread_kill)(thread, sig);
    case Kind::kRecord:
      break;
  }
  if (sig < 0 || sig >= NSIG) return EINVAL;
  cogent::shim::ThreadRecord* r = as_record(thread);
  // glibc answers 0 for a thread that ended but was not joined yet, and sends nothing.
  if (sig == 0 || r->finished) return 0;
  const int saved_errno = errno;
  cogent::shim::aim_next_signal_at(r->greenlet.raw_core());
  const long rc = ::syscall(SYS_tgkill, ::getpid(), ::gettid(), sig);
  cogent::shim::aim_next_signal_at(nullptr);
  const int result = rc == 0 ? 0 : errno;
  errno = saved_errno;
  return result;
}

int pthread_equal(pthread_t a, pthread_t b) noexcept { return a == b; }

void pthread_exit(void* value) {
  if (green_call()) {
    if (cogent::shim::calling_thread_record() != nullptr) throw cogent::shim::ThreadExit{value};
    cogent::shim::run_main_key_destructors();
    cogent::shim::wait_for_all_threads();
    std::exit(EXIT_SUCCESS);
  }
  COGENT_REAL(pthread_exit)(value);
  __builtin_unreachable();  // the pointer's type does not carry glibc's noreturn
}

}  // extern "C"
