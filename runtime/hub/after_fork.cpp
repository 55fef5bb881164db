// The hub in the child of fork(). Natively only the thread that called fork() lives on in the
// child; under cogent only the greenlet that called it may. Everything else the parent's hub knew
// is the parent's business and must stay untouched:
// - the other greenlets never run again (they are marked dead without dying: no unwinding, no
//   link callbacks, no joiners woken), and the waits they had parked in locks, conditions and
//   queues are taken out, so that a lock released in the child is not handed to a greenlet that
//   does not exist there (natively a released mutex is simply free);
// - the backend is the parent's: the io_uring rings are memory shared with the parent, the epoll
//   instance and the wake-up eventfd are the very same kernel objects. The child's copy of it is
//   closed (its descriptors and mappings only; nothing is submitted, cancelled or unregistered)
//   and a fresh backend of the same kind takes its place;
// - timers, ready queues, posted functions, link callbacks and pool wake-ups belonged to the
//   others: dropped without being run or destroyed (their captures are the others' objects).
// A cogent::Timeout of the surviving greenlet itself, armed around the fork, is dropped with the
// rest. The runtime's ThreadPool is reset by its own fork handler (pool/thread_pool.cpp).
#include <cstddef>
#include <deque>
#include <functional>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "cogent/detail/parked.hpp"
#include "hub/scheduler.hpp"

namespace cogent::detail {

void Scheduler::after_fork_in_child() {
  GreenletCore* const self = current_;
  auto* const main = const_cast<GreenletCore*>(main_core());

  std::vector<GreenletCore*> others;
  for (GreenletCore* c = live_.first(); c != nullptr; c = GreenletList::next(c)) {
    if (c != self) others.push_back(c);
  }
  if (self != main) others.push_back(main);
  // Dead first: a wait taken out below finishes, and finishing schedules its waiter, which is
  // then a no-op.
  std::vector<Operation*> waits;
  for (GreenletCore* c : others) {
    if (c->blocked_on_ != nullptr) waits.push_back(std::exchange(c->blocked_on_, nullptr));
    c->state_ = GreenletCore::State::kDead;
  }
  // Only parked waits: the others are registered with the parent's backend or thread pool, and
  // cancelling them would reach those.
  for (Operation* op : waits) {
    auto* parked = dynamic_cast<ParkedOperation*>(op);
    if (parked != nullptr && parked->parked()) parked->cancel();
  }
  // Joiners of the survivor are among the others; its links were registered by them too.
  self->watchers_ = nullptr;
  static_cast<void>(self->links_.release());
  self->queued_ = false;

  live_ = GreenletList{};
  if (self != main) live_.push(self);
  ready_ = ReadyQueue{};
  batch_ = ReadyQueue{};
  while (TimerNode* t = timers_.top()) timers_.erase(*t);
  fd_waiters_ = FdWaiters{};
  // Left on the heap on purpose: see the top comment.
  auto* dropped_callbacks = new std::deque<std::function<void()>>;
  dropped_callbacks->swap(callbacks_);
  // A pool thread may have held the lock when the parent forked; it does not exist here.
  new (&post_mutex_) std::mutex;
  auto* dropped_posts = new std::vector<std::function<void()>>;
  dropped_posts->swap(posted_);
  has_posts_.store(false, std::memory_order_relaxed);
  loop_exit_message_.clear();
  // LoopExit goes to the main greenlet, which does not exist in a child forked by another
  // greenlet: there a wait that can never end hangs, as it would natively, instead of being
  // reported. The hold is never released.
  external_waits_ = self != main ? 1 : 0;

  const std::string kind = backend_->name();
  backend_.reset();
  backend_ = select_backend(kind);
  async_io_ = backend_->async_io();
  // The old queues' standing requests were in the parent's ring: forgotten, not destroyed (their
  // destructor would cancel them through the backend).
  new (&accepts_) AcceptQueues(*backend_);
}

}  // namespace cogent::detail
