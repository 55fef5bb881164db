#include "hub/scheduler.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "cogent/detail/local_storage.hpp"
#include "cogent/error.hpp"
#include "cogent/greenlet.hpp"
#include "context/overflow_guard.hpp"
#include "hub/switch_state.hpp"

namespace cogent::detail {

// The thread's original stack, adopted as the main greenlet.
class Scheduler::MainCore final : public GreenletCore {
 public:
  MainCore() : GreenletCore(false) {}
  void run_body() override {}
  std::coroutine_handle<> task_handle() override { return {}; }
  void collect_task_result() override {}
  void discard_body() noexcept override {}
  Fiber fiber;
};

// A spawn_later() waiting for its start time; owns a reference to the greenlet meanwhile.
struct Scheduler::DelayedStart final : TimerNode {
  Scheduler* scheduler = nullptr;
  GreenletCore* core = nullptr;
};

namespace {
// The hub stack runs C++20 tasks and link callbacks, so it gets more room than a greenlet;
// sanitizer builds need more still (bigger frames, and no tail calls for symmetric transfer).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::size_t kHubStackSize = 4 * 1024 * 1024;
#else
constexpr std::size_t kHubStackSize = 256 * 1024;
#endif
}  // namespace

void GreenletList::push(GreenletCore* c) noexcept {
  c->prev_live_ = nullptr;
  c->next_live_ = head_;
  if (head_) head_->prev_live_ = c;
  head_ = c;
  ++size_;
}

void GreenletList::erase(GreenletCore* c) noexcept {
  if (c->prev_live_) {
    c->prev_live_->next_live_ = c->next_live_;
  } else {
    head_ = c->next_live_;
  }
  if (c->next_live_) c->next_live_->prev_live_ = c->prev_live_;
  c->prev_live_ = c->next_live_ = nullptr;
  --size_;
}

void ReadyQueue::push(GreenletCore* c) noexcept {
  c->retain();
  c->next_ready_ = nullptr;
  if (tail_) {
    tail_->next_ready_ = c;
  } else {
    head_ = c;
  }
  tail_ = c;
}

GreenletCore* ReadyQueue::pop() noexcept {
  GreenletCore* c = head_;
  if (c == nullptr) return nullptr;
  head_ = c->next_ready_;
  if (head_ == nullptr) tail_ = nullptr;
  c->next_ready_ = nullptr;
  return c;  // the caller owns the queue's reference
}

Scheduler::Scheduler(std::string_view backend)
    : backend_(select_backend(backend)),
      async_io_(backend_->async_io()),
      accepts_(*backend_),
      stacks_(StackPool::default_stack_size()),
      hub_stack_pool_(kHubStackSize),
      main_(std::make_unique<MainCore>()) {
  install_overflow_guard();
  hub_stack_ = hub_stack_pool_.acquire();
  hub_fiber_ = std::make_unique<Fiber>(hub_stack_, &Scheduler::hub_entry, this);
  main_->id_ = 0;
  main_->fiber_ = &main_->fiber;
  main_->state_ = GreenletCore::State::kRunning;
  current_ = main_.get();
}

Scheduler::~Scheduler() {
  destroy_locals(*main_);  // when shutdown() did not run from the main greenlet
  // What is still alive now is stuck for good (or we are exiting from inside a greenlet): its
  // stack and state are abandoned with the process.
  while (GreenletCore* c = batch_.pop()) c->release();
  while (GreenletCore* c = ready_.pop()) c->release();
  while (TimerNode* t = timers_.top()) {
    timers_.erase(*t);
    if (is_delayed_start(*t)) {
      auto* d = static_cast<DelayedStart*>(t);
      d->core->release();
      delete d;
    }
  }
  hub_fiber_.reset();
  hub_stack_pool_.release(hub_stack_);
}

void Scheduler::start(GreenletCore* core, TimePoint when) {
  core->retain();  // the hub's reference, dropped when the greenlet dies
  live_.push(core);
  if (when == TimePoint::min() || when <= Clock::now()) {
    schedule(core);
    return;
  }
  auto* delayed = new DelayedStart;
  delayed->scheduler = this;
  delayed->core = core;
  core->retain();
  delayed->on_fire = &Scheduler::fire_delayed_start;
  timers_.push(*delayed, when);
}

void Scheduler::schedule(GreenletCore* core) noexcept {
  if (core->queued_ || core->dead()) return;
  core->queued_ = true;
  ready_.push(core);
}

void Scheduler::finalize(GreenletCore* core) noexcept {
  destroy_locals(*core);  // while it still counts as alive, before its joiners learn it died
  core->state_ = GreenletCore::State::kDead;
  live_.erase(core);
  while (DeathWatch* w = core->watchers_) {
    core->unwatch_death(*w);
    w->on_death(*core);
  }
  if (core->links_) {
    for (auto& link : *core->links_) callbacks_.push_back(std::move(link));
    core->links_.reset();
  }
}

void Scheduler::switch_to_hub() {
  GreenletCore* self = current_;
  thread_state_.save(self->eh_state_, self->saved_errno_);
  switch_away(fiber_of(self), false);
  reap_exited();
  thread_state_.restore(self->eh_state_, self->saved_errno_);
}

GreenletCore* Scheduler::batch_front_alive() noexcept {
  while (GreenletCore* c = batch_.front()) {
    if (!c->dead()) return c;
    batch_.pop();  // killed before it ever ran
    c->queued_ = false;
    c->release();
  }
  return nullptr;
}

void Scheduler::take_batch_front() noexcept {
  // Drop the queue's reference before running it: a greenlet may hand the thread to others and
  // come back to the hub much later, or never (thread exit). The hub's own reference holds a
  // live greenlet meanwhile.
  GreenletCore* c = batch_.pop();
  c->queued_ = false;
  c->release();
}

GreenletCore* Scheduler::next_in_batch() noexcept {
  // Only greenlets of the running turn: ones made runnable meanwhile wait until the backend has
  // been polled. Tasks run on the hub's stack, so they end the direct hand-off.
  GreenletCore* c = batch_front_alive();
  if (c == nullptr || c->stackless_) return nullptr;
  take_batch_front();
  return c;
}

void Scheduler::switch_away(Fiber& from, bool exiting) {
  // Hand the thread straight to the next greenlet of this turn when there is one: half the
  // switches of going through the hub's loop.
  Fiber* to = hub_fiber_.get();
  if (GreenletCore* next = next_in_batch()) {
    prepare(next);
    to = &fiber_of(next);
  } else {
    current_ = nullptr;
  }
  if (exiting) from.exit_to(*to);
  from.switch_to(*to);
}

void Scheduler::prepare(GreenletCore* core) {
  if (core->fiber_ == nullptr) {
    // The Fiber lives at the top of the greenlet's own stack: one allocation per greenlet.
    StackPool& pool = pool_of(core);
    Stack stack = pool.acquire();
    pool.set_owner(stack, core->id_);
    constexpr std::size_t kHeader = (sizeof(Fiber) + 63) & ~std::size_t{63};
    auto* top = static_cast<unsigned char*>(stack.base) + stack.size - kHeader;
    core->fiber_ =
        new (top) Fiber(Stack{stack.base, stack.size - kHeader}, &Scheduler::greenlet_entry, core);
  }
  current_ = core;
  core->state_ = GreenletCore::State::kRunning;
}

void Scheduler::reap_exited() noexcept {
  // A greenlet that died switched here from its own stack; now that we are off it, recycle it.
  if (GreenletCore* dead = std::exchange(exiting_, nullptr)) {
    release_fiber(dead);
    dead->release();  // the hub's reference
  }
}

void Scheduler::call_soon(std::function<void()> fn) { callbacks_.push_back(std::move(fn)); }

void Scheduler::post(std::function<void()> fn) {
  // All under the lock: once the hub can drain `fn` it may run it, resume the greenlet it wakes,
  // and exit its thread, destroying this scheduler; the poster must be done with us by then.
  std::lock_guard lock(post_mutex_);
  posted_.push_back(std::move(fn));
  has_posts_.store(true, std::memory_order_release);
  backend_->wake();
}

void Scheduler::hub_entry(void* self) { static_cast<Scheduler*>(self)->loop(); }

void Scheduler::loop() {
  for (;;) {
    // One turn runs what was runnable when it began; greenlets made runnable meanwhile wait for
    // the next turn, after the backend has been polled, so I/O is never starved by yielders.
    batch_ = std::exchange(ready_, ReadyQueue{});
    while (GreenletCore* core = batch_front_alive()) {
      take_batch_front();
      run(core);
    }
    if (has_posts_.load(std::memory_order_acquire)) drain_posts();
    if (signal_pending_.load(std::memory_order_acquire)) run_signal_hook();
    if (!callbacks_.empty()) run_callbacks();
    fire_due_timers();
    if (!ready_.empty() || !callbacks_.empty()) {
      if (backend_->pending() > 0) backend_->wait(std::chrono::nanoseconds(0));
      continue;
    }
    if (stuck()) {
      deliver_loop_exit();
      continue;
    }
    std::chrono::nanoseconds timeout(-1);
    if (const TimerNode* next = timers_.top()) {
      timeout = std::max(next->deadline - Clock::now(), Duration::zero());
    }
    backend_->wait(timeout);
    fire_due_timers();
  }
}

void Scheduler::run(GreenletCore* core) {
  if (core->stackless_) {
    run_stackless(core);
  } else {
    run_stackful(core);
  }
}

void Scheduler::run_stackful(GreenletCore* core) {
  prepare(core);
  hub_fiber_->switch_to(fiber_of(core));
  current_ = nullptr;
  reap_exited();
}

void Scheduler::release_fiber(GreenletCore* core) noexcept {
  Fiber& fiber = fiber_of(core);
  const Stack inner = fiber.stack();
  StackPool& pool = pool_of(core);
  fiber.~Fiber();
  core->fiber_ = nullptr;
  pool.release(Stack{inner.base, pool.stack_size()});
}

StackPool& Scheduler::pool_of(const GreenletCore* core) {
  if (core->stack_size == 0) return stacks_;
  for (auto& [size, pool] : sized_stacks_) {
    if (size == core->stack_size) return *pool;
  }
  sized_stacks_.emplace_back(core->stack_size, std::make_unique<StackPool>(core->stack_size));
  return *sized_stacks_.back().second;
}

std::size_t Scheduler::live_stacks() const noexcept {
  std::size_t n = stacks_.live();
  for (const auto& entry : sized_stacks_) n += entry.second->live();
  return n;
}

void Scheduler::greenlet_entry(void* arg) {
  auto* core = static_cast<GreenletCore*>(arg);
  Scheduler& self = current_scheduler();
  self.reap_exited();
  errno = 0;
  core->run_body();
  self.finalize(core);
  self.exiting_ = core;
  self.switch_away(self.fiber_of(core), true);
}

void Scheduler::run_stackless(GreenletCore* core) {
  std::coroutine_handle<> root = core->task_handle();
  std::coroutine_handle<> resume_at =
      core->state_ == GreenletCore::State::kNew ? root : std::exchange(core->resume_point_, {});
  current_ = core;
  core->state_ = GreenletCore::State::kRunning;
  resume_at.resume();
  current_ = nullptr;
  if (root.done()) {
    core->collect_task_result();
    finalize(core);
    core->release();  // the hub's reference
  }
}

void Scheduler::fire_due_timers() {
  if (timers_.empty()) return;
  const TimePoint now = Clock::now();
  while (TimerNode* t = timers_.pop_due(now)) t->on_fire(t);
}

void Scheduler::run_callbacks() {
  // Callbacks queued by these callbacks run on the next turn.
  for (std::size_t n = callbacks_.size(); n > 0; --n) {
    std::function<void()> fn = std::move(callbacks_.front());
    callbacks_.pop_front();
    fn();
  }
}

const GreenletCore* Scheduler::main_core() const noexcept { return main_.get(); }

namespace {
std::atomic<void (*)()> signal_hook{nullptr};
}  // namespace

void set_signal_hook(void (*hook)()) noexcept { signal_hook.store(hook); }

void Scheduler::run_signal_hook() {
  signal_pending_.store(false, std::memory_order_relaxed);
  if (auto* hook = signal_hook.load()) hook();
}

void Scheduler::drain_posts() {
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard lock(post_mutex_);
    posted.swap(posted_);
    has_posts_.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : posted) callbacks_.push_back(std::move(fn));
}

bool Scheduler::stuck() const noexcept {
  // An armed multishot accept nobody waits on cannot wake anyone.
  return ready_.empty() && callbacks_.empty() && timers_.empty() &&
         backend_->pending() <= accepts_.idle() && !has_posts_.load(std::memory_order_acquire) &&
         !signal_pending_.load(std::memory_order_acquire) && external_waits_ == 0;
}

void Scheduler::deliver_loop_exit() {
  // As in gevent, the main greenlet gets the LoopExit: it is the one that can act on it.
  MainCore& m = *main_;
  loop_exit_message_ = describe_waits();
  m.loop_exit_pending_ = true;
  if (m.blocked_on_ != nullptr && !m.blocked_on_->finished()) {
    m.blocked_on_->cancel();
  }
  schedule(&m);
}

std::string Scheduler::describe_waits() const {
  std::vector<const GreenletCore*> cores{main_.get()};
  for (const GreenletCore* c = live_.first(); c != nullptr; c = GreenletList::next(c)) {
    cores.push_back(c);
  }
  // Oldest first (the main greenlet is 0): reports and cycles read in spawn order.
  std::sort(cores.begin() + 1, cores.end(),
            [](const GreenletCore* a, const GreenletCore* b) { return a->id_ < b->id_; });
  auto who = [this](const GreenletCore* c) {
    return c == main_.get() ? std::string("main greenlet") : "greenlet " + std::to_string(c->id_);
  };
  auto awaited = [](const GreenletCore* c) -> const Holdable* {
    return c->blocked_on_ != nullptr ? c->blocked_on_->awaited_holdable() : nullptr;
  };

  std::string s =
      "cogent: this operation would block forever: nothing is runnable and no timer, "
      "I/O or wake-up is pending";
  for (const GreenletCore* c : cores) {
    s += "\n  " + who(c);
    if (c->blocked_on_ == nullptr) {
      s += " is suspended";
      continue;
    }
    s += " waits for " + c->blocked_on_->describe();
    if (const Holdable* lock = awaited(c)) {
      const GreenletCore* holder = lock->holder();
      s += holder != nullptr ? ", held by " + who(holder) : ", which is free";
    }
  }

  // Lock cycles: follow "waits for a lock held by" from each greenlet; a walk that comes back to
  // a greenlet it passed is a cycle, reported once.
  std::unordered_map<const GreenletCore*, std::size_t> walk_of;
  for (std::size_t start = 0; start < cores.size(); ++start) {
    std::vector<const GreenletCore*> path;
    const GreenletCore* c = cores[start];
    while (c != nullptr && !walk_of.contains(c)) {
      walk_of[c] = start;
      path.push_back(c);
      const Holdable* lock = awaited(c);
      c = lock != nullptr ? lock->holder() : nullptr;
    }
    if (c == nullptr || walk_of[c] != start) continue;
    const auto first = std::find(path.begin(), path.end(), c);
    const std::vector<const GreenletCore*> cycle(first, path.end());
    s += "\n  lock cycle: " + who(cycle[0]) + " holds " + awaited(cycle.back())->name() +
         " and waits for " + awaited(cycle[0])->name();
    for (std::size_t i = 1; i < cycle.size(); ++i) {
      s += ", held by " + who(cycle[i]) + ", which waits for " + awaited(cycle[i])->name();
    }
  }
  return s;
}

void Scheduler::shutdown() {
  if (current_ != main_.get()) return;  // exiting from inside a greenlet: abandon the rest
  // The hub is going away (thread exit) with greenlets still alive: kill them and wait, so their
  // destructors run. A greenlet that swallows GreenletExit gets three chances; one that then
  // blocks again for good is abandoned with the thread.
  for (int round = 0; round < 3 && live_.size() > 0; ++round) {
    std::vector<GreenletCore*> cores;
    for (GreenletCore* c = live_.first(); c != nullptr; c = GreenletList::next(c)) {
      c->retain();
      cores.push_back(c);
    }
    for (GreenletCore* c : cores) c->request_kill();
    try {
      JoinAllOperation all(cores);
      block_on(all, TimePoint::max(), "hub teardown");
    } catch (const LoopExit&) {
    } catch (const GreenletExit&) {
    }
    for (GreenletCore* c : cores) c->release();
  }
  destroy_locals(*main_);  // the hub still works for their destructors (closing a socket)
}

bool Scheduler::is_delayed_start(const TimerNode& t) noexcept {
  return t.on_fire == &Scheduler::fire_delayed_start;
}

void Scheduler::fire_delayed_start(TimerNode* n) {
  auto* d = static_cast<DelayedStart*>(n);
  if (!d->core->dead()) d->scheduler->schedule(d->core);
  d->core->release();
  delete d;
}

}  // namespace cogent::detail
