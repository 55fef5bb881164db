// The state behind every cogent queue and the operations that wait on it. A QueueCore holds the
// stored items and two FIFO wait lists, getters (and peekers) and putters, and keeps this
// invariant: getters wait only while no item is stored, putters only while no slot is free. So
// a put with a getter parked hands its item straight to that getter, a get that frees a slot
// admits the first putter's item at once, and a newcomer never overtakes a parked waiter.
// A capacity of zero makes a rendezvous (Channel): every item goes from a putter to a getter.
// Not public API.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/parked.hpp"
#include "cogent/detail/signal.hpp"

namespace cogent::detail {

/// A get or peek parked on a queue: the queue delivers the item (a copy, for a peek) into it.
template <class T>
class ItemTaker : public ParkedOperation {
 public:
  bool peeking() const noexcept { return peek_; }
  void deliver(T&& item) { item_.emplace(std::move(item)); }

 protected:
  explicit ItemTaker(bool peek) noexcept : peek_(peek) {}
  ~ItemTaker() = default;

  std::optional<T> item_;

 private:
  bool peek_;
};

/// A put parked on a queue, holding its item until the queue takes it.
template <class T>
class ItemGiver : public ParkedOperation {
 public:
  T& item() noexcept { return item_; }
  /// The queue took the item (moved it out).
  void mark_given() noexcept { given_ = true; }

 protected:
  explicit ItemGiver(T&& item) : item_(std::move(item)) {}
  ~ItemGiver() = default;

  T item_;
  bool given_ = false;
};

/// JoinableQueue's count of items put and not yet marked done, with the signal join() waits for.
class TaskCounter {
 public:
  TaskCounter() : all_done_("JoinableQueue") { all_done_.set(); }

  void add() noexcept {
    ++unfinished_;
    all_done_.clear();
  }
  /// False (and nothing changes) when every task was already done.
  bool done() noexcept {
    if (unfinished_ == 0) return false;
    if (--unfinished_ == 0) all_done_.set();
    return true;
  }
  std::size_t unfinished() const noexcept { return unfinished_; }
  Signal& all_done() noexcept { return all_done_; }

 private:
  std::size_t unfinished_ = 0;
  Signal all_done_;
};

template <class T, class Storage>
class QueueCore {
 public:
  using value_type = T;
  static constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();

  QueueCore(const char* kind, std::size_t capacity, std::string name, Storage storage,
            TaskCounter* tasks)
      : kind_(kind),
        capacity_(capacity),
        name_(std::move(name)),
        items_(std::move(storage)),
        tasks_(tasks) {}
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  std::size_t size() const noexcept { return items_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  bool rendezvous() const noexcept { return capacity_ == 0; }
  bool has_room() const noexcept { return items_.size() < capacity_; }
  WaitList& getters() noexcept { return getters_; }
  WaitList& putters() noexcept { return putters_; }
  const WaitList& getters() const noexcept { return getters_; }
  const WaitList& putters() const noexcept { return putters_; }
  TaskCounter* tasks() const noexcept { return tasks_; }
  /// "Queue jobs", "LifoQueue 0x55d0c1a0".
  std::string name() const { return primitive_name(kind_, name_, this); }

  /// Hands `item` to the first parked getter (copies to the peekers before it) or stores it.
  /// False, with `item` untouched, when the put must wait.
  bool try_put(T& item) {
    if (!putters_.empty()) return false;  // earlier putters are waiting for a slot
    while (!getters_.empty()) {
      auto* taker = static_cast<ItemTaker<T>*>(getters_.front());
      if (!taker->peeking()) {
        taker->deliver(std::move(item));
        getters_.pop_front();
        accepted();
        taker->serve();
        return true;
      }
      if constexpr (std::is_copy_constructible_v<T>) taker->deliver(T(item));
      getters_.pop_front();
      taker->serve();
    }
    if (!has_room()) return false;
    items_.push(std::move(item));
    accepted();
    return true;
  }

  /// Takes the next item into `out`, then admits a parked putter into the freed slot. False
  /// when the get must wait.
  bool try_get(std::optional<T>& out) {
    if (!getters_.empty()) return false;  // earlier getters are waiting for an item
    if (!items_.empty()) {
      out.emplace(items_.pop());
      admit_putters();
      return true;
    }
    if (putters_.empty()) return false;
    // A rendezvous (a stored queue has no parked putter while empty): take the item from the
    // putter itself.
    auto* giver = static_cast<ItemGiver<T>*>(putters_.front());
    out.emplace(std::move(giver->item()));
    giver->mark_given();
    putters_.pop_front();
    accepted();
    giver->serve();
    return true;
  }

  /// Copies the next item into `out` without taking it. False when the peek must wait.
  bool try_peek(std::optional<T>& out) {
    if (!getters_.empty() || items_.empty()) return false;
    out.emplace(items_.front());
    return true;
  }

 private:
  void admit_putters() {
    while (has_room() && !putters_.empty()) {
      auto* giver = static_cast<ItemGiver<T>*>(putters_.front());
      items_.push(std::move(giver->item()));  // strong guarantee: on failure the putter keeps it
      giver->mark_given();
      putters_.pop_front();
      accepted();
      giver->serve();
    }
  }
  void accepted() noexcept {
    if (tasks_ != nullptr) tasks_->add();
  }

  const char* kind_;
  std::size_t capacity_;  // kUnbounded, or 0 for a rendezvous
  std::string name_;
  Storage items_;
  WaitList getters_;
  WaitList putters_;
  TaskCounter* tasks_;
};

/// Why a get or put waits, as LoopExit reports and Full/Empty messages say it.
template <class Core>
std::string get_wait_reason(const Core& core, bool peek) {
  return core.name() + (peek ? " peek" : " get") +
         (core.rendezvous() ? " (no putter)" : " (empty)");
}
template <class Core>
std::string put_wait_reason(const Core& core) {
  return core.name() + (core.rendezvous() ? " put (no getter)" : " put (full)");
}

/// get() or, with kPeek, peek(). A deadline of TimePoint::min() only tries. Gives up with
/// `Failure` (cogent::Empty).
template <class Core, class Failure, bool kPeek>
class GetOperation final : public ItemTaker<typename Core::value_type> {
 public:
  using T = typename Core::value_type;

  GetOperation(Core& core, TimePoint deadline) noexcept
      : ItemTaker<T>(kPeek), core_(core), try_only_(deadline == TimePoint::min()) {}

  bool ready_now() { return try_take() || try_only_; }
  void start() override {
    if (try_take()) {
      this->finish();
      return;
    }
    this->park(core_.getters());
  }
  std::string describe() const override { return get_wait_reason(core_, kPeek); }
  T result(WakeReason) {
    if (!this->item_) throw Failure("cogent: " + describe());
    return std::move(*this->item_);
  }

 private:
  bool try_take() {
    if constexpr (kPeek) {
      return core_.try_peek(this->item_);
    } else {
      return core_.try_get(this->item_);
    }
  }

  Core& core_;
  bool try_only_;
};

/// put(). A deadline of TimePoint::min() only tries. Gives up with `Failure` (cogent::Full).
template <class Core, class Failure>
class PutOperation final : public ItemGiver<typename Core::value_type> {
 public:
  using T = typename Core::value_type;

  PutOperation(Core& core, T&& item, TimePoint deadline)
      : ItemGiver<T>(std::move(item)), core_(core), try_only_(deadline == TimePoint::min()) {}

  bool ready_now() {
    // A blocking put into a rendezvous hands its item over in start(), which then reschedules
    // the putter behind the getter: as in gevent, put() returns after the getter has run.
    if (core_.rendezvous() && !try_only_) return false;
    return try_give() || try_only_;
  }
  void start() override {
    if (try_give()) {
      this->finish();
      return;
    }
    this->park(core_.putters());
  }
  std::string describe() const override { return put_wait_reason(core_); }
  void result(WakeReason) {
    if (!this->given_) throw Failure("cogent: " + describe());
  }

 private:
  bool try_give() {
    if (!core_.try_put(this->item_)) return false;
    this->given_ = true;
    return true;
  }

  Core& core_;
  bool try_only_;
};

/// JoinableQueue::join(): waits until every item put was marked done; yields whether it was.
template <class Core>
class QueueJoinOperation final : public ParkedOperation {
 public:
  QueueJoinOperation(const Core& core, TaskCounter& tasks, TimePoint deadline) noexcept
      : core_(core), tasks_(tasks), try_only_(deadline == TimePoint::min()) {}

  bool ready_now() noexcept {
    joined_ = tasks_.all_done().is_set();
    return joined_ || try_only_;
  }
  void start() override {
    if (tasks_.all_done().is_set()) {
      joined_ = true;
      finish();
      return;
    }
    park(tasks_.all_done().waiters());
  }
  std::string describe() const override {
    return core_.name() + " join (" + std::to_string(tasks_.unfinished()) + " unfinished)";
  }
  bool result(WakeReason) const noexcept { return joined_ || (finished() && !interrupted()); }

 private:
  const Core& core_;
  TaskCounter& tasks_;
  bool try_only_;
  bool joined_ = false;
};

}  // namespace cogent::detail
