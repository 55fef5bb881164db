// gevent.event for native code. An Event is a flag greenlets wait for; an AsyncResult<T> is a
// value (or an exception) that one greenlet sets and others wait for, as a one-shot future.
//
//   cogent::Event ready;
//   cogent::spawn([&] { load(); ready.set(); });
//   ready.wait();                                  // or: if (!ready.wait(1s)) ...
//
//   cogent::AsyncResult<int> answer;
//   cogent::spawn([&] { answer.set(42); });
//   int v = answer.get();                          // 42; co_await answer.async_get() in a task
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/signal.hpp"
#include "cogent/error.hpp"

namespace cogent {

class Event {
 public:
  explicit Event(std::string name = {}) : signal_("Event", std::move(name)) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// Sets the flag and wakes every waiter, in the order they began waiting.
  void set() noexcept { signal_.set(); }
  /// Resets the flag: later waits block until the next set().
  void clear() noexcept { signal_.clear(); }
  bool is_set() const noexcept { return signal_.is_set(); }
  bool ready() const noexcept { return signal_.is_set(); }

  /// Waits until the flag is set.
  void wait() { detail::wait_signal(signal_, TimePoint::max(), "wait"); }
  /// Waits at most `timeout`; true when it was set (gevent returns the flag).
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return detail::wait_signal(signal_, deadline_after(timeout), "wait");
  }
  bool wait_until(TimePoint deadline) { return detail::wait_signal(signal_, deadline, "wait"); }

  auto async_wait() {
    return detail::OperationAwaiter<detail::SignalWait>(TimePoint::max(), signal_);
  }
  template <class Rep, class Period>
  auto async_wait(std::chrono::duration<Rep, Period> timeout) {
    return detail::OperationAwaiter<detail::SignalWait>(deadline_after(timeout), signal_);
  }

  /// Greenlets and tasks waiting now.
  std::size_t waiting() const noexcept { return signal_.waiting(); }

 private:
  detail::Signal signal_;
};

namespace detail {
template <class T>
struct ResultStore {
  std::optional<T> value;
  T& get() { return *value; }
  template <class... A>
  void emplace(A&&... a) {
    value.emplace(std::forward<A>(a)...);
  }
};
template <>
struct ResultStore<void> {
  void get() {}
  void emplace() {}
};
}  // namespace detail

/// A value or exception delivered once, waited for by any number of greenlets and tasks. Setting
/// it again replaces the value (as gevent allows); waiters already woken see the new one.
template <class T = void>
class AsyncResult {
 public:
  explicit AsyncResult(std::string name = {}) : signal_("AsyncResult", std::move(name)) {}
  AsyncResult(const AsyncResult&) = delete;
  AsyncResult& operator=(const AsyncResult&) = delete;

  /// Stores the value and wakes every waiter.
  template <class... A>
  void set(A&&... value) {
    error_ = nullptr;
    store_.emplace(std::forward<A>(value)...);
    signal_.set();
  }
  /// Stores an exception that get() will rethrow, and wakes every waiter.
  void set_exception(std::exception_ptr e) {
    if (!e) throw std::invalid_argument("cogent::AsyncResult::set_exception: null exception");
    error_ = std::move(e);
    signal_.set();
  }

  bool ready() const noexcept { return signal_.is_set(); }
  bool successful() const noexcept { return ready() && !error_; }
  std::exception_ptr exception() const noexcept { return error_; }

  /// Waits for the result; returns the stored value (a reference) or rethrows the exception.
  decltype(auto) get() {
    detail::wait_signal(signal_, TimePoint::max(), "get");
    return take();
  }
  /// As get(), but raises TimeoutError when nothing was set within `timeout`.
  template <class Rep, class Period>
  decltype(auto) get(std::chrono::duration<Rep, Period> timeout) {
    if (!detail::wait_signal(signal_, deadline_after(timeout), "get")) {
      throw TimeoutError("cogent: AsyncResult::get timed out");
    }
    return take();
  }
  /// The result without waiting: throws TimeoutError when it is not set (gevent's get_nowait).
  decltype(auto) get_nowait() {
    if (!ready()) throw TimeoutError("cogent: AsyncResult::get_nowait: no result yet");
    return take();
  }
  /// Waits without rethrowing; true when set.
  void wait() { detail::wait_signal(signal_, TimePoint::max(), "wait"); }
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return detail::wait_signal(signal_, deadline_after(timeout), "wait");
  }

  /// `co_await r.async_get()` yields the value or rethrows.
  auto async_get() {
    struct Awaiter {
      AsyncResult& r;
      detail::OperationAwaiter<detail::SignalWait> wait;
      bool await_ready() { return wait.await_ready(); }
      void await_suspend(std::coroutine_handle<> h) { wait.await_suspend(h); }
      decltype(auto) await_resume() {
        wait.await_resume();
        return r.take();
      }
    };
    return Awaiter{*this, detail::OperationAwaiter<detail::SignalWait>(TimePoint::max(), signal_)};
  }
  auto async_wait() {
    return detail::OperationAwaiter<detail::SignalWait>(TimePoint::max(), signal_);
  }
  template <class Rep, class Period>
  auto async_wait(std::chrono::duration<Rep, Period> timeout) {
    return detail::OperationAwaiter<detail::SignalWait>(deadline_after(timeout), signal_);
  }

 private:
  decltype(auto) take() {
    if (error_) std::rethrow_exception(error_);
    return store_.get();
  }

  detail::Signal signal_;
  detail::ResultStore<T> store_;
  std::exception_ptr error_;
};

}  // namespace cogent
