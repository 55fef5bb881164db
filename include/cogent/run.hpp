// cogent::run: runs a function or task in a greenlet on this thread's hub and returns its result,
// rethrowing its exception. Sugar for spawn(...).get() with a result that outlives the handle.
//
//   int main() { return cogent::run([] { cogent::sleep(1ms); return 0; }); }
#pragma once

#include <type_traits>
#include <utility>

#include "cogent/greenlet.hpp"
#include "cogent/task.hpp"

namespace cogent {
namespace detail {

/// Waits for `g` and moves its result out: the handle (and its stored value) dies with the call.
template <class R>
R take_result(const Greenlet<R>& g) {
  if constexpr (std::is_void_v<R>) {
    g.get();
  } else if constexpr (std::is_reference_v<R>) {
    return static_cast<R>(g.get());
  } else {
    return R(std::move(g.get()));
  }
}

}  // namespace detail

template <class F, class... Args>
requires(!is_task<std::decay_t<F>>::value) auto run(F&& f, Args&&... args) {
  return detail::take_result(spawn(std::forward<F>(f), std::forward<Args>(args)...));
}

template <class T>
T run(Task<T> task) {
  return detail::take_result(spawn(std::move(task)));
}

}  // namespace cogent
