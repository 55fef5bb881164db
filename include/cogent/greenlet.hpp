// Greenlets: cheap concurrent tasks on the current thread's hub, as in gevent. A plain function
// runs as a stackful greenlet (it may call blocking-style cogent functions); a cogent::Task runs
// stackless, resumed by the hub. Both are handled through Greenlet<R>.
//
//   auto g = cogent::spawn([](int x) { cogent::sleep(10ms); return x * 2; }, 21);
//   auto t = cogent::spawn(some_task());      // a C++20 coroutine, no stack of its own
//   cogent::joinall(std::vector{g});          // from main(), another greenlet, anywhere
//   int v = g.get();                          // 42; rethrows what the greenlet threw
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cogent/clock.hpp"
#include "cogent/detail/core.hpp"
#include "cogent/detail/greenlet_core.hpp"
#include "cogent/error.hpp"
#include "cogent/task.hpp"

namespace cogent {

/// Handle to a greenlet or spawned task. Copyable (shared), cheap; belongs to the thread whose hub
/// runs the greenlet. The greenlet runs whether or not handles to it remain.
template <class R = void>
class Greenlet {
 public:
  using value_type = R;

  Greenlet() noexcept = default;
  /// Adopts one reference to `core`.
  explicit Greenlet(detail::TypedCore<R>* core) noexcept : core_(core) {}
  Greenlet(const Greenlet& o) noexcept : core_(o.core_) {
    if (core_) core_->retain();
  }
  Greenlet(Greenlet&& o) noexcept : core_(std::exchange(o.core_, nullptr)) {}
  Greenlet& operator=(Greenlet o) noexcept {
    std::swap(core_, o.core_);
    return *this;
  }
  ~Greenlet() {
    if (core_) core_->release();
  }

  explicit operator bool() const noexcept { return core_ != nullptr; }
  /// Process-wide number, as in "greenlet 7" of LoopExit and overflow messages.
  std::uint64_t id() const { return core("id").id(); }

  /// Finished, one way or another.
  bool ready() const { return core("ready").dead(); }
  /// Finished without an exception. A killed greenlet is not successful: its exception is
  /// GreenletExit (gevent counts that as success; a typed result cannot hold it).
  bool successful() const { return ready() && !core_->error(); }
  /// The exception it ended with, or null.
  std::exception_ptr exception() const { return ready() ? core_->error() : nullptr; }

  /// Waits until it finishes. Never throws what the greenlet threw (get() does).
  void join() const { wait_dead(TimePoint::max(), "join"); }
  /// Waits at most `timeout`; true when it finished.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return wait_dead(deadline_after(timeout), "join");
  }

  /// Waits, then returns its result (a reference to the stored value) or rethrows its exception.
  /// Every call returns the same result.
  decltype(auto) get() const {
    join();
    return result();
  }
  /// As get(), but raises TimeoutError when it has not finished within `timeout`.
  template <class Rep, class Period>
  decltype(auto) get(std::chrono::duration<Rep, Period> timeout) const {
    if (!join(timeout))
      throw TimeoutError("cogent: greenlet " + std::to_string(id()) + " did not finish in time");
    return result();
  }

  /// Raises GreenletExit inside the greenlet at its next switch; a greenlet that never started
  /// never runs. With `block`, waits until it is dead (greenlets only; tasks use async_kill()).
  void kill(bool block = true) const {
    auto& c = core("kill");
    if (&c == detail::current_core()) throw GreenletExit();
    c.request_kill();
    if (block) wait_dead(TimePoint::max(), "kill");
  }

  /// Calls `cb` in the hub once the greenlet has finished (at once on a later turn if it already
  /// has). `cb` takes the handle or nothing; it must not block: spawn a greenlet for that.
  template <class F>
  void link(F cb) const {
    auto& c = core("link");
    Greenlet self(*this);
    if constexpr (std::is_invocable_v<F&, Greenlet&>) {
      c.add_link([cb = std::move(cb), self]() mutable { cb(self); });
    } else {
      c.add_link([cb = std::move(cb)]() mutable { cb(); });
    }
  }

  struct JoinAwaiter {
    Greenlet handle;
    detail::JoinOperation op;
    detail::AsyncWait wait;
    JoinAwaiter(const Greenlet& g, detail::GreenletCore& c)
        : handle(g), op(c), wait(op, TimePoint::max()) {}
    bool await_ready() const noexcept { return handle.core_->dead(); }
    bool suspended = false;
    void await_suspend(std::coroutine_handle<> h) {
      wait.await_suspend(h);
      suspended = true;
    }
    decltype(auto) await_resume() {
      if (suspended) wait.await_resume();
      return handle.result();
    }
  };
  /// `co_await g` waits for it and yields its result (or rethrows).
  JoinAwaiter operator co_await() const { return JoinAwaiter(*this, core("co_await")); }

  struct KillAwaiter {
    Greenlet handle;
    detail::JoinOperation op;
    detail::AsyncWait wait;
    KillAwaiter(const Greenlet& g, detail::GreenletCore& c)
        : handle(g), op(c), wait(op, TimePoint::max()) {
      c.request_kill();
    }
    bool await_ready() const noexcept { return handle.core_->dead(); }
    bool suspended = false;
    void await_suspend(std::coroutine_handle<> h) {
      wait.await_suspend(h);
      suspended = true;
    }
    void await_resume() {
      if (suspended) wait.await_resume();
    }
  };
  /// Awaitable kill(): `co_await g.async_kill()` returns once it is dead.
  KillAwaiter async_kill() const { return KillAwaiter(*this, core("async_kill")); }

  detail::TypedCore<R>* raw_core() const noexcept { return core_; }

 private:
  detail::TypedCore<R>& core(const char* api) const {
    if (!core_) detail::throw_empty_handle(api);
    return *core_;
  }
  bool wait_dead(TimePoint deadline, const char* api) const {
    auto& c = core(api);
    if (c.dead()) return true;
    detail::JoinOperation op(c);
    detail::block_on(op, deadline, api);
    return c.dead();
  }
  decltype(auto) result() const {
    if (core_->error()) std::rethrow_exception(core_->error());
    return core_->result();
  }

  detail::TypedCore<R>* core_ = nullptr;
};

namespace detail {

// The body runs once, so it gets its arguments as rvalues: move-only ones (a socket) work.
template <class F, class... Args>
using SpawnResult = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>...>;

template <class T>
Greenlet<T> adopt_task(Task<T> task, TimePoint when) {
  if (!task.valid()) throw std::invalid_argument("cogent::spawn: empty (moved-from) Task");
  auto* core = new TaskCore<T>(std::move(task));
  Greenlet<T> g(core);
  start_core(core, when);
  return g;
}

template <class F, class... Args>
auto spawn_at(TimePoint when, F&& f, Args&&... args) {
  using R = SpawnResult<F, Args...>;
  if constexpr (is_task<R>::value) {
    return adopt_task(std::invoke(std::forward<F>(f), std::forward<Args>(args)...), when);
  } else {
    auto body = [f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable -> R {
      return std::invoke(f, std::move(args)...);
    };
    auto* core = new FunctionCore<R, decltype(body)>(std::move(body));
    Greenlet<R> g(core);
    start_core(core, when);
    return g;
  }
}

/// Waits until every watched greenlet died, or the deadline; records the order they died in.
class JoinAllOperation final : public Operation {
 public:
  explicit JoinAllOperation(std::vector<GreenletCore*> cores);
  ~JoinAllOperation() { stop_watching(); }
  void start() override;
  void cancel() noexcept override;
  std::string describe() const override;
  /// Indices into the input, in the order those greenlets finished.
  const std::vector<std::size_t>& finished_order() const noexcept { return order_; }

 private:
  struct Watch final : DeathWatch {
    JoinAllOperation* owner = nullptr;
    std::size_t index = 0;
    bool active = false;
    void on_death(GreenletCore& dead) noexcept override;
  };
  void stop_watching() noexcept;

  std::vector<GreenletCore*> cores_;
  std::vector<Watch> watches_;
  std::vector<std::size_t> order_;
  std::size_t pending_ = 0;
};

template <class Range>
using HandleOf = std::remove_cvref_t<std::ranges::range_value_t<Range>>;

template <class Range>
std::vector<GreenletCore*> cores_of(const Range& handles) {
  std::vector<GreenletCore*> cores;
  if constexpr (std::ranges::sized_range<Range>) cores.reserve(std::ranges::size(handles));
  for (const auto& g : handles) {
    if (!g) throw_empty_handle("joinall");
    cores.push_back(g.raw_core());
  }
  return cores;
}

template <class Range>
std::vector<HandleOf<Range>> pick_finished(const Range& handles, const JoinAllOperation& op) {
  std::vector<HandleOf<Range>> all(std::ranges::begin(handles), std::ranges::end(handles));
  std::vector<HandleOf<Range>> done;
  done.reserve(op.finished_order().size());
  for (std::size_t i : op.finished_order()) done.push_back(all[i]);
  return done;
}

}  // namespace detail

/// Starts `f(args...)` in a new greenlet on this thread's hub; it runs on a coming loop turn.
/// When `f` returns a cogent::Task, the task is spawned instead (stackless). Arguments are copied
/// into the greenlet (use std::ref to share).
template <class F, class... Args>
requires(!is_task<std::decay_t<F>>::value) auto spawn(F&& f, Args&&... args) {
  return detail::spawn_at(TimePoint::min(), std::forward<F>(f), std::forward<Args>(args)...);
}

/// Spawns a C++20 task as a stackless greenlet, resumed on the hub's stack.
template <class T>
Greenlet<T> spawn(Task<T> task) {
  return detail::adopt_task(std::move(task), TimePoint::min());
}

/// As spawn(), but the greenlet starts after `delay`.
template <class Rep, class Period, class F, class... Args>
requires(!is_task<std::decay_t<F>>::value) auto spawn_later(
    std::chrono::duration<Rep, Period> delay, F&& f, Args&&... args) {
  return detail::spawn_at(deadline_after(delay), std::forward<F>(f), std::forward<Args>(args)...);
}
template <class Rep, class Period, class T>
Greenlet<T> spawn_later(std::chrono::duration<Rep, Period> delay, Task<T> task) {
  return detail::adopt_task(std::move(task), deadline_after(delay));
}

/// Waits until every greenlet in `handles` finished; returns them in the order they finished.
template <class Range>
auto joinall(const Range& handles) {
  detail::JoinAllOperation op(detail::cores_of(handles));
  detail::block_on(op, TimePoint::max(), "joinall");
  return detail::pick_finished(handles, op);
}

/// As joinall(handles), but gives up after `timeout`: returns the ones that finished by then.
template <class Range, class Rep, class Period>
auto joinall(const Range& handles, std::chrono::duration<Rep, Period> timeout) {
  detail::JoinAllOperation op(detail::cores_of(handles));
  detail::block_on(op, deadline_after(timeout), "joinall");
  return detail::pick_finished(handles, op);
}

/// Awaitable joinall: `auto done = co_await cogent::async_joinall(handles)`.
template <class Range>
Task<std::vector<detail::HandleOf<Range>>> async_joinall(Range handles) {
  detail::JoinAllOperation op(detail::cores_of(handles));
  co_await detail::AsyncWait(op, TimePoint::max());
  co_return detail::pick_finished(handles, op);
}
template <class Range, class Rep, class Period>
Task<std::vector<detail::HandleOf<Range>>> async_joinall(Range handles,
                                                         std::chrono::duration<Rep, Period> t) {
  detail::JoinAllOperation op(detail::cores_of(handles));
  co_await detail::AsyncWait(op, deadline_after(t));
  co_return detail::pick_finished(handles, op);
}

/// Kills every greenlet in `handles`; with `block`, waits until all are dead.
template <class Range>
void killall(const Range& handles, bool block = true) {
  auto cores = detail::cores_of(handles);
  for (auto* c : cores) {
    if (c == detail::current_core()) throw std::logic_error("cogent::killall: includes the caller");
    c->request_kill();
  }
  if (block) joinall(handles);
}

}  // namespace cogent
