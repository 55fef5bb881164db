// gevent.pool.Pool for native code: a Group (group.hpp) with at most `size` members running at
// once. Each member holds a slot from its spawn to its death, however it ends (returned, threw,
// killed, killed before it started); spawn() waits while none is free, and waiting spawners get
// the freed slots in arrival order. A spawner killed or timed out while it waits leaves the line
// with nothing.
//
//   cogent::Pool pool(10, "fetchers");
//   for (auto& url : urls) pool.spawn(fetch, url);     // waits while 10 are running
//   pool.join();
//   auto pages = pool.map(fetch, urls);                 // at most 10 at once, input order
//   auto g = co_await pool.async_spawn(fetch, url);     // in a cogent::Task
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "cogent/group.hpp"

namespace cogent {

class Pool : public Group {
 public:
  /// A pool of `size` slots; 0 is rejected with std::invalid_argument (it could run nothing).
  /// `name` names it in LoopExit reports ("waits for a slot of Pool fetchers").
  explicit Pool(std::size_t size, std::string name = {})
      : Group("all members of Pool", "a slot of Pool", checked(size), std::move(name)),
        size_(size) {}

  /// The most members it runs at once.
  std::size_t capacity() const noexcept { return size_; }
  /// Slots neither held by a member nor handed to a spawner: how many spawn() calls would not
  /// wait now.
  std::size_t free_count() const noexcept { return members_->free_slots(); }

 private:
  static std::size_t checked(std::size_t size) {
    if (size == 0) throw std::invalid_argument("cogent::Pool: size 0 could never run anything");
    return size;
  }

  std::size_t size_;
};

}  // namespace cogent
