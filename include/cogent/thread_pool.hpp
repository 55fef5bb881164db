// gevent.threadpool for native code: a blocking call (a native library, getaddrinfo, a file read
// on the epoll backend, a long computation) runs on one of a few OS threads while the calling
// greenlet or task waits cooperatively, and the hub keeps running everyone else.
//
//   cogent::ThreadPool pool(4);
//   long n = pool.submit(count_primes, 1'000'000);              // in a greenlet
//   long m = co_await pool.async_submit(count_primes, 1'000);   // in a cogent::Task
//
// Cancellation (kill, a cogent::Timeout, LoopExit) of a call still queued removes it: it never
// runs and the error is raised at once. A call already running on a pool thread cannot be
// interrupted — it may be writing into the caller's memory — so the waiter stays suspended until
// it returns; its result is then dropped and the error (GreenletExit, TimeoutError) raised.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/core.hpp"

namespace cogent {

class Hub;

namespace detail {

class ThreadPoolCore;
class ThreadPoolOperation;

/// One submitted call, on the heap so that the pool thread never writes into the waiter's stack
/// or coroutine frame. Two references: the waiting operation's and the pool's; both are dropped
/// on the submitting hub's thread (the pool's in the completion it posts there), so the call's
/// function object and arguments are destroyed on that thread too.
class PoolJob {
 public:
  PoolJob(const PoolJob&) = delete;
  PoolJob& operator=(const PoolJob&) = delete;

  /// On a pool thread: makes the call and keeps its value or exception.
  virtual void run() noexcept = 0;

 protected:
  PoolJob() = default;
  virtual ~PoolJob() = default;

 private:
  friend class ThreadPoolCore;
  friend class ThreadPoolOperation;
  enum class State : std::uint8_t { kIdle, kQueued, kRunning, kAbandoned };

  void retain() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) delete this;
  }

  std::uint8_t refs_ = 1;       // hub thread only (see above)
  State state_ = State::kIdle;  // under the pool's mutex
  PoolJob* prev_ = nullptr;     // the pool's queue, under its mutex
  PoolJob* next_ = nullptr;
  Hub* hub_ = nullptr;                     // where the completion is posted
  ThreadPoolOperation* waiter_ = nullptr;  // hub thread only; null once the operation is gone
};

/// What `f(args...)` returned, kept until the waiter collects it.
template <class R>
class PoolResult {
 public:
  template <class Call>
  void fill(Call&& call) {
    value_.emplace(std::forward<Call>(call)());
  }
  R take() { return std::move(*value_); }

 private:
  std::optional<R> value_;
};

template <class R>
class PoolResult<R&> {
 public:
  template <class Call>
  void fill(Call&& call) {
    value_ = std::addressof(std::forward<Call>(call)());
  }
  R& take() { return *value_; }

 private:
  R* value_ = nullptr;
};

template <>
class PoolResult<void> {
 public:
  template <class Call>
  void fill(Call&& call) {
    std::forward<Call>(call)();
  }
  void take() {}
};

/// `f(args...)` with decay-copied F and Args, invoked as rvalues (as std::thread does).
template <class F, class... Args>
class PoolCall final : public PoolJob {
 public:
  using Result = std::invoke_result_t<F, Args...>;

  template <class G, class... A>
  explicit PoolCall(G&& f, A&&... args) : call_(std::forward<G>(f), std::forward<A>(args)...) {}

  void run() noexcept override {
    try {
      result_.fill([this]() -> Result {
        return std::apply(
            [](auto&&... a) -> Result { return std::invoke(std::forward<decltype(a)>(a)...); },
            std::move(call_));
      });
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  Result take() {
    if (error_) std::rethrow_exception(error_);
    return result_.take();
  }

 private:
  std::tuple<F, Args...> call_;
  PoolResult<Result> result_;
  std::exception_ptr error_;
};

/// The wait for one pool job, shared by both faces: start() queues the job and holds the hub
/// open (it must not report LoopExit while a pool thread still owes it a wake-up); the pool
/// thread posts the completion back to the hub, which finishes the operation.
class ThreadPoolOperation : public Operation {
 public:
  void start() override;
  void cancel() noexcept override;
  std::string describe() const override;

  /// In the submitting hub, once the pool is done with `job` (ran it, or abandoned it).
  static void on_pool_done(PoolJob* job) noexcept;

 protected:
  ThreadPoolOperation(std::shared_ptr<ThreadPoolCore> pool, PoolJob* job) noexcept
      : pool_(std::move(pool)), job_(job) {}
  ~ThreadPoolOperation();
  /// Throws cogent::Error when the pool was destroyed before the job ran.
  void check_ran() const;
  PoolJob* job() const noexcept { return job_; }

 private:
  std::shared_ptr<ThreadPoolCore> pool_;  // kept alive for cancel() after the pool is gone
  PoolJob* job_;
  bool cancelled_ = false;
};

/// The typed face of ThreadPoolOperation: creates the PoolCall and hands back its result.
template <class F, class... Args>
class SubmitOperation final : public ThreadPoolOperation {
 public:
  using Call = PoolCall<F, Args...>;

  template <class G, class... A>
  SubmitOperation(std::shared_ptr<ThreadPoolCore> pool, G&& f, A&&... args)
      : ThreadPoolOperation(std::move(pool),
                            new Call(std::forward<G>(f), std::forward<A>(args)...)) {}

  typename Call::Result result(WakeReason) {
    check_ran();
    return static_cast<Call*>(job())->take();
  }
};

}  // namespace detail

/// A pool of OS threads for blocking native calls. Threads start lazily, as jobs arrive, up to
/// `max_threads`; idle ones wait for work, and end after 2 s without any. Jobs run in submission
/// order.
class ThreadPool {
 public:
  /// gevent's default size.
  static constexpr std::size_t kDefaultMaxThreads = 10;

  ThreadPool() : ThreadPool(kDefaultMaxThreads) {}
  /// std::invalid_argument when `max_threads` is 0.
  explicit ThreadPool(std::size_t max_threads);
  /// Stops accepting jobs, fails the queued ones (their waiters get cogent::Error "thread pool
  /// destroyed"), lets the running ones finish — blocking this thread until they do — and joins
  /// the threads.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// The process-wide pool (DNS, file I/O on the epoll backend): COGENT_THREADPOOL_SIZE threads
  /// (a positive integer; anything else is std::invalid_argument), else 10. Never destroyed.
  static ThreadPool& shared();

  std::size_t max_threads() const noexcept;
  /// Threads running now: started on demand, up to max_threads(); one idle for 2 s ends.
  std::size_t threads() const;

  /// Runs `f(args...)` on a pool thread and suspends the calling greenlet until it returns: its
  /// value, or its exception rethrown. `f` and `args` are decay-copied into the job.
  template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
  decltype(auto) submit(F&& f, Args&&... args) {
    using Op = detail::SubmitOperation<std::decay_t<F>, std::decay_t<Args>...>;
    return detail::run_blocking<Op>("submit", TimePoint::max(), core_, std::forward<F>(f),
                                    std::forward<Args>(args)...);
  }

  /// Awaitable submit for tasks: `co_await pool.async_submit(f, args...)`.
  template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
  auto async_submit(F&& f, Args&&... args) {
    using Op = detail::SubmitOperation<std::decay_t<F>, std::decay_t<Args>...>;
    return detail::OperationAwaiter<Op>(TimePoint::max(), core_, std::forward<F>(f),
                                        std::forward<Args>(args)...);
  }

 private:
  std::shared_ptr<detail::ThreadPoolCore> core_;
};

}  // namespace cogent
