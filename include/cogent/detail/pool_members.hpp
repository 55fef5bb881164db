// The members of a Group or Pool: greenlets of any result type, each watched so that it leaves
// the set the moment it dies (synchronously, inside the hub's finalize, before its joiners
// wake), handing back the pool slot it held to the first spawner waiting for one. Shared by the
// group and the greenlets that spawn into it on its behalf (a map's feeder, an apply_async
// helper), so that those stay safe when the group goes away first. Not public API.
#pragma once

#include <cstddef>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/core.hpp"
#include "cogent/detail/permits.hpp"
#include "cogent/detail/signal.hpp"
#include "cogent/error.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/task.hpp"

namespace cogent::detail {

template <class T>
struct UnwrapTask {
  using type = T;
};
template <class T>
struct UnwrapTask<Task<T>> {
  using type = T;
};
/// The result type of the greenlet cogent::spawn(f, args...) makes (a Task's value for a task).
template <class F, class... Args>
using SpawnValue = typename UnwrapTask<SpawnResult<F, Args...>>::type;

/// A counted reference to a greenlet core of any result type: keeps a member's core valid
/// across a wait during which it may die and leave its group.
class CoreRef {
 public:
  explicit CoreRef(GreenletCore* core) noexcept : core_(core) { core_->retain(); }
  CoreRef(const CoreRef& o) noexcept : CoreRef(o.core_) {}
  CoreRef(CoreRef&& o) noexcept : core_(std::exchange(o.core_, nullptr)) {}
  CoreRef& operator=(CoreRef o) noexcept {
    std::swap(core_, o.core_);
    return *this;
  }
  ~CoreRef() {
    if (core_ != nullptr) core_->release();
  }
  GreenletCore* get() const noexcept { return core_; }
  GreenletCore* operator->() const noexcept { return core_; }

 private:
  GreenletCore* core_;
};

inline std::vector<GreenletCore*> raw_cores(const std::vector<CoreRef>& refs) {
  std::vector<GreenletCore*> cores;
  cores.reserve(refs.size());
  for (const CoreRef& r : refs) cores.push_back(r.get());
  return cores;
}

/// A killed greenlet's outcome is GreenletExit: a join(raise_error) does not count it as a
/// failure (gevent treats GreenletExit as a normal end).
inline bool is_greenlet_exit(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const GreenletExit&) {
    return true;
  } catch (...) {
    return false;
  }
}

class MemberSet {
 public:
  /// With a `limit`, each member holds one of `limit` slots, handed out in arrival order. The
  /// kinds name the waits in LoopExit reports: "waits for all members of Pool workers",
  /// "waits for a slot of Pool workers".
  MemberSet(const char* join_kind, const char* slot_kind, std::optional<std::size_t> limit,
            std::string name)
      : emptied_(join_kind, name) {
    emptied_.set();
    if (limit) slots_.emplace(slot_kind, *limit, Permits::Sharing::kCounting, std::move(name));
  }
  MemberSet(const MemberSet&) = delete;
  MemberSet& operator=(const MemberSet&) = delete;
  ~MemberSet() {
    // Members outlive their group untracked: stop watching them.
    for (Member* m = oldest_; m != nullptr; m = m->newer) m->core->unwatch_death(*m);
  }

  bool contains(const GreenletCore* core) const noexcept {
    return core != nullptr && by_core_.contains(core);
  }
  std::size_t size() const noexcept { return by_core_.size(); }
  bool bounded() const noexcept { return slots_.has_value(); }
  /// Slots nobody holds; without a limit, as many as a size_t counts.
  std::size_t free_slots() const noexcept {
    return slots_ ? slots_->count() : std::numeric_limits<std::size_t>::max();
  }
  /// Set while the set is empty.
  Signal& emptied() noexcept { return emptied_; }
  Permits* slots() noexcept { return slots_ ? &*slots_ : nullptr; }

  /// Waits for a free slot, in arrival order, until `deadline` (TimePoint::min(): only tries).
  /// Always true without a limit. A waiter killed or timed out leaves the line with nothing.
  bool take_slot(TimePoint deadline, const char* api) {
    if (!slots_) return true;
    if (deadline == TimePoint::min()) return slots_->try_take(current_core());
    return run_blocking<AcquireOperation>(api, deadline, *slots_);
  }
  /// Returns a slot taken with take_slot() that no member came to hold.
  void give_slot() noexcept {
    if (slots_) slots_->give();
  }

  /// Waits for a slot (TimePoint::max(): no deadline), spawns with `make` and tracks the new
  /// greenlet. A spawner killed or timed out while it waits gets the exception, with nothing.
  template <class Make>
  auto spawn(Make&& make, const char* api) {
    take_slot(TimePoint::max(), api);
    return track(std::forward<Make>(make));
  }
  /// Spawns with `make` into a slot already taken, and tracks the new greenlet.
  template <class Make>
  auto track(Make&& make) {
    try {
      auto g = std::forward<Make>(make)();
      insert(g.raw_core());
      return g;
    } catch (...) {
      give_slot();
      throw;
    }
  }

  /// Tracks `core` (alive, not a member yet), which holds a slot from now on if there is a
  /// limit: the caller took it.
  void insert(GreenletCore* core) {
    auto owned = std::make_unique<Member>();
    Member& m = *owned;
    m.set = this;
    m.core = core;
    by_core_.emplace(core, std::move(owned));
    m.older = newest_;
    (newest_ != nullptr ? newest_->newer : oldest_) = &m;
    newest_ = &m;
    core->watch_death(m);
    emptied_.clear();
  }
  /// Stops tracking `core` (it runs on) and frees its slot; false when it was not a member.
  bool erase(GreenletCore* core) noexcept {
    auto it = by_core_.find(core);
    if (it == by_core_.end()) return false;
    core->unwatch_death(*it->second);
    remove(*it->second);
    return true;
  }

  /// The members other than `except`, oldest first.
  std::vector<CoreRef> others(const GreenletCore* except) const {
    std::vector<CoreRef> refs;
    refs.reserve(by_core_.size());
    for (Member* m = oldest_; m != nullptr; m = m->newer) {
      if (m->core != except) refs.emplace_back(m->core);
    }
    return refs;
  }
  /// Kills every member other than `except` not killed before (a member that caught
  /// GreenletExit and is cleaning up is not interrupted again). Does not wait.
  void kill_others(const GreenletCore* except) {
    // A member that never ran dies inside request_kill() and leaves the set: walk a snapshot.
    for (const CoreRef& ref : others(except)) {
      auto it = by_core_.find(ref.get());
      if (it == by_core_.end() || it->second->killed) continue;
      it->second->killed = true;
      ref->request_kill();
    }
  }

 private:
  struct Member final : DeathWatch {
    MemberSet* set = nullptr;
    GreenletCore* core = nullptr;
    Member* older = nullptr;
    Member* newer = nullptr;
    bool killed = false;
    void on_death(GreenletCore&) noexcept override { set->remove(*this); }
  };

  void remove(Member& m) noexcept {
    (m.older != nullptr ? m.older->newer : oldest_) = m.newer;
    (m.newer != nullptr ? m.newer->older : newest_) = m.older;
    const GreenletCore* key = m.core;  // erase() destroys m: the key must not live in it
    by_core_.erase(key);
    give_slot();
    if (by_core_.empty()) emptied_.set();
  }

  Signal emptied_;
  std::optional<Permits> slots_;
  std::unordered_map<const GreenletCore*, std::unique_ptr<Member>> by_core_;
  Member* oldest_ = nullptr;
  Member* newest_ = nullptr;
};

/// MemberSet::spawn() for tasks: awaits the slot. Holds the set, not the group: safe if the
/// group goes away meanwhile.
template <class Make>
Task<std::invoke_result_t<Make&>> async_spawn_in(std::shared_ptr<MemberSet> members, Make make) {
  if (Permits* slots = members->slots()) {
    co_await OperationAwaiter<AcquireOperation>(TimePoint::max(), *slots);
  }
  co_return members->track(make);
}

}  // namespace cogent::detail
