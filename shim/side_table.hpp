// What the shim keeps beside a libc synchronisation object that greenlets use — a mutex's cogent
// lock, a rwlock's readers and writer, a barrier's round, a semaphore's waiters — found by the
// object's address. An entry is made on first cooperative use and dropped when the program
// initialises or destroys the object again (or, for state that only exists while greenlets wait,
// when the last of them leaves). Only the hub thread touches a table, in cooperative calls or in
// the hub itself, so it has no lock; a table is never destroyed, since greenlets still run while
// the process exits.
//
//   auto& table = SideTable<pthread_rwlock_t, GreenRwlock>::instance();
//   GreenRwlock& lock = table.get(rwlock, args...);   // made from args on first use
//   if (GreenRwlock* lock = table.find(rwlock)) ...   // never makes one
//   table.erase(rwlock);
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

namespace cogent::shim {

template <class Object, class Entry>
class SideTable {
 public:
  /// The one table of `Entry`s for `Object`s.
  static SideTable& instance() {
    static auto* table = new SideTable;
    return *table;
  }

  Entry* find(const Object* object) const noexcept {
    const auto it = entries_.find(object);
    return it != entries_.end() ? it->second.get() : nullptr;
  }
  /// The entry of `object`, made as Entry(args...) if there is none.
  template <class... Args>
  Entry& get(const Object* object, Args&&... args) {
    auto it = entries_.find(object);
    if (it == entries_.end()) {
      it = entries_.emplace(object, std::make_unique<Entry>(std::forward<Args>(args)...)).first;
    }
    return *it->second;
  }
  void erase(const Object* object) noexcept { entries_.erase(object); }

 private:
  SideTable() = default;
  std::unordered_map<const Object*, std::unique_ptr<Entry>> entries_;
};

/// The program's object behind an entry as LoopExit reports name it: its address ("0x55d0c1a0").
inline std::string object_address(const void* object) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", object);
  return buf;
}

}  // namespace cogent::shim
