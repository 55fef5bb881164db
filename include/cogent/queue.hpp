// gevent.queue for native code: Queue (FIFO), LifoQueue, PriorityQueue, JoinableQueue and
// Channel, shared by greenlets and tasks of one hub. Waiters are served in arrival order: a put
// with getters parked hands its item straight to the first of them, a get from a full queue
// admits the first parked putter's item into the freed slot, and a newcomer never overtakes a
// parked waiter. A waiter killed or timed out leaves the queue and takes nothing with it; one
// handed an item just before its kill still returns it (the kill is raised at its next wait),
// so no item is ever lost.
//
//   cogent::Queue<Job> jobs(100, "jobs");         // bounded; Queue<Job>() is unbounded
//   jobs.put(job);                                // waits while full
//   Job j = jobs.get();                           // waits while empty
//   try { j = jobs.get(50ms); } catch (const cogent::Empty&) { ... }
//   Job j = co_await jobs.async_get();            // in a cogent::Task
//
// As in gevent (since 1.0), a maxsize of 0 means unbounded; a Channel is the rendezvous queue.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/queue_ops.hpp"
#include "cogent/detail/queue_storage.hpp"
#include "cogent/error.hpp"

namespace cogent {

/// What every queue offers; `Storage` decides the order items come out in (see
/// detail/queue_storage.hpp). Use Queue, LifoQueue, PriorityQueue or JoinableQueue.
template <class T, class Storage>
class BasicQueue {
 protected:
  using Core = detail::QueueCore<T, Storage>;

 private:
  using GetOp = detail::GetOperation<Core, Empty, false>;
  using PeekOp = detail::GetOperation<Core, Empty, true>;
  using PutOp = detail::PutOperation<Core, Full>;

 public:
  static_assert(std::is_object_v<T> && std::is_move_constructible_v<T>,
                "cogent queues hold objects that can be moved");
  using value_type = T;

  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  /// Adds `item`, waiting while the queue is full.
  void put(T item) { put_until(std::move(item), TimePoint::max()); }
  /// As put(item), raising Full when no slot came free within `timeout` (the item is dropped).
  template <class Rep, class Period>
  void put(T item, std::chrono::duration<Rep, Period> timeout) {
    put_until(std::move(item), deadline_after(timeout));
  }
  /// A deadline already passed only tries, as put_nowait().
  void put_until(T item, TimePoint deadline) {
    detail::run_blocking<PutOp>("put", deadline, core_, std::move(item), deadline);
  }
  /// Adds `item` if a slot is free now (or a getter waits for it), else raises Full.
  void put_nowait(T item) { put_until(std::move(item), TimePoint::min()); }

  /// Removes and returns the next item, waiting while the queue is empty.
  T get() { return get_until(TimePoint::max()); }
  /// As get(), raising Empty when no item came within `timeout`.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return get_until(deadline_after(timeout));
  }
  T get_until(TimePoint deadline) {
    return detail::run_blocking<GetOp>("get", deadline, core_, deadline);
  }
  /// Removes and returns the next item if there is one now, else raises Empty.
  T get_nowait() { return get_until(TimePoint::min()); }

  /// A copy of the item get() would return, left in the queue; waits while the queue is empty.
  T peek() requires std::copy_constructible<T> { return peek_until(TimePoint::max()); }
  template <class Rep, class Period>
  T peek(std::chrono::duration<Rep, Period> timeout) requires std::copy_constructible<T> {
    return peek_until(deadline_after(timeout));
  }
  T peek_until(TimePoint deadline) requires std::copy_constructible<T> {
    return detail::run_blocking<PeekOp>("peek", deadline, core_, deadline);
  }
  T peek_nowait() requires std::copy_constructible<T> { return peek_until(TimePoint::min()); }

  /// `co_await q.async_put(item)` in a task; with a timeout it raises Full when it ran out.
  auto async_put(T item) { return async_put_until(std::move(item), TimePoint::max()); }
  template <class Rep, class Period>
  auto async_put(T item, std::chrono::duration<Rep, Period> timeout) {
    return async_put_until(std::move(item), deadline_after(timeout));
  }
  auto async_put_until(T item, TimePoint deadline) {
    return detail::OperationAwaiter<PutOp>(deadline, core_, std::move(item), deadline);
  }
  /// `T item = co_await q.async_get();`; with a timeout it raises Empty when it ran out.
  auto async_get() { return async_get_until(TimePoint::max()); }
  template <class Rep, class Period>
  auto async_get(std::chrono::duration<Rep, Period> timeout) {
    return async_get_until(deadline_after(timeout));
  }
  auto async_get_until(TimePoint deadline) {
    return detail::OperationAwaiter<GetOp>(deadline, core_, deadline);
  }
  auto async_peek() requires std::copy_constructible<T> {
    return detail::OperationAwaiter<PeekOp>(TimePoint::max(), core_, TimePoint::max());
  }

  /// Items stored now.
  std::size_t qsize() const noexcept { return core_.size(); }
  bool empty() const noexcept { return core_.size() == 0; }
  /// A bounded queue holding maxsize() items; an unbounded queue is never full.
  bool full() const noexcept { return !core_.has_room(); }
  /// The bound given at construction; 0 for an unbounded queue.
  std::size_t maxsize() const noexcept {
    return core_.capacity() == Core::kUnbounded ? 0 : core_.capacity();
  }
  /// Greenlets and tasks parked in get() or peek(), and in put().
  std::size_t getting() const noexcept { return core_.getters().size(); }
  std::size_t putting() const noexcept { return core_.putters().size(); }

 protected:
  /// `maxsize` 0 means unbounded.
  BasicQueue(const char* kind, std::size_t maxsize, std::string name, Storage storage = Storage(),
             detail::TaskCounter* tasks = nullptr)
      : core_(kind, maxsize == 0 ? Core::kUnbounded : maxsize, std::move(name), std::move(storage),
              tasks) {}
  /// For Channel: a queue with no room at all.
  struct Rendezvous {};
  BasicQueue(Rendezvous, const char* kind, std::string name)
      : core_(kind, 0, std::move(name), Storage(), nullptr) {}
  ~BasicQueue() = default;

  Core core_;
};

/// First in, first out.
template <class T>
class Queue : public BasicQueue<T, detail::FifoStorage<T>> {
 public:
  /// Unbounded.
  Queue() : Queue(0) {}
  /// Holds at most `maxsize` items (0: unbounded, as gevent's Queue(0) since 1.0). `name` is
  /// how LoopExit reports call it ("Queue jobs").
  explicit Queue(std::size_t maxsize, std::string name = {})
      : BasicQueue<T, detail::FifoStorage<T>>("Queue", maxsize, std::move(name)) {}
};

/// Last in, first out: get() returns the newest item.
template <class T>
class LifoQueue : public BasicQueue<T, detail::LifoStorage<T>> {
 public:
  LifoQueue() : LifoQueue(0) {}
  explicit LifoQueue(std::size_t maxsize, std::string name = {})
      : BasicQueue<T, detail::LifoStorage<T>>("LifoQueue", maxsize, std::move(name)) {}
};

/// get() returns the smallest item under `Compare` (equal items in any order). Items are often
/// pairs: `PriorityQueue<std::pair<int, Job>>`.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public BasicQueue<T, detail::HeapStorage<T, Compare>> {
 public:
  PriorityQueue() : PriorityQueue(0) {}
  explicit PriorityQueue(std::size_t maxsize, std::string name = {}, Compare compare = Compare())
      : BasicQueue<T, detail::HeapStorage<T, Compare>>(
            "PriorityQueue", maxsize, std::move(name),
            detail::HeapStorage<T, Compare>(std::move(compare))) {}
};

/// A FIFO Queue that counts the items put and not yet marked done: consumers call task_done()
/// after handling each item they got, and join() waits until every item was handled.
///
///   for (auto& url : urls) work.put(url);
///   work.join();                                  // every worker called task_done()
template <class T>
class JoinableQueue : public BasicQueue<T, detail::FifoStorage<T>> {
  using Base = BasicQueue<T, detail::FifoStorage<T>>;
  using JoinOp = detail::QueueJoinOperation<typename Base::Core>;

 public:
  JoinableQueue() : JoinableQueue(0) {}
  explicit JoinableQueue(std::size_t maxsize, std::string name = {})
      : Base("JoinableQueue", maxsize, std::move(name), {}, &tasks_) {}

  /// Marks one item got from the queue as handled. Throws std::logic_error when called more
  /// times than items were put (gevent raises ValueError).
  void task_done() {
    if (!tasks_.done()) {
      throw std::logic_error("cogent::JoinableQueue::task_done: " + this->core_.name() +
                             " has no unfinished task (called more times than items were put)");
    }
  }
  /// Items put and not yet marked done.
  std::size_t unfinished_tasks() const noexcept { return tasks_.unfinished(); }

  /// Waits until every item put was marked done.
  void join() { join_until(TimePoint::max()); }
  /// As join(), giving up after `timeout`: true when every item was done.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return join_until(deadline_after(timeout));
  }
  bool join_until(TimePoint deadline) {
    return detail::run_blocking<JoinOp>("join", deadline, this->core_, tasks_, deadline);
  }
  /// `co_await q.async_join()`; with a timeout it yields false when the time ran out.
  auto async_join() {
    return detail::OperationAwaiter<JoinOp>(TimePoint::max(), this->core_, tasks_,
                                            TimePoint::max());
  }
  template <class Rep, class Period>
  auto async_join(std::chrono::duration<Rep, Period> timeout) {
    const TimePoint deadline = deadline_after(timeout);
    return detail::OperationAwaiter<JoinOp>(deadline, this->core_, tasks_, deadline);
  }

 private:
  detail::TaskCounter tasks_;  // built after the base, which only stores its address
};

/// An unbuffered rendezvous, as gevent's Channel: put() waits until a getter has taken the item
/// (and has run), get() until a putter offers one. put_nowait() succeeds only when a getter is
/// waiting, get_nowait() only when a putter is. qsize() is always 0; empty() and full() are
/// always true.
///
///   cogent::Channel<int> ch;
///   cogent::spawn([&] { ch.put(1); });           // returns once the main greenlet took it
///   int v = ch.get();
template <class T>
class Channel : private BasicQueue<T, detail::FifoStorage<T>> {
  using Base = BasicQueue<T, detail::FifoStorage<T>>;

 public:
  using value_type = T;

  explicit Channel(std::string name = {})
      : Base(typename Base::Rendezvous{}, "Channel", std::move(name)) {}

  using Base::async_get;
  using Base::async_get_until;
  using Base::async_put;
  using Base::async_put_until;
  using Base::get;
  using Base::get_nowait;
  using Base::get_until;
  using Base::getting;
  using Base::put;
  using Base::put_nowait;
  using Base::put_until;
  using Base::putting;

  std::size_t qsize() const noexcept { return 0; }
  bool empty() const noexcept { return true; }
  bool full() const noexcept { return true; }
  /// Putters waiting minus getters waiting (one of the two is always zero).
  std::ptrdiff_t balance() const noexcept {
    return static_cast<std::ptrdiff_t>(this->putting()) -
           static_cast<std::ptrdiff_t>(this->getting());
  }
};

}  // namespace cogent
