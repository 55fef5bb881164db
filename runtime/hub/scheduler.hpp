// The hub's machinery: the ready queue, the timer heap, the backend, the greenlet stacks and the
// run loop, which runs in a fiber of its own. One Scheduler per OS thread, behind cogent::Hub.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "backend/accept_queue.hpp"
#include "backend/backend.hpp"
#include "cogent/detail/core.hpp"
#include "context/fiber.hpp"
#include "context/stack_pool.hpp"
#include "hub/fd_waiters.hpp"
#include "hub/switch_state.hpp"
#include "hub/timer_heap.hpp"

namespace cogent::detail {

/// Every greenlet of a hub that has started (or is about to) and not died: for LoopExit
/// reports and for killing what is left when the hub goes away.
class GreenletList {
 public:
  void push(GreenletCore* c) noexcept;
  void erase(GreenletCore* c) noexcept;
  GreenletCore* first() const noexcept { return head_; }
  static GreenletCore* next(const GreenletCore* c) noexcept { return c->next_live_; }
  std::size_t size() const noexcept { return size_; }

 private:
  GreenletCore* head_ = nullptr;
  std::size_t size_ = 0;
};

/// FIFO of runnable greenlets, linked through the cores. Holds a reference to each entry, so a
/// greenlet killed while queued stays valid until the hub pops it.
class ReadyQueue {
 public:
  void push(GreenletCore* c) noexcept;
  GreenletCore* pop() noexcept;
  GreenletCore* front() const noexcept { return head_; }
  bool empty() const noexcept { return head_ == nullptr; }

 private:
  GreenletCore* head_ = nullptr;
  GreenletCore* tail_ = nullptr;
};

class Scheduler {
 public:
  explicit Scheduler(std::string_view backend);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  GreenletCore* current() const noexcept { return current_; }
  /// The thread's own stack as a greenlet.
  const GreenletCore* main_core() const noexcept;
  Backend& backend() noexcept { return *backend_; }
  /// The backend performs socket and file calls itself (io_uring): cached Backend::async_io().
  bool async_io() const noexcept { return async_io_; }
  TimerHeap& timers() noexcept { return timers_; }
  FdWaiters& fd_waiters() noexcept { return fd_waiters_; }
  AcceptQueues& accepts() noexcept { return accepts_; }
  const GreenletList& live() const noexcept { return live_; }
  std::size_t live_stacks() const noexcept;

  void start(GreenletCore* core, TimePoint when);
  /// Makes a suspended or new greenlet runnable on a coming turn (no-op if it already is).
  void schedule(GreenletCore* core) noexcept;
  /// Marks `core` dead, wakes its joiners and queues its link callbacks.
  void finalize(GreenletCore* core) noexcept;
  /// Suspends the current stackful greenlet until it is scheduled again.
  void switch_to_hub();
  void call_soon(std::function<void()> fn);
  void post(std::function<void()> fn);
  /// Kills the greenlets still alive and waits for them (thread exit). From the main greenlet only.
  void shutdown();
  /// The report for a greenlet woken by LoopExit.
  std::string take_loop_exit_message() { return std::move(loop_exit_message_); }
  /// Work outstanding outside the hub (a thread pool job) that will wake a waiter through post():
  /// while any is held the hub is not stuck, so it waits instead of raising LoopExit.
  void hold_external() noexcept { ++external_waits_; }
  void release_external() noexcept { --external_waits_; }
  /// In the child of a fork() made by the running greenlet: makes this hub the child's own, with
  /// that greenlet as its only survivor (hub/after_fork.cpp). Throws when the new backend cannot
  /// be made.
  void after_fork_in_child();
  /// Async-signal-safe, from any thread: a signal handler ran; the hub runs the signal hook (see
  /// set_signal_hook) on its next turn, woken if it is waiting.
  void notify_signal() noexcept {
    signal_pending_.store(true, std::memory_order_release);
    backend_->wake();
  }

 private:
  class MainCore;
  struct DelayedStart;

  void loop();
  void run(GreenletCore* core);
  void run_stackful(GreenletCore* core);
  void prepare(GreenletCore* core);
  /// The first greenlet of this turn's batch that is still alive (dead ones are dropped).
  GreenletCore* batch_front_alive() noexcept;
  void take_batch_front() noexcept;
  GreenletCore* next_in_batch() noexcept;
  void switch_away(Fiber& from, bool exiting);
  void reap_exited() noexcept;
  void run_stackless(GreenletCore* core);
  void fire_due_timers();
  void run_callbacks();
  void drain_posts();
  void run_signal_hook();
  bool stuck() const noexcept;
  void deliver_loop_exit();
  std::string describe_waits() const;
  Fiber& fiber_of(GreenletCore* core) noexcept { return *static_cast<Fiber*>(core->fiber_); }
  void release_fiber(GreenletCore* core) noexcept;
  /// The pool of `core`'s stacks: the default one, or one per other size asked for.
  StackPool& pool_of(const GreenletCore* core);

  static bool is_delayed_start(const TimerNode& t) noexcept;
  static void fire_delayed_start(TimerNode* n);
  static void hub_entry(void* self);
  static void greenlet_entry(void* core);

  std::unique_ptr<Backend> backend_;
  bool async_io_;
  AcceptQueues accepts_;
  TimerHeap timers_;
  FdWaiters fd_waiters_;
  ReadyQueue ready_;
  ReadyQueue batch_;  // the part of the ready queue this loop turn runs
  GreenletList live_;
  StackPool stacks_;
  std::vector<std::pair<std::size_t, std::unique_ptr<StackPool>>> sized_stacks_;
  StackPool hub_stack_pool_;
  Stack hub_stack_{};
  std::unique_ptr<Fiber> hub_fiber_;
  std::unique_ptr<MainCore> main_;
  GreenletCore* current_ = nullptr;
  GreenletCore* exiting_ = nullptr;  // died on its own stack; recycled once we are off it
  std::deque<std::function<void()>> callbacks_;
  std::mutex post_mutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> has_posts_{false};
  std::atomic<bool> signal_pending_{false};
  std::size_t external_waits_ = 0;
  std::string loop_exit_message_;
  ThreadState thread_state_;
};

/// This thread's scheduler (creating the hub on first use).
Scheduler& current_scheduler();

/// What a hub runs, inside the hub, on the turn after notify_signal() (one hook per process: the
/// preload library's, which turns a signal into EINTR for the call it interrupted).
void set_signal_hook(void (*hook)()) noexcept;

}  // namespace cogent::detail
