// gevent.pool.Group for native code: a set of greenlets and tasks, of any result types, waited
// for and killed together. A member leaves the group the moment it dies, however it ends. A
// Group does not limit how many run at once; cogent::Pool (pool.hpp) is a Group that does.
//
//   cogent::Group group;
//   group.spawn(fetch, "a");  group.spawn(fetch_task, "b");   // a greenlet, a stackless task
//   group.join();                                             // both finished
//   std::vector<Page> pages = group.map(fetch, urls);         // results in input order
//   for (Page& p : group.imap_unordered(fetch, urls)) show(p);  // results as they finish
//   auto pages = co_await group.async_map(fetch, urls);       // in a cogent::Task
//
// Destroying a group leaves its members running, untracked. What it started on its own behalf
// (a map's feeder, an apply_async helper) stays safe: it never touches the group again.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/pool_map.hpp"
#include "cogent/detail/pool_members.hpp"
#include "cogent/error.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/run.hpp"
#include "cogent/task.hpp"

namespace cogent {
namespace detail {

/// An apply_async callback: nullptr, or callable with the result (with nothing for void).
template <class Callback, class R>
constexpr bool fits_result() {
  if constexpr (std::is_null_pointer_v<Callback>) {
    return true;
  } else if constexpr (std::is_void_v<R>) {
    return std::is_invocable_v<Callback&>;
  } else {
    return std::is_invocable_v<Callback&, R&>;
  }
}

}  // namespace detail

class Group {
 public:
  explicit Group(std::string name = {})
      : Group("all members of Group", "a slot of Group", std::nullopt, std::move(name)) {}
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  virtual ~Group() = default;

  /// Members: started, not dead yet.
  std::size_t size() const noexcept { return members_->size(); }
  bool empty() const noexcept { return members_->size() == 0; }
  template <class R>
  bool contains(const Greenlet<R>& g) const noexcept {
    return members_->contains(g.raw_core());
  }

  /// Tracks a greenlet spawned elsewhere (nothing happens if it is dead or a member). A Pool
  /// waits for a free slot first, while `g` already runs.
  template <class R>
  void add(const Greenlet<R>& g) {
    add_until(core_of(g), TimePoint::max());
  }
  /// As add(g), waiting at most `timeout` for a slot (zero: only tries). False when the pool
  /// stayed full (gevent raises PoolFull).
  template <class R, class Rep, class Period>
  bool add(const Greenlet<R>& g, std::chrono::duration<Rep, Period> timeout) {
    return add_until(core_of(g), deadline_after(timeout));
  }
  /// Stops tracking `g`, which runs on; in a Pool its slot is free again.
  template <class R>
  void discard(const Greenlet<R>& g) noexcept {
    if (g) members_->erase(g.raw_core());
  }

  /// spawn() would wait for a slot (never, in a Group).
  bool full() const noexcept { return members_->free_slots() == 0; }
  /// Waits, in line with the spawners, until a slot is free. Takes nothing: a spawner queued
  /// behind may get that slot before the caller spawns.
  void wait_available() { wait_available_until(TimePoint::max()); }
  template <class Rep, class Period>
  bool wait_available(std::chrono::duration<Rep, Period> timeout) {
    return wait_available_until(deadline_after(timeout));
  }

  /// cogent::spawn(f, args...) as a member (stackless when `f` returns a cogent::Task). A Pool
  /// first waits for a free slot, in arrival order; a spawner killed or timed out while waiting
  /// leaves the line with nothing.
  template <class F, class... Args>
  requires(!is_task<std::decay_t<F>>::value) auto spawn(F&& f, Args&&... args) {
    return members_->spawn(
        [&] { return cogent::spawn(std::forward<F>(f), std::forward<Args>(args)...); }, "spawn");
  }
  template <class T>
  Greenlet<T> spawn(Task<T> task) {
    return members_->spawn([&] { return cogent::spawn(std::move(task)); }, "spawn");
  }
  /// In a task: `auto g = co_await pool.async_spawn(f, args...)` awaits the free slot.
  template <class F, class... Args>
  requires(!is_task<std::decay_t<F>>::value)
      Task<Greenlet<detail::SpawnValue<F, Args...>>> async_spawn(F f, Args... args) {
    return detail::async_spawn_in(members_,
                                  [f = std::move(f), ... args = std::move(args)]() mutable {
                                    return cogent::spawn(std::move(f), std::move(args)...);
                                  });
  }
  template <class T>
  Task<Greenlet<T>> async_spawn(Task<T> task) {
    return detail::async_spawn_in(
        members_, [task = std::move(task)]() mutable { return cogent::spawn(std::move(task)); });
  }

  /// Waits until the group is empty (members added meanwhile are waited for too). With
  /// `raise_error`, then rethrows the exception of the oldest member present at the call that
  /// failed (GreenletExit, a kill, does not count). Throws std::logic_error from a member.
  void join(bool raise_error = false) { join_until(TimePoint::max(), raise_error); }
  /// As join(), giving up after `timeout`: true when the group became empty.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout, bool raise_error = false) {
    return join_until(deadline_after(timeout), raise_error);
  }
  Task<bool> async_join(bool raise_error = false) {
    return async_join_until(members_, TimePoint::max(), raise_error);
  }
  template <class Rep, class Period>
  Task<bool> async_join(std::chrono::duration<Rep, Period> timeout, bool raise_error = false) {
    return async_join_until(members_, deadline_after(timeout), raise_error);
  }

  /// Kills every member (each once) and, with `block`, waits until the group is empty; members
  /// added meanwhile are killed too. A member calling it kills the others, waits for them, then
  /// gets GreenletExit itself, as with Greenlet::kill() on itself.
  void kill(bool block = true) { kill_until(TimePoint::max(), block); }
  /// As kill(), waiting at most `timeout`: true when every member died in time.
  template <class Rep, class Period>
  bool kill(std::chrono::duration<Rep, Period> timeout) {
    return kill_until(deadline_after(timeout), true);
  }
  Task<void> async_kill() { return async_kill_in(members_); }

  /// Runs f(args...) in a new member and returns its result, rethrowing its exception. Called
  /// from a member, f runs right there instead: waiting for a slot of a full pool from inside
  /// it could wait forever.
  template <class F, class... Args>
  requires(!is_task<std::decay_t<F>>::value) detail::SpawnValue<F, Args...> apply(F&& f,
                                                                                  Args&&... args) {
    if (members_->contains(detail::current_core())) {
      if constexpr (is_task<detail::SpawnResult<F, Args...>>::value) {
        return detail::take_result(cogent::spawn(std::forward<F>(f), std::forward<Args>(args)...));
      } else {
        return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
      }
    }
    return detail::take_result(spawn(std::forward<F>(f), std::forward<Args>(args)...));
  }

  /// apply_async(f, args..., callback): runs f(args...) in a member without ever waiting and
  /// returns its greenlet. When it succeeds, `callback(result)` (or `callback()` for void) runs
  /// in the hub: it must neither block nor throw. Pass nullptr for no callback. When the pool
  /// is full, a helper greenlet outside the group waits for the slot; the handle returned is
  /// the helper's, with the same result.
  template <class F, class... Rest>
  requires(!is_task<std::decay_t<F>>::value) auto apply_async(F&& f, Rest&&... rest) {
    static_assert(sizeof...(Rest) >= 1,
                  "cogent::Group::apply_async(f, args..., callback): the callback comes last "
                  "(nullptr for none)");
    // Split the pack: the last argument is the callback, the others go to f.
    auto all = std::forward_as_tuple(std::forward<Rest>(rest)...);
    auto split = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return apply_async_with(std::get<sizeof...(Rest) - 1>(std::move(all)), std::forward<F>(f),
                              std::get<I>(std::move(all))...);
    };
    return split(std::make_index_sequence<sizeof...(Rest) - 1>{});
  }

  /// f(item) for every item of `range`, each in a member, started in input order (in a Pool,
  /// at most its size at once); returns the results in input order (nothing when f returns
  /// void). The first item to fail, in completion order, ends the map: no further item starts,
  /// the unfinished ones are killed and waited for, and its exception is rethrown. An item
  /// killed from outside fails with GreenletExit. `range` is read while the map runs.
  template <class F, class Range>
  detail::MapList<detail::MapValue<F, Range>> map(F f, Range&& range) {
    refuse_task("map", "co_await group.async_map(f, range)");
    auto run =
        detail::make_map_run("map results", members_, std::move(f), std::forward<Range>(range));
    run->start(run);
    return detail::collect(*run);
  }
  /// map() for tasks: `auto results = co_await pool.async_map(f, items)`.
  template <class F, class Range>
  Task<detail::MapList<detail::MapValue<F, Range>>> async_map(F f, Range&& range) {
    return detail::async_collect(
        detail::make_map_run("map results", members_, std::move(f), std::forward<Range>(range)));
  }
  /// f(item) for every item, as map(), yielding the results in the order the items finish (a
  /// single-pass input range, for greenlets); an item's exception is rethrown when its turn
  /// comes. Leaving the loop early kills the unfinished items. `range` must outlive the loop.
  template <class F, class Range>
  UnorderedResults<detail::MapValue<F, Range>> imap_unordered(F f, Range&& range) {
    refuse_task("imap_unordered", "co_await group.async_map(f, range)");
    auto run = detail::make_map_run("imap_unordered results", members_, std::move(f),
                                    std::forward<Range>(range));
    run->start(run);
    return UnorderedResults<detail::MapValue<F, Range>>(std::move(run));
  }

 protected:
  Group(const char* join_kind, const char* slot_kind, std::optional<std::size_t> limit,
        std::string name)
      : members_(
            std::make_shared<detail::MemberSet>(join_kind, slot_kind, limit, std::move(name))) {}

  std::shared_ptr<detail::MemberSet> members_;

 private:
  template <class R>
  static detail::GreenletCore* core_of(const Greenlet<R>& g) {
    if (!g) detail::throw_empty_handle("Group::add");
    return g.raw_core();
  }
  static void refuse_task(const char* api, const char* instead) {
    if (detail::GreenletCore* self = detail::current_core(); self != nullptr && self->stackless()) {
      throw std::logic_error(std::string("cogent::Group::") + api +
                             " blocks the hub when called from a C++20 task; use " + instead);
    }
  }
  static void refuse_member(const detail::MemberSet& members, const char* api) {
    if (members.contains(detail::current_core())) {
      throw std::logic_error(std::string("cogent::Group::") + api +
                             ": called from a member of the group, which would wait for itself");
    }
  }
  static void rethrow_first_failure(const std::vector<detail::CoreRef>& watched) {
    for (const detail::CoreRef& ref : watched) {
      const std::exception_ptr& e = ref->error();
      if (e && !detail::is_greenlet_exit(e)) std::rethrow_exception(e);
    }
  }

  bool add_until(detail::GreenletCore* core, TimePoint deadline) {
    if (core->dead() || members_->contains(core)) return true;
    if (!members_->take_slot(deadline, "add")) return false;
    // It may have died, or been added by another greenlet, while this one waited.
    if (core->dead() || members_->contains(core)) {
      members_->give_slot();
      return true;
    }
    try {
      members_->insert(core);
    } catch (...) {
      members_->give_slot();
      throw;
    }
    return true;
  }

  bool wait_available_until(TimePoint deadline) {
    if (!members_->take_slot(deadline, "wait_available")) return false;
    members_->give_slot();
    return true;
  }

  bool join_until(TimePoint deadline, bool raise_error) {
    refuse_member(*members_, "join");
    std::vector<detail::CoreRef> watched;
    if (raise_error) watched = members_->others(nullptr);
    const bool emptied = detail::wait_signal(members_->emptied(), deadline, "join");
    if (raise_error) rethrow_first_failure(watched);
    return emptied;
  }
  // The task faces hold the member set, not the group: a lazy task may start after the group
  // is gone.
  static Task<bool> async_join_until(std::shared_ptr<detail::MemberSet> members, TimePoint deadline,
                                     bool raise_error) {
    refuse_member(*members, "async_join");
    std::vector<detail::CoreRef> watched;
    if (raise_error) watched = members->others(nullptr);
    bool emptied = members->emptied().is_set();
    if (!emptied && deadline != TimePoint::min()) {
      emptied = co_await detail::OperationAwaiter<detail::SignalWait>(deadline, members->emptied());
    }
    if (raise_error) rethrow_first_failure(watched);
    co_return emptied;
  }

  bool kill_until(TimePoint deadline, bool block) {
    detail::GreenletCore* self = detail::current_core();
    bool all_dead = true;
    for (;;) {
      members_->kill_others(self);
      if (!block) break;
      const std::vector<detail::CoreRef> others = members_->others(self);
      if (others.empty()) break;
      detail::JoinAllOperation all(detail::raw_cores(others));
      if (detail::block_on(all, deadline, "kill") == detail::WakeReason::kDeadline) {
        all_dead = false;
        break;
      }
    }
    if (members_->contains(self)) throw GreenletExit();
    return all_dead;
  }
  static Task<void> async_kill_in(std::shared_ptr<detail::MemberSet> members) {
    detail::GreenletCore* self = detail::current_core();
    for (;;) {
      members->kill_others(self);
      const std::vector<detail::CoreRef> others = members->others(self);
      if (others.empty()) break;
      detail::JoinAllOperation all(detail::raw_cores(others));
      co_await detail::AsyncWait(all, TimePoint::max());
    }
    if (members->contains(self)) throw GreenletExit();
  }

  template <class F, class... Args>
  auto apply_async_with(auto&& callback, F&& f, Args&&... args) {
    using R = detail::SpawnValue<F, Args...>;
    using Callback = std::remove_cvref_t<decltype(callback)>;
    static_assert(detail::fits_result<Callback, R>(),
                  "cogent::Group::apply_async: callback(result), callback() for void, or nullptr");
    Greenlet<R> g;
    if (!full()) {
      g = spawn(std::forward<F>(f), std::forward<Args>(args)...);  // a slot is free: no wait
    } else {
      // A helper waits for the slot instead of the caller. It is not a member, so apply() would
      // spawn into the group too: it does so itself, holding the member set only.
      g = cogent::spawn([members = members_, f = std::forward<F>(f),
                         ... args = std::forward<Args>(args)]() mutable -> R {
        return detail::take_result(members->spawn(
            [&] { return cogent::spawn(std::move(f), std::move(args)...); }, "apply_async"));
      });
    }
    if constexpr (!std::is_null_pointer_v<Callback>) {
      g.link(
          [cb = Callback(std::forward<decltype(callback)>(callback))](Greenlet<R>& done) mutable {
            if (!done.successful()) return;
            if constexpr (std::is_void_v<R>) {
              cb();
            } else {
              cb(done.raw_core()->result());
            }
          });
    }
    return g;
  }
};

}  // namespace cogent
