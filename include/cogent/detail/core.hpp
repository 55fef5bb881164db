// Internals shared by the public templates and the runtime: the greenlet core every handle points
// at, the operation a greenlet or task waits in, and the suspension that gives one operation its
// two faces (blocking for greenlets, awaitable for C++20 tasks). Not part of the public API.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cogent/clock.hpp"

namespace cogent::detail {

class GreenletCore;
class LocalStorage;

/// A timer armed in the hub's timer heap. `on_fire` runs in the hub when the deadline passes.
struct TimerNode {
  static constexpr std::size_t kDisarmed = ~std::size_t{0};
  TimePoint deadline{};
  std::uint64_t seq = 0;  // FIFO order among equal deadlines
  std::size_t heap_index = kDisarmed;
  void (*on_fire)(TimerNode*) = nullptr;
  bool armed() const noexcept { return heap_index != kDisarmed; }
};

void arm_timer(TimerNode& node, TimePoint deadline);
void disarm_timer(TimerNode& node) noexcept;

/// A primitive one greenlet holds at a time (a lock): LoopExit reports name its holder and find
/// lock cycles through it.
class Holdable {
 public:
  /// "Lock A", "Lock 0x55d0c1a0".
  virtual std::string name() const = 0;
  /// The greenlet holding it, null when free.
  virtual GreenletCore* holder() const noexcept = 0;

 protected:
  ~Holdable() = default;
};

/// Something a greenlet or task is suspended in: a timer, a join, an fd becoming ready...
/// Started once by a Suspension; ends by calling finish(), which wakes the waiter.
class Operation {
 public:
  Operation() = default;
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  /// Registers the wait. May finish() synchronously.
  virtual void start() = 0;
  /// Asks the operation to end early (kill, deadline). It still ends through finish(), possibly
  /// later: an io_uring cancellation completes asynchronously and the kernel may still be using
  /// the operation's memory until then.
  virtual void cancel() noexcept = 0;
  /// What is waited on, for LoopExit messages ("sleep", "join greenlet 3", "fd 7 readable").
  virtual std::string describe() const = 0;
  /// The lock this operation waits to acquire, if it is one: the edges of LoopExit's wait graph.
  virtual const Holdable* awaited_holdable() const noexcept { return nullptr; }

  bool finished() const noexcept { return finished_; }
  /// Finished because it was cancelled, without doing its work (nothing read, nothing accepted).
  bool interrupted() const noexcept { return interrupted_; }
  GreenletCore* waiter() const noexcept { return waiter_; }

 protected:
  ~Operation() = default;
  void finish() noexcept;
  void finish_interrupted() noexcept {
    interrupted_ = true;
    finish();
  }

 private:
  friend class Suspension;
  GreenletCore* waiter_ = nullptr;
  bool finished_ = false;
  bool interrupted_ = false;
};

/// Why a suspension ended, when it did not end by the operation finishing on its own.
enum class WakeReason : std::uint8_t { kFinished, kDeadline };

/// One blocking call in progress: binds an operation to the current greenlet or task, arms the
/// call's deadline, and on wake-up turns kill and loop exit into exceptions.
class Suspension {
 public:
  Suspension(Operation& op, TimePoint deadline) noexcept : op_(op), deadline_(deadline) {}
  Suspension(const Suspension&) = delete;
  Suspension& operator=(const Suspension&) = delete;
  ~Suspension();

  /// Registers `op` for the current stackful greenlet; the caller then switches to the hub.
  /// `api` names the blocking call, for the error raised inside a C++20 task ("sleep").
  void begin_blocking(const char* api);
  /// Registers `op` for the current task, which resumes at `resume_point`.
  void begin_async(std::coroutine_handle<> resume_point);
  /// Called after the waiter resumed: throws GreenletExit / LoopExit when those woke it.
  WakeReason end();

 private:
  void begin(GreenletCore* self);
  static void on_deadline(TimerNode* node);

  struct DeadlineTimer : TimerNode {
    Suspension* owner = nullptr;
  };

  Operation& op_;
  TimePoint deadline_;
  DeadlineTimer timer_;
  GreenletCore* self_ = nullptr;
  bool deadline_hit_ = false;
};

/// Blocks the current greenlet until `op` finishes or `deadline` passes.
WakeReason block_on(Operation& op, TimePoint deadline, const char* api);

/// Awaitable face of an operation: `co_await AsyncWait(op, deadline)`.
class AsyncWait {
 public:
  AsyncWait(Operation& op, TimePoint deadline) noexcept : suspension_(op, deadline) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { suspension_.begin_async(h); }
  WakeReason await_resume() { return suspension_.end(); }

 private:
  Suspension suspension_;
};

/// Notified when a greenlet dies. Intrusive: lives inside the operation that waits.
struct DeathWatch {
  DeathWatch* prev = nullptr;
  DeathWatch* next = nullptr;
  virtual void on_death(GreenletCore& dead) noexcept = 0;

 protected:
  ~DeathWatch() = default;
};

/// State shared by a Greenlet<R> handle and the hub. Single-threaded: a greenlet and its handles
/// belong to the hub (OS thread) that spawned it.
class GreenletCore {
 public:
  enum class State : std::uint8_t { kNew, kRunning, kSuspended, kDead };

  explicit GreenletCore(bool stackless) noexcept;
  GreenletCore(const GreenletCore&) = delete;
  GreenletCore& operator=(const GreenletCore&) = delete;
  virtual ~GreenletCore();

  std::uint64_t id() const noexcept { return id_; }
  State state() const noexcept { return state_; }
  bool stackless() const noexcept { return stackless_; }
  bool dead() const noexcept { return state_ == State::kDead; }
  const std::exception_ptr& error() const noexcept { return error_; }

  void retain() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) delete this;
  }

  /// Raises GreenletExit inside the greenlet at its next switch (at once if it never started).
  void request_kill() noexcept;
  void watch_death(DeathWatch& w) noexcept;
  void unwatch_death(DeathWatch& w) noexcept;
  void add_link(std::function<void()> cb);

  /// Its cogent::local values, null until it makes one (runtime/hub/local_storage.cpp).
  LocalStorage* locals = nullptr;
  /// The usable stack size a stackful greenlet gets when it first runs; 0 for the hub's default
  /// (COGENT_STACK_SIZE). Set before then, e.g. right after spawn.
  std::size_t stack_size = 0;

  // Bodies, implemented by the typed cores in greenlet.hpp.
  virtual void run_body() = 0;                        // stackful: runs the function
  virtual std::coroutine_handle<> task_handle() = 0;  // stackless: the root task
  virtual void collect_task_result() = 0;             // stackless: after the root task finished
  virtual void discard_body() noexcept = 0;           // killed before it ever ran

 protected:
  void set_error(std::exception_ptr e) noexcept { error_ = std::move(e); }

 private:
  friend class Suspension;
  friend class Operation;
  friend class Scheduler;
  friend class GreenletList;
  friend class ReadyQueue;
  friend void fire_timeout(GreenletCore& core, const void* timeout) noexcept;
  friend void forget_timeout(GreenletCore& core, const void* timeout) noexcept;

  std::uint64_t id_;
  std::uint32_t refs_ = 1;
  State state_ = State::kNew;
  bool stackless_;
  bool kill_pending_ = false;
  bool loop_exit_pending_ = false;
  bool queued_ = false;  // in the hub's ready queue
  int saved_errno_ = 0;
  Operation* blocked_on_ = nullptr;
  const void* fired_timeout_ = nullptr;  // a cogent::Timeout that expired and is not raised yet
  std::coroutine_handle<> resume_point_;
  void* fiber_ = nullptr;                        // stackful: context::Fiber living atop its stack
  alignas(void*) unsigned char eh_state_[16]{};  // the C++ runtime's per-thread exception globals
  GreenletCore* next_ready_ = nullptr;
  GreenletCore* prev_live_ = nullptr;
  GreenletCore* next_live_ = nullptr;
  DeathWatch* watchers_ = nullptr;
  std::unique_ptr<std::vector<std::function<void()>>> links_;
  std::exception_ptr error_;
};

/// The greenlet or task running now on this thread; nullptr inside the hub (link callbacks).
GreenletCore* current_core() noexcept;
/// As current_core(), creating this thread's hub first if there is none yet, so that the main
/// greenlet has its identity before it takes a lock.
GreenletCore* running_core();
/// Hands a new core to this thread's hub: it will start on a later loop turn (or at `when`).
/// Takes a reference for the hub until the greenlet dies.
void start_core(GreenletCore* core, TimePoint when = TimePoint::min());
/// Suspends the current stackful greenlet and runs the hub until something schedules it again.
void switch_to_hub();
/// Runs `fn` in the hub on a coming loop turn (not thread-safe; see Hub::post for that).
void call_soon(std::function<void()> fn);

/// A cogent::Timeout of `core` expired: the operation it waits in is interrupted and
/// TimeoutError is raised in it (at once, or at its next blocking call if that operation had
/// already done its work).
void fire_timeout(GreenletCore& core, const void* timeout) noexcept;
/// The Timeout leaves its scope: an expiry not raised yet is dropped.
void forget_timeout(GreenletCore& core, const void* timeout) noexcept;

[[noreturn]] void throw_empty_handle(const char* api);
[[noreturn]] void throw_blocking_in_task(const char* api);

}  // namespace cogent::detail
