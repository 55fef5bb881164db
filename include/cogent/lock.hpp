// gevent.lock for native code: Semaphore, BoundedSemaphore, Lock and RLock. Waiters are served
// in arrival order: a release hands the permit straight to the first waiter, so nobody can
// overtake it. A waiter that is killed or timed out leaves the queue and takes nothing with it;
// one granted the lock just before its kill keeps it (and is killed at its next wait), so a lock
// is never lost. All of them work with std::lock_guard, std::unique_lock and std::scoped_lock.
//
//   cogent::Lock lock("accounts");
//   { std::lock_guard g(lock); balance += 10; }
//   if (lock.acquire(50ms)) { ...; lock.release(); }
//   auto g = co_await lock.async_guard();       // in a cogent::Task
//
// A greenlet that waits for a lock held in a cycle (greenlet 2 holds A and waits for B, greenlet
// 3 holds B and waits for A) is reported by cogent::LoopExit with that cycle spelled out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "cogent/detail/permits.hpp"

namespace cogent {

/// A counter of permits: acquire() takes one (waiting while there is none), release() returns
/// one. Any greenlet may release.
class Semaphore : public detail::PermitLock<Semaphore> {
 public:
  explicit Semaphore(std::size_t value = 1, std::string name = {})
      : Semaphore("Semaphore", value, std::numeric_limits<std::size_t>::max(), std::move(name)) {}

  /// Returns a permit, to the longest waiter if any.
  void release();
  /// Permits available now.
  std::size_t value() const noexcept { return permits_.count(); }
  /// acquire() would wait.
  bool locked() const noexcept { return permits_.count() == 0; }

 protected:
  Semaphore(const char* kind, std::size_t value, std::size_t bound, std::string name)
      : PermitLock(kind, value, detail::Permits::Sharing::kCounting, std::move(name)),
        bound_(bound) {}

 private:
  std::size_t bound_;
};

/// A Semaphore that refuses to be released more times than it was acquired: a release past its
/// initial value throws std::logic_error (gevent raises ValueError) and changes nothing.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::size_t value = 1, std::string name = {})
      : Semaphore("BoundedSemaphore", value, value, std::move(name)) {}
};

/// A mutual-exclusion lock. As in gevent it is not owner-checked (another greenlet may release
/// it), but its holder is recorded for LoopExit reports. Releasing it while unlocked throws
/// std::logic_error. Acquiring it again from its holder deadlocks, and LoopExit says so.
class Lock : public detail::PermitLock<Lock> {
 public:
  explicit Lock(std::string name = {})
      : PermitLock("Lock", 1, detail::Permits::Sharing::kExclusive, std::move(name)) {}

  void release() {
    if (!locked()) [[unlikely]]
      throw_not_locked();
    permits_.give();
  }
  bool locked() const noexcept { return permits_.count() == 0; }
  /// Greenlet::id() of the holder; 0 for a thread's main greenlet and when unlocked.
  std::uint64_t holder_id() const noexcept;

 private:
  [[noreturn]] void throw_not_locked() const;
};

/// A reentrant, owner-aware lock: its holder may acquire it again (each acquire needs its own
/// release); a release by a greenlet that does not hold it throws std::logic_error.
class RLock : public detail::PermitLock<RLock> {
 public:
  explicit RLock(std::string name = {})
      : PermitLock("RLock", 1, detail::Permits::Sharing::kReentrant, std::move(name)) {}

  void release();
  bool locked() const noexcept { return permits_.count() == 0; }
  /// Held by the calling greenlet or task.
  bool owned() const { return locked() && permits_.holder() == detail::running_core(); }
  /// How many times its holder has acquired it (0 when unlocked).
  std::size_t depth() const noexcept { return permits_.depth(); }
};

}  // namespace cogent
