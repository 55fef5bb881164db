// gevent.local for native code: cogent::local<T> holds one T per greenlet or spawned task, made
// on first access in that greenlet and destroyed when it ends (returned, threw or was killed),
// before anyone joining it wakes. The thread's main greenlet has values of its own, destroyed
// when the thread's hub goes away.
//
//   cogent::local<std::string> user;                  // values start as std::string()
//   cogent::local<int> budget(3);                     // each greenlet starts from a copy of 3
//   auto conn = cogent::local<Connection>::with_factory([] { return Connection(addr); });
//   cogent::spawn([&] { *user = "ann"; conn->send(*user); });   // this greenlet's own values
//
// A cogent::Task spawned with cogent::spawn has its own values; the sub-tasks it awaits run as
// part of it and share them. Accessing a local inside the hub (a link callback, a posted
// function) throws std::logic_error: no greenlet is running there.
//
// When a greenlet dies its values are destroyed newest first. A value's destructor may read
// values made before it (they are still alive); values made after it, and its own, are gone:
// has_value() is false for them and get() throws std::logic_error instead of making them anew.
// Destructors must not block (no sleep, join or lock wait) and must not throw.
//
// Destroying a cogent::local is safe while greenlets still hold values of it: those values live
// on until their greenlets end.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "cogent/detail/local_storage.hpp"

namespace cogent {

/// One T per greenlet or task. Neither copyable nor movable: it is a key into each greenlet's
/// values, so its accessors are const and hand out the current greenlet's T.
template <class T>
class local {
 public:
  static_assert(std::is_object_v<T> && !std::is_array_v<T>, "cogent::local<T> holds objects");

  /// Each greenlet's value is T(), made on its first access.
  local() requires std::default_initializable<T> : make_([] { return new T(); }) {}

  /// Each greenlet's value starts as a copy of `initial`.
  explicit local(T initial) requires std::copy_constructible<T>
      : make_([initial = std::move(initial)] { return new T(initial); }) {}

  /// Each greenlet's value is made by `factory()` on its first access, in that greenlet (so in a
  /// stackful greenlet the factory may block, e.g. to connect a socket).
  template <class F>
  requires std::invocable<F&> && std::constructible_from<T, std::invoke_result_t<F&>>
  static local with_factory(F factory) { return local(FactoryTag{}, std::move(factory)); }

  local(const local&) = delete;
  local& operator=(const local&) = delete;

  /// The current greenlet's value, made now if it has none.
  T& get() const {
    return *static_cast<T*>(detail::get_local(key_, "cogent::local::get", &make, this, &destroy));
  }
  T& operator*() const { return get(); }
  T* operator->() const { return std::addressof(get()); }

  /// The current greenlet has a value (made and not reset or destroyed since).
  bool has_value() const { return detail::find_local(key_, "cogent::local::has_value") != nullptr; }

  /// Destroys the current greenlet's value now; the next get() makes a fresh one.
  void reset() const { detail::reset_local(key_, "cogent::local::reset"); }

 private:
  struct FactoryTag {};

  template <class F>
  local(FactoryTag, F factory)
      // Shared so that a move-only factory fits in a std::function.
      : make_([f = std::make_shared<F>(std::move(factory))] { return new T(std::invoke(*f)); }) {}

  static void* make(const void* self) { return static_cast<const local*>(self)->make_(); }
  static void destroy(void* value) noexcept { delete static_cast<T*>(value); }

  std::uint64_t key_ = detail::new_local_key();
  std::function<T*()> make_;
};

}  // namespace cogent
