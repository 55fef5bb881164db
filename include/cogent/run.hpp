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

template <class F, class... Args>
requires(!is_task<std::decay_t<F>>::value) auto run(F&& f, Args&&... args) {
  auto g = spawn(std::forward<F>(f), std::forward<Args>(args)...);
  using R = typename decltype(g)::value_type;
  if constexpr (std::is_void_v<R>) {
    g.get();
  } else if constexpr (std::is_reference_v<R>) {
    return static_cast<R>(g.get());
  } else {
    return R(std::move(g.get()));
  }
}

template <class T>
T run(Task<T> task) {
  auto g = spawn(std::move(task));
  if constexpr (std::is_void_v<T>) {
    g.get();
  } else if constexpr (std::is_reference_v<T>) {
    return static_cast<T>(g.get());
  } else {
    return T(std::move(g.get()));
  }
}

}  // namespace cogent
