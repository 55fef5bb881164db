// POSIX semaphores for greenlets. glibc's sem_t stays the truth — its value is what sem_getvalue,
// sem_trywait, native threads and other processes (named and process-shared semaphores) see —
// so only the calls that wait, and the post that ends a wait, are interposed; sem_init,
// sem_destroy, sem_trywait, sem_getvalue, sem_open, sem_close and sem_unlink are glibc's own.
//
// A cooperative sem_wait, sem_timedwait or sem_clockwait (see cooperative.hpp) takes a unit with
// glibc's sem_trywait; when there is none the greenlet parks in a FIFO kept beside the semaphore
// (side_table.hpp, by address, only while someone waits) and tries again when woken:
// - a sem_post made by a greenlet of the hub wakes the longest waiter at once;
// - a post made anywhere else — another OS thread, a signal handler, another process — changes
//   only the sem_t. While greenlets wait, the semaphore's value is polled, every 10 ms for a
//   process-shared or named semaphore and every 50 ms for a private one, and a unit found there
//   wakes the longest waiter.
// A woken waiter whose unit was taken meanwhile by a greenlet that was not waiting (sem_wait takes
// a free unit at once, as glibc's does) waits again, at the back. One that leaves while a unit is
// free (it timed out, or was killed after its wake-up) wakes the next, so no post is lost. With the
// poll pending, a greenlet waiting for a semaphore is never reported as stuck (LoopExit): as
// natively, something outside the hub may still post it.
//
// Errors as glibc 2.36 answers them (-1 and errno): sem_timedwait EINVAL for a bad tv_nsec and
// sem_clockwait EINVAL for a clock other than CLOCK_REALTIME and CLOCK_MONOTONIC or a bad tv_nsec,
// even when a unit is free; ETIMEDOUT once the time has passed; sem_post's EOVERFLOW is glibc's.
#include <errno.h>
#include <semaphore.h>
#include <time.h>

#include <chrono>
#include <cstdint>

#include "cogent/clock.hpp"
#include "cogent/detail/core.hpp"
#include "cogent/detail/signal.hpp"
#include "cogent/error.hpp"
#include "shim/cooperative.hpp"
#include "shim/errno_keeper.hpp"
#include "shim/green_mutex.hpp"
#include "shim/interrupt.hpp"
#include "shim/real.hpp"
#include "shim/side_table.hpp"
#include "shim/stuck.hpp"

namespace cogent::shim {
namespace {

using namespace std::chrono_literals;

// How often the value of a semaphore greenlets wait for is read, for posts made outside the hub.
constexpr Duration kSharedPoll = 10ms;   // process-shared and named: other processes post them
constexpr Duration kPrivatePoll = 50ms;  // private: only native threads and signal handlers

// glibc's own layout of a sem_t (struct new_sem, sysdeps/nptl/internaltypes.h in 2.36, with the
// 64-bit atomics of x86_64 and aarch64). `private_flag` is the flag glibc gives the semaphore's
// futex calls: 0 (LLL_PRIVATE) for a private semaphore, 128 (LLL_SHARED) for a process-shared or
// named one.
struct GlibcSemaphore {
  std::uint64_t data;
  int private_flag;
  int pad;
};
static_assert(sizeof(GlibcSemaphore) <= sizeof(sem_t));

bool process_shared(const sem_t* sem) noexcept {
  return reinterpret_cast<const GlibcSemaphore*>(sem)->private_flag != 0;
}

// The greenlets waiting for one semaphore, and the poll that runs while there are any.
class SemaphoreWaiters final : public detail::TimerNode {
 public:
  explicit SemaphoreWaiters(sem_t* sem) : sem_(sem), signal_("sem_t", object_address(sem)) {
    on_fire = &SemaphoreWaiters::poll;
  }
  SemaphoreWaiters(const SemaphoreWaiters&) = delete;
  SemaphoreWaiters& operator=(const SemaphoreWaiters&) = delete;
  ~SemaphoreWaiters() { detail::disarm_timer(*this); }

  /// Parks the caller until woken (true) or `deadline` (false).
  bool park(TimePoint deadline) {
    if (!armed()) arm();
    return detail::run_blocking<detail::SignalWait>("sem_wait", deadline, signal_, true);
  }
  /// Wakes the longest waiter, if any.
  void wake_one() noexcept { signal_.wake(1); }
  /// Wakes the longest waiter if a unit is free now.
  void wake_one_if_free() noexcept {
    int value = 0;
    if (sem_getvalue(sem_, &value) == 0 && value > 0) wake_one();
  }
  std::size_t waiting() const noexcept { return signal_.waiting(); }

 private:
  void arm() {
    detail::arm_timer(*this, deadline_after(process_shared(sem_) ? kSharedPoll : kPrivatePoll));
  }

  // In the hub: a unit posted from outside wakes the longest waiter, who then wakes the next if
  // more are free (see settle()).
  static void poll(detail::TimerNode* node) {
    auto* self = static_cast<SemaphoreWaiters*>(node);
    self->wake_one_if_free();
    if (self->waiting() > 0) self->arm();
  }

  sem_t* sem_;
  detail::Signal signal_;
};

SideTable<sem_t, SemaphoreWaiters>& waiters() {
  return SideTable<sem_t, SemaphoreWaiters>::instance();
}

// After a waiter has left: the entry goes when nobody waits any more; otherwise a unit still
// free goes on to the next waiter.
void settle(sem_t* sem) noexcept {
  SemaphoreWaiters* w = waiters().find(sem);
  if (w == nullptr) return;
  if (w->waiting() == 0) {
    waiters().erase(sem);
  } else {
    w->wake_one_if_free();
  }
}

// A cooperative wait after glibc's argument checks: until a unit is taken (0) or `deadline`
// (TimePoint::max(): none; TimePoint::min(): passed already) passes (-1, ETIMEDOUT).
int take(sem_t* sem, TimePoint deadline) {
  const int saved_errno = errno;
  if (COGENT_REAL(sem_trywait)(sem) == 0) return 0;
  if (deadline == TimePoint::min()) {
    errno = ETIMEDOUT;
    return -1;
  }
  int error = 0;
  // A signal handler without SA_RESTART interrupts a semaphore wait with EINTR; with it the futex
  // wait is restarted by the kernel, so the wait goes on.
  InterruptibleCall call(Restart::kUnderSaRestart);
  for (;;) {
    bool in_time = true;
    WaitEnd end;
    try {
      RuntimeScope scope;
      end = call.run([&] { in_time = waiters().get(sem, sem).park(deadline); });
    } catch (const LoopExit& e) {
      die_stuck(e);
    } catch (...) {
      RuntimeScope scope;
      settle(sem);
      throw;
    }
    if (COGENT_REAL(sem_trywait)(sem) == 0) break;
    if (end == WaitEnd::kInterrupted) {
      error = EINTR;
      break;
    }
    if (!in_time) {
      error = ETIMEDOUT;
      break;
    }
  }
  {
    RuntimeScope scope;
    settle(sem);
  }
  errno = error != 0 ? error : saved_errno;
  return error != 0 ? -1 : 0;
}

// The deadline `abstime` on `clock` stands for, or -1 with EINVAL as glibc answers.
int deadline_of(clockid_t clock, const timespec* abstime, TimePoint& deadline) noexcept {
  if ((clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) ||
      !absolute_deadline(clock, *abstime, deadline)) {
    errno = EINVAL;
    return -1;
  }
  return 0;
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

int sem_wait(sem_t* sem) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(sem_wait)(sem);
  return cogent::shim::take(sem, cogent::TimePoint::max());
}

int sem_timedwait(sem_t* sem, const timespec* abstime) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(sem_timedwait)(sem, abstime);
  cogent::TimePoint deadline;
  if (cogent::shim::deadline_of(CLOCK_REALTIME, abstime, deadline) != 0) return -1;
  return cogent::shim::take(sem, deadline);
}

int sem_clockwait(sem_t* sem, clockid_t clock, const timespec* abstime) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(sem_clockwait)(sem, clock, abstime);
  cogent::TimePoint deadline;
  if (cogent::shim::deadline_of(clock, abstime, deadline) != 0) return -1;
  return cogent::shim::take(sem, deadline);
}

int sem_post(sem_t* sem) noexcept {
  const int rc = COGENT_REAL(sem_post)(sem);
  // Only a hub that exists can have greenlets waiting; a post from anywhere else is found by the
  // waiters' poll.
  if (rc != 0 || !cogent::shim::calls_may_use_table()) return rc;
  cogent::shim::ErrnoKeeper keep;
  cogent::shim::RuntimeScope scope;
  if (cogent::shim::SemaphoreWaiters* w = cogent::shim::waiters().find(sem)) w->wake_one();
  return 0;
}

}  // extern "C"
