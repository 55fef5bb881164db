// The counter behind Semaphore, BoundedSemaphore, Lock and RLock, and the operation that waits
// for one of its permits. Not public API.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/parked.hpp"

namespace cogent::detail {

/// `count` permits handed out in arrival order. A release with waiters parked gives the permit
/// straight to the first of them, so a newcomer can never overtake a waiter.
class Permits final : public Holdable {
 public:
  enum class Sharing : std::uint8_t {
    kCounting,   // a semaphore: any number of holders, not tracked
    kExclusive,  // a lock: one holder, named in LoopExit lock cycles
    kReentrant,  // a reentrant lock: its holder may take it again
  };

  Permits(const char* kind, std::size_t count, Sharing sharing, std::string name)
      : kind_(kind), count_(count), sharing_(sharing), name_(std::move(name)) {}

  /// Takes a permit for `who` when one is free and nobody waits (or `who` holds it reentrantly).
  bool try_take(GreenletCore* who) noexcept {
    if (sharing_ == Sharing::kReentrant && count_ == 0 && holder_ == who) {
      ++depth_;
      return true;
    }
    if (count_ == 0 || !waiters_.empty()) return false;
    --count_;
    holder_ = who;
    depth_ = 1;
    return true;
  }
  /// Returns a permit (one level of a reentrant hold): to the first waiter if there is one.
  void give() noexcept {
    if (waiters_.empty() && sharing_ != Sharing::kReentrant) [[likely]] {
      ++count_;
      holder_ = nullptr;
      return;
    }
    give_slow();
  }

  std::size_t count() const noexcept { return count_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }
  WaitList& waiters() noexcept { return waiters_; }
  bool exclusive() const noexcept { return sharing_ != Sharing::kCounting; }
  std::size_t depth() const noexcept { return count_ == 0 ? depth_ : 0; }
  const char* kind() const noexcept { return kind_; }

  std::string name() const override;
  GreenletCore* holder() const noexcept override { return count_ == 0 ? holder_ : nullptr; }

 private:
  void give_slow() noexcept;

  const char* kind_;
  std::size_t count_;
  Sharing sharing_;
  GreenletCore* holder_ = nullptr;
  std::size_t depth_ = 0;
  WaitList waiters_;
  std::string name_;
};

class AcquireOperation final : public ParkedOperation {
 public:
  explicit AcquireOperation(Permits& permits) noexcept : permits_(permits) {}
  bool ready_now() { return permits_.try_take(running_core()); }
  void start() override;
  std::string describe() const override { return permits_.name(); }
  const Holdable* awaited_holdable() const noexcept override {
    return permits_.exclusive() ? &permits_ : nullptr;
  }
  bool result(WakeReason) const noexcept { return !interrupted(); }

 private:
  Permits& permits_;
};

/// Everything the locks share: the permits, blocking and awaitable acquires with and without
/// timeouts, std::lock_guard / std::unique_lock support (lock, unlock, try_lock, try_lock_for,
/// try_lock_until) and the guard for tasks. `Self` adds release(), with its own misuse check.
template <class Self>
class PermitLock {
 public:
  void acquire() {
    if (try_acquire()) [[likely]]
      return;
    run_blocking<AcquireOperation>("acquire", TimePoint::max(), permits_);
  }
  /// Waits at most `timeout`; true when acquired.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(deadline_after(timeout));
  }
  /// Waits until `deadline`; true when acquired. A deadline already passed only tries.
  bool acquire_until(TimePoint deadline) {
    if (deadline == TimePoint::min()) return try_acquire();
    return run_blocking<AcquireOperation>("acquire", deadline, permits_);
  }
  bool try_acquire() { return permits_.try_take(running_core()); }

  /// `co_await m.async_acquire()`; with a timeout it yields false when the time ran out.
  auto async_acquire() { return async_acquire_until(TimePoint::max()); }
  template <class Rep, class Period>
  auto async_acquire(std::chrono::duration<Rep, Period> timeout) {
    return async_acquire_until(deadline_after(timeout));
  }
  auto async_acquire_until(TimePoint deadline) {
    return OperationAwaiter<AcquireOperation>(deadline, permits_);
  }

  /// For tasks: `auto guard = co_await m.async_guard();` holds it until the guard goes away.
  auto async_guard() {
    struct Awaiter {
      Self& lock;
      OperationAwaiter<AcquireOperation> acquire;
      bool await_ready() { return acquire.await_ready(); }
      void await_suspend(std::coroutine_handle<> h) { acquire.await_suspend(h); }
      std::unique_lock<Self> await_resume() {
        acquire.await_resume();
        return std::unique_lock<Self>(lock, std::adopt_lock);
      }
    };
    return Awaiter{self(), OperationAwaiter<AcquireOperation>(TimePoint::max(), permits_)};
  }

  void lock() { acquire(); }
  void unlock() { self().release(); }
  bool try_lock() { return try_acquire(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire(timeout);
  }
  bool try_lock_until(TimePoint deadline) { return acquire_until(deadline); }

  /// Greenlets and tasks waiting to acquire.
  std::size_t waiting() const noexcept { return permits_.waiting(); }

 protected:
  PermitLock(const char* kind, std::size_t count, Permits::Sharing sharing, std::string name)
      : permits_(kind, count, sharing, std::move(name)) {}
  PermitLock(const PermitLock&) = delete;
  PermitLock& operator=(const PermitLock&) = delete;
  ~PermitLock() = default;

  Permits permits_;

 private:
  Self& self() noexcept { return static_cast<Self&>(*this); }
};

}  // namespace cogent::detail
