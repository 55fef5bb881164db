// pthread rwlocks for greenlets: in a cooperative call (see cooperative.hpp) the lock, try, timed,
// clock and unlock calls are served by the rwlock's GreenRwlock, kept beside it by address
// (side_table.hpp): its readers, its writer and a FIFO of waiting greenlets, so a greenlet
// waiting for the lock lets the others run, the holders among them. Cooperative calls never
// touch the glibc object, which records its writer by OS thread id (one for all greenlets); its
// kind is read from it (`__data.__flags`, set by pthread_rwlock_init).
//
// The policy is glibc's, as a program can observe it:
// - the default kind (PTHREAD_RWLOCK_PREFER_READER_NP, and PREFER_WRITER_NP, which glibc treats
//   alike): a reader gets the lock whenever no writer holds it, even while writers wait — so a
//   thread may take read locks recursively — and readers overlapping without a gap keep writers
//   out, as natively. A writer unlocking hands the lock to every waiting reader at once, or, with
//   none, to the longest-waiting writer.
// - PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP: a reader also waits while a writer waits, and a
//   writer unlocking hands the lock to the next writer first.
// Errors as glibc 2.36 answers them: EINVAL for a clock other than CLOCK_REALTIME and
// CLOCK_MONOTONIC or a bad tv_nsec before anything else (even when the lock is free), EDEADLK for
// a rdlock or wrlock by the writer, EBUSY for a try that would wait (the writer's own try too),
// ETIMEDOUT. Unlock always answers 0: glibc checks nothing, and an unlock by a thread that holds
// nothing is undefined (here it changes nothing).
//
// The blocking calls are declared noexcept by glibc's C++ headers, yet a greenlet parked in one is
// killed (GreenletExit) when the hub winds down at exit: their bodies have internal names and are
// exported under glibc's by assembler aliases, as in mutex.cpp.
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <new>
#include <string>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/parked.hpp"
#include "cogent/error.hpp"
#include "shim/cooperative.hpp"
#include "shim/errno_keeper.hpp"
#include "shim/green_mutex.hpp"
#include "shim/real.hpp"
#include "shim/side_table.hpp"
#include "shim/stuck.hpp"
#include "shim/threads.hpp"

namespace cogent::shim {
namespace {

using detail::GreenletCore;

class GreenRwlock;

// A greenlet in a GreenRwlock's queue. It is served by being handed the lock: once finished
// without interruption, it holds it.
class RwlockWait final : public detail::ParkedOperation {
 public:
  RwlockWait(GreenRwlock& lock, bool write) noexcept : lock_(lock), write_(write) {}
  bool write() const noexcept { return write_; }
  void start() override;
  void cancel() noexcept override;
  std::string describe() const override;
  const detail::Holdable* awaited_holdable() const noexcept override;
  bool result(detail::WakeReason) const noexcept { return !interrupted(); }

 private:
  GreenRwlock& lock_;
  bool write_;
};

class GreenRwlock final : public detail::Holdable {
 public:
  GreenRwlock(const pthread_rwlock_t* rwlock, bool prefer_writers) noexcept
      : address_(rwlock), prefer_writers_(prefer_writers) {}
  GreenRwlock(const GreenRwlock&) = delete;
  GreenRwlock& operator=(const GreenRwlock&) = delete;

  /// The lock calls after their argument checks: 0, EDEADLK, EBUSY (`only_try`) or ETIMEDOUT
  /// (`deadline` passed; TimePoint::min() when it had passed already).
  int lock(bool write, bool only_try, TimePoint deadline);
  /// Releases the caller's hold: the write lock if it is the writer, else one read lock.
  void unlock() noexcept;
  bool has_waiters() const noexcept { return !waiters_.empty(); }

  std::string name() const override {
    return detail::primitive_name("pthread_rwlock_t", {}, address_);
  }
  /// The writer (readers are not tracked, as glibc does not track them).
  GreenletCore* holder() const noexcept override { return writer_; }

 private:
  friend class RwlockWait;

  bool may_read() const noexcept {
    return writer_ == nullptr && !(prefer_writers_ && waiting_writers_ > 0);
  }
  bool may_write() const noexcept { return writer_ == nullptr && readers_ == 0; }
  bool take(bool write, GreenletCore* who) noexcept;
  void enqueue(RwlockWait& op) noexcept;
  void leave_queue(RwlockWait& op) noexcept;
  void hand_over() noexcept;
  void grant(RwlockWait& op) noexcept;

  const pthread_rwlock_t* address_;
  bool prefer_writers_;
  std::size_t readers_ = 0;
  GreenletCore* writer_ = nullptr;
  std::size_t waiting_writers_ = 0;
  detail::WaitList waiters_;  // RwlockWait operations, in arrival order
};

void RwlockWait::start() {
  if (lock_.take(write_, waiter())) {
    finish();
    return;
  }
  lock_.enqueue(*this);
}

void RwlockWait::cancel() noexcept {
  // A writer leaving the queue may let readers in (writer preference) or the next one on.
  if (parked()) lock_.leave_queue(*this);
  finish_interrupted();
}

std::string RwlockWait::describe() const {
  std::string s = lock_.name() + (write_ ? " to write" : " to read");
  if (lock_.readers_ > 0) s += ", read-held " + std::to_string(lock_.readers_) + " times";
  return s;
}

// Only a writer is a holder that LoopExit reports can name (and follow in a lock cycle).
const detail::Holdable* RwlockWait::awaited_holdable() const noexcept {
  return lock_.writer_ != nullptr ? &lock_ : nullptr;
}

bool GreenRwlock::take(bool write, GreenletCore* who) noexcept {
  if (write) {
    if (!may_write()) return false;
    writer_ = who;
  } else {
    if (!may_read()) return false;
    ++readers_;
  }
  return true;
}

void GreenRwlock::enqueue(RwlockWait& op) noexcept {
  if (op.write()) ++waiting_writers_;
  waiters_.push_back(op);
}

void GreenRwlock::leave_queue(RwlockWait& op) noexcept {
  waiters_.erase(op);
  if (op.write()) {
    --waiting_writers_;
    hand_over();
  }
}

void GreenRwlock::grant(RwlockWait& op) noexcept {
  waiters_.erase(op);
  if (op.write()) {
    --waiting_writers_;
    writer_ = op.waiter();
  } else {
    ++readers_;
  }
  op.serve();
}

// Serves, in arrival order, every waiter the policy lets in now. Called whenever the lock's state
// changes; afterwards no waiter could take the lock, so a newcomer may simply try.
void GreenRwlock::hand_over() noexcept {
  if (writer_ != nullptr || waiters_.empty()) return;
  auto first_writer = [this]() -> RwlockWait* {
    for (detail::ParkedOperation* op = waiters_.front(); op != nullptr; op = waiters_.next(op)) {
      if (static_cast<RwlockWait*>(op)->write()) return static_cast<RwlockWait*>(op);
    }
    return nullptr;
  };
  if (prefer_writers_ && readers_ == 0 && waiting_writers_ > 0) {
    grant(*first_writer());
    return;
  }
  if (may_read()) {
    for (detail::ParkedOperation* op = waiters_.front(); op != nullptr;) {
      detail::ParkedOperation* next = waiters_.next(op);
      if (!static_cast<RwlockWait*>(op)->write()) grant(*static_cast<RwlockWait*>(op));
      op = next;
    }
  }
  if (readers_ == 0 && waiting_writers_ > 0) grant(*first_writer());
}

int GreenRwlock::lock(bool write, bool only_try, TimePoint deadline) {
  GreenletCore* me = detail::current_core();
  if (!only_try && writer_ != nullptr && writer_ == me) return EDEADLK;
  if (take(write, me)) return 0;
  if (only_try) return EBUSY;
  if (deadline == TimePoint::min()) return ETIMEDOUT;
  try {
    RuntimeScope scope;
    return detail::run_blocking<RwlockWait>("pthread_rwlock", deadline, *this, write) ? 0
                                                                                      : ETIMEDOUT;
  } catch (const LoopExit& e) {
    die_stuck(e);
  }
}

void GreenRwlock::unlock() noexcept {
  if (writer_ != nullptr && writer_ == detail::current_core()) {
    writer_ = nullptr;
  } else if (readers_ > 0) {
    --readers_;
  } else {
    return;
  }
  hand_over();
}

SideTable<pthread_rwlock_t, GreenRwlock>& rwlocks() {
  return SideTable<pthread_rwlock_t, GreenRwlock>::instance();
}

GreenRwlock& green_rwlock(pthread_rwlock_t* rwlock) {
  return rwlocks().get(rwlock, rwlock,
                       rwlock->__data.__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
}

// Every lock call: the argument checks glibc makes first, then the lock.
int lock_until(pthread_rwlock_t* rwlock, bool write, clockid_t clock, const timespec* abstime) {
  ErrnoKeeper keep;
  TimePoint deadline = TimePoint::max();
  if (abstime != nullptr) {
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return EINVAL;
    if (!absolute_deadline(clock, *abstime, deadline)) return EINVAL;
  }
  GreenRwlock* lock;
  try {
    RuntimeScope scope;
    lock = &green_rwlock(rwlock);
  } catch (const std::bad_alloc&) {
    return EAGAIN;  // no memory for the side table: glibc's answer for "cannot take it now"
  }
  return lock->lock(write, false, deadline);
}

int try_lock(pthread_rwlock_t* rwlock, bool write) noexcept {
  ErrnoKeeper keep;
  try {
    RuntimeScope scope;
    return green_rwlock(rwlock).lock(write, true, TimePoint::min());
  } catch (...) {
    return EAGAIN;
  }
}

}  // namespace
}  // namespace cogent::shim

using cogent::shim::green_call;
using cogent::shim::lock_until;

// The bodies of the blocking calls, exported under glibc's names below (see the top comment).
extern "C" {

__attribute__((used)) int cogent_shim_rwlock_rdlock(pthread_rwlock_t* rwlock) {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_rdlock)(rwlock);
  return lock_until(rwlock, false, CLOCK_REALTIME, nullptr);
}

__attribute__((used)) int cogent_shim_rwlock_wrlock(pthread_rwlock_t* rwlock) {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_wrlock)(rwlock);
  return lock_until(rwlock, true, CLOCK_REALTIME, nullptr);
}

__attribute__((used)) int cogent_shim_rwlock_timedrdlock(pthread_rwlock_t* rwlock,
                                                         const timespec* abstime) {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_timedrdlock)(rwlock, abstime);
  return lock_until(rwlock, false, CLOCK_REALTIME, abstime);
}

__attribute__((used)) int cogent_shim_rwlock_timedwrlock(pthread_rwlock_t* rwlock,
                                                         const timespec* abstime) {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_timedwrlock)(rwlock, abstime);
  return lock_until(rwlock, true, CLOCK_REALTIME, abstime);
}

__attribute__((used)) int cogent_shim_rwlock_clockrdlock(pthread_rwlock_t* rwlock, clockid_t clock,
                                                         const timespec* abstime) {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_clockrdlock)(rwlock, clock, abstime);
  return lock_until(rwlock, false, clock, abstime);
}

__attribute__((used)) int cogent_shim_rwlock_clockwrlock(pthread_rwlock_t* rwlock, clockid_t clock,
                                                         const timespec* abstime) {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_clockwrlock)(rwlock, clock, abstime);
  return lock_until(rwlock, true, clock, abstime);
}

}  // extern "C"

asm(R"(
  .globl pthread_rwlock_rdlock
  .type pthread_rwlock_rdlock, @function
  .set pthread_rwlock_rdlock, cogent_shim_rwlock_rdlock
  .globl pthread_rwlock_wrlock
  .type pthread_rwlock_wrlock, @function
  .set pthread_rwlock_wrlock, cogent_shim_rwlock_wrlock
  .globl pthread_rwlock_timedrdlock
  .type pthread_rwlock_timedrdlock, @function
  .set pthread_rwlock_timedrdlock, cogent_shim_rwlock_timedrdlock
  .globl pthread_rwlock_timedwrlock
  .type pthread_rwlock_timedwrlock, @function
  .set pthread_rwlock_timedwrlock, cogent_shim_rwlock_timedwrlock
  .globl pthread_rwlock_clockrdlock
  .type pthread_rwlock_clockrdlock, @function
  .set pthread_rwlock_clockrdlock, cogent_shim_rwlock_clockrdlock
  .globl pthread_rwlock_clockwrlock
  .type pthread_rwlock_clockwrlock, @function
  .set pthread_rwlock_clockwrlock, cogent_shim_rwlock_clockwrlock
)");

extern "C" {

int pthread_rwlock_tryrdlock(pthread_rwlock_t* rwlock) noexcept {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_tryrdlock)(rwlock);
  return cogent::shim::try_lock(rwlock, false);
}

int pthread_rwlock_trywrlock(pthread_rwlock_t* rwlock) noexcept {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_trywrlock)(rwlock);
  return cogent::shim::try_lock(rwlock, true);
}

int pthread_rwlock_unlock(pthread_rwlock_t* rwlock) noexcept {
  if (!green_call()) return COGENT_REAL(pthread_rwlock_unlock)(rwlock);
  cogent::shim::ErrnoKeeper keep;
  cogent::shim::GreenRwlock* lock = cogent::shim::rwlocks().find(rwlock);
  // Not known here: locked through libc before the hub existed.
  if (lock == nullptr) return COGENT_REAL(pthread_rwlock_unlock)(rwlock);
  cogent::shim::RuntimeScope scope;
  lock->unlock();
  return 0;
}

// A stale entry at a reused address goes. One with greenlets parked stays (initialising or
// destroying a rwlock they wait on is undefined; destroy answers EBUSY, as POSIX allows).
int pthread_rwlock_init(pthread_rwlock_t* rwlock, const pthread_rwlockattr_t* attr) noexcept {
  if (cogent::shim::calls_may_use_table()) {
    const cogent::shim::GreenRwlock* lock = cogent::shim::rwlocks().find(rwlock);
    if (lock != nullptr && !lock->has_waiters()) cogent::shim::rwlocks().erase(rwlock);
  }
  return COGENT_REAL(pthread_rwlock_init)(rwlock, attr);
}

int pthread_rwlock_destroy(pthread_rwlock_t* rwlock) noexcept {
  if (cogent::shim::calls_may_use_table()) {
    if (const cogent::shim::GreenRwlock* lock = cogent::shim::rwlocks().find(rwlock)) {
      if (lock->has_waiters()) return EBUSY;
      cogent::shim::rwlocks().erase(rwlock);
    }
  }
  return COGENT_REAL(pthread_rwlock_destroy)(rwlock);
}

}  // extern "C"
