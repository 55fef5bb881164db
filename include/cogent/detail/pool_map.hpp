// One map() or imap_unordered() of a Group or Pool in progress. A feeder greenlet (not a member,
// as in gevent) spawns one member per input item, waiting for a pool slot before each, so at
// most the pool's size run at once; every item's death is recorded in completion order and
// wakes the consumer. Stopping it (a failure, the consumer gone) kills the feeder and the
// unfinished items. Not public API.
#pragma once

#include <cstddef>
#include <deque>
#include <exception>
#include <limits>
#include <list>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/core.hpp"
#include "cogent/detail/pool_members.hpp"
#include "cogent/detail/signal.hpp"
#include "cogent/greenlet.hpp"

namespace cogent::detail {

/// The result type of f(item) for the items of `Range`.
template <class F, class Range>
using MapValue = SpawnValue<F&, std::ranges::range_reference_t<std::views::all_t<Range>>>;
/// What map() returns: the results, or nothing for a function returning void.
template <class R>
using MapList = std::conditional_t<std::is_void_v<R>, void, std::vector<std::remove_cvref_t<R>>>;

template <class R>
class MapRun {
 public:
  static constexpr std::size_t kFeeder = std::numeric_limits<std::size_t>::max();

  /// A finished item (or the feeder's failure: index kFeeder, no item).
  struct Outcome {
    std::size_t index;
    Greenlet<R> item;
    std::exception_ptr error;
  };

  explicit MapRun(const char* kind) : progress_(kind) {}
  MapRun(const MapRun&) = delete;
  MapRun& operator=(const MapRun&) = delete;
  virtual ~MapRun() {
    for (Watch& w : watches_) w.item.raw_core()->unwatch_death(w);
    if (feeding_ && feeder_) feeder_.raw_core()->unwatch_death(feeder_watch_);
  }

  /// Spawns the feeder; it holds `run` until it ends.
  static void start(const std::shared_ptr<MapRun>& run) {
    run->feeder_ = cogent::spawn([run] { run->feed(); });
    run->feeder_watch_.run = run.get();
    run->feeder_.raw_core()->watch_death(run->feeder_watch_);
  }

  /// The next outcome in completion order, waiting for it; nullopt once every item was
  /// consumed. Greenlets only; tasks loop on pop() and progress().
  std::optional<Outcome> next(const char* api) {
    for (;;) {
      if (auto o = pop()) return o;
      if (exhausted()) return std::nullopt;
      progress_.clear();
      wait_signal(progress_, TimePoint::max(), api);
    }
  }
  std::optional<Outcome> pop() {
    if (done_.empty()) return std::nullopt;
    Outcome o = std::move(done_.front());
    done_.pop_front();
    return o;
  }
  /// Nothing more will ever be popped.
  bool exhausted() const noexcept { return done_.empty() && !feeding_ && watches_.empty(); }
  /// Set whenever an outcome is recorded or the feeding ends; the consumer clears it.
  Signal& progress() noexcept { return progress_; }

  /// Ends the run early: no item starts any more, the feeder and the unfinished items are
  /// killed. Returns them, for the caller to wait for if it wants to.
  std::vector<CoreRef> stop() {
    stopped_ = true;
    std::vector<CoreRef> victims;
    if (feeding_ && feeder_) victims.emplace_back(feeder_.raw_core());
    for (Watch& w : watches_) victims.emplace_back(w.item.raw_core());
    // One that never ran dies inside request_kill() and leaves watches_: walk the copy.
    for (CoreRef& v : victims) v->request_kill();
    return victims;
  }

 protected:
  bool stopped() const noexcept { return stopped_; }
  void watch(Greenlet<R> item, std::size_t index) {
    Watch& w = watches_.emplace_back();
    w.run = this;
    w.index = index;
    w.self = std::prev(watches_.end());
    w.item = std::move(item);
    w.item.raw_core()->watch_death(w);
  }

 private:
  struct Watch final : DeathWatch {
    MapRun* run = nullptr;
    std::size_t index = 0;
    Greenlet<R> item;
    typename std::list<Watch>::iterator self;
    void on_death(GreenletCore& dead) noexcept override {
      MapRun& r = *run;
      r.done_.push_back(Outcome{index, std::move(item), dead.error()});
      r.watches_.erase(self);  // destroys this watch
      r.progress_.set();
    }
  };
  struct FeederWatch final : DeathWatch {
    MapRun* run = nullptr;
    void on_death(GreenletCore& dead) noexcept override {
      run->feeding_ = false;
      // Killed by stop(): not a failure of the run.
      if (dead.error() && !run->stopped_) run->done_.push_back(Outcome{kFeeder, {}, dead.error()});
      run->progress_.set();
    }
  };

  /// Runs in the feeder greenlet: spawns the items, in input order.
  virtual void feed() = 0;

  Signal progress_;
  std::deque<Outcome> done_;
  std::list<Watch> watches_;  // items not finished yet
  Greenlet<void> feeder_;
  FeederWatch feeder_watch_;
  bool feeding_ = true;
  bool stopped_ = false;
};

/// The feeder's side: spawns f(item) into `members` for each item of `view`.
template <class R, class View, class F>
class MapFeed final : public MapRun<R> {
 public:
  MapFeed(const char* kind, std::shared_ptr<MemberSet> members, View view, F f)
      : MapRun<R>(kind), members_(std::move(members)), view_(std::move(view)), f_(std::move(f)) {}

 private:
  void feed() override {
    std::size_t index = 0;
    for (auto&& item : view_) {
      members_->take_slot(TimePoint::max(), "map");
      // Stopped while this feeder waited for the slot it was then given: the consumer may be
      // gone, and the range and the group with it. Touch neither; the member set is shared.
      if (this->stopped()) {
        members_->give_slot();
        return;
      }
      Greenlet<R> g =
          members_->track([&] { return cogent::spawn(f_, std::forward<decltype(item)>(item)); });
      this->watch(std::move(g), index++);
    }
  }

  std::shared_ptr<MemberSet> members_;
  View view_;
  F f_;
};

/// Results of a map gathered back into input order. Each result is moved out of its greenlet as
/// it arrives, so the greenlet (and its memory) is recycled at once rather than kept to the end.
template <class R>
class InputOrder {
 public:
  using Value = std::remove_cvref_t<R>;

  void put(typename MapRun<R>::Outcome&& o) {
    if constexpr (!std::is_void_v<R>) {
      if (o.index >= items_.size()) items_.resize(o.index + 1);
      if constexpr (std::is_reference_v<R>) {
        items_[o.index] = std::addressof(o.item.raw_core()->result());
      } else {
        items_[o.index].emplace(std::move(o.item.raw_core()->result()));
      }
    }
  }
  auto take() {
    if constexpr (std::is_void_v<R>) {
      return;
    } else {
      std::vector<Value> out;
      out.reserve(items_.size());
      for (auto& slot : items_) out.push_back(std::move(*slot));
      return out;
    }
  }

 private:
  using Slot =
      std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, std::optional<Value>>;
  std::vector<std::conditional_t<std::is_void_v<R>, char, Slot>> items_;
};

/// A run of f over `range` spawning into `members`; start() it.
template <class F, class Range>
std::shared_ptr<MapRun<MapValue<F, Range>>> make_map_run(const char* kind,
                                                         std::shared_ptr<MemberSet> members, F f,
                                                         Range&& range) {
  using View = std::views::all_t<Range>;
  return std::make_shared<MapFeed<MapValue<F, Range>, View, F>>(
      kind, std::move(members), std::views::all(std::forward<Range>(range)), std::move(f));
}

/// Waits for every item of a started run; returns their results in input order. On the first
/// failure (or this greenlet's kill or Timeout) stops the run, waits for the items it killed,
/// and rethrows.
template <class R>
MapList<R> collect(MapRun<R>& run) {
  InputOrder<R> results;
  std::exception_ptr failure;
  try {
    while (auto o = run.next("map")) {
      if (o->error) {
        failure = o->error;
        break;
      }
      results.put(std::move(*o));
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    const std::vector<CoreRef> victims = run.stop();
    JoinAllOperation all(raw_cores(victims));
    try {
      block_on(all, TimePoint::max(), "map");
    } catch (...) {
      // Killed again while they die: they are killed anyway, and the first failure tells more.
    }
    std::rethrow_exception(failure);
  }
  return results.take();
}

/// collect() for tasks; starts the run when first resumed.
template <class R>
Task<MapList<R>> async_collect(std::shared_ptr<MapRun<R>> run) {
  MapRun<R>::start(run);
  InputOrder<R> results;
  std::exception_ptr failure;
  try {
    for (;;) {
      auto o = run->pop();
      if (!o) {
        if (run->exhausted()) break;
        run->progress().clear();
        co_await OperationAwaiter<SignalWait>(TimePoint::max(), run->progress());
        continue;
      }
      if (o->error) {
        failure = o->error;
        break;
      }
      results.put(std::move(*o));
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {  // no co_await inside a handler: the cleanup waits here
    const std::vector<CoreRef> victims = run->stop();
    JoinAllOperation all(raw_cores(victims));
    try {
      co_await AsyncWait(all, TimePoint::max());
    } catch (...) {
    }
    std::rethrow_exception(failure);
  }
  co_return results.take();
}

}  // namespace cogent::detail

namespace cogent {

/// What imap_unordered() returns: a single-pass input range over the results, in the order the
/// items finished. Advancing waits for the next result (greenlets only) and rethrows an item's
/// exception when it is reached; iteration may go on after catching it. Destroying it early
/// (a `break`, an exception) kills the items not finished yet and starts no more.
template <class R>
class UnorderedResults {
 public:
  static_assert(!std::is_void_v<R>, "imap_unordered needs results: use map() or spawn()");

  class iterator {
   public:
    using value_type = std::remove_cvref_t<R>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    /// The current result, held until the iterator advances.
    R& operator*() const { return owner_->current_.raw_core()->result(); }
    iterator& operator++() {
      owner_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const noexcept { return owner_->finished_; }

   private:
    friend class UnorderedResults;
    explicit iterator(UnorderedResults* owner) noexcept : owner_(owner) {}
    UnorderedResults* owner_ = nullptr;
  };

  explicit UnorderedResults(std::shared_ptr<detail::MapRun<R>> run) : run_(std::move(run)) {}
  UnorderedResults(UnorderedResults&&) noexcept = default;
  UnorderedResults& operator=(UnorderedResults&&) = delete;
  ~UnorderedResults() {
    if (run_) run_->stop();
  }

  /// Waits for the first result.
  iterator begin() {
    advance();
    return iterator(this);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  void advance() {
    current_ = Greenlet<R>();
    auto o = run_->next("imap_unordered");
    if (!o) {
      finished_ = true;
      return;
    }
    if (o->error) std::rethrow_exception(o->error);
    current_ = std::move(o->item);
  }

  std::shared_ptr<detail::MapRun<R>> run_;
  Greenlet<R> current_;
  bool finished_ = false;
};

}  // namespace cogent
