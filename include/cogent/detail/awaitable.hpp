// The two faces of one operation: run_blocking() for greenlets, OperationAwaiter for tasks.
// An operation type Op provides start/cancel/describe (see Operation) and
// `result(WakeReason)`, which turns how the wait ended into the call's return value. An Op may
// also provide `bool ready_now()`: the fast path, tried before suspending at all.
#pragma once

#include <coroutine>
#include <utility>

#include "cogent/detail/core.hpp"

namespace cogent::detail {

template <class Op>
concept HasFastPath = requires(Op& op) {
  { op.ready_now() } -> std::convertible_to<bool>;
};

template <class Op, class... Args>
decltype(auto) run_blocking(const char* api, TimePoint deadline, Args&&... args) {
  Op op(std::forward<Args>(args)...);
  if constexpr (HasFastPath<Op>) {
    if (op.ready_now()) return op.result(WakeReason::kFinished);
  }
  const WakeReason why = block_on(op, deadline, api);
  return op.result(why);
}

template <class Op>
class OperationAwaiter {
 public:
  template <class... Args>
  explicit OperationAwaiter(TimePoint deadline, Args&&... args)
      : op_(std::forward<Args>(args)...), wait_(op_, deadline) {}
  bool await_ready() {
    if constexpr (HasFastPath<Op>) return op_.ready_now();
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) {
    wait_.await_suspend(h);
    suspended_ = true;
  }
  decltype(auto) await_resume() {
    return op_.result(suspended_ ? wait_.await_resume() : WakeReason::kFinished);
  }

 private:
  Op op_;
  AsyncWait wait_;
  bool suspended_ = false;
};

}  // namespace cogent::detail
