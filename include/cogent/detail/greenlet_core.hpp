// Typed greenlet cores: where a greenlet's function or root task lives, and where its result is
// kept until every handle is gone. Not part of the public API.
#pragma once

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "cogent/detail/core.hpp"
#include "cogent/task.hpp"

namespace cogent::detail {

template <class R>
class ResultSlot {
 public:
  template <class F>
  void fill_from(F&& f) {
    value_.emplace(std::invoke(std::forward<F>(f)));
  }
  R& get() { return *value_; }

 private:
  std::optional<R> value_;
};

template <class R>
class ResultSlot<R&> {
 public:
  template <class F>
  void fill_from(F&& f) {
    value_ = std::addressof(std::invoke(std::forward<F>(f)));
  }
  R& get() { return *value_; }

 private:
  R* value_ = nullptr;
};

template <>
class ResultSlot<void> {
 public:
  template <class F>
  void fill_from(F&& f) {
    std::invoke(std::forward<F>(f));
  }
  void get() {}
};

template <class R>
class TypedCore : public GreenletCore {
 public:
  using GreenletCore::GreenletCore;
  decltype(auto) result() { return result_.get(); }

 protected:
  ResultSlot<R> result_;
};

/// A stackful greenlet running `fn()` on its own stack.
template <class R, class Fn>
class FunctionCore final : public TypedCore<R> {
 public:
  explicit FunctionCore(Fn fn) : TypedCore<R>(false), fn_(std::move(fn)) {}

  void run_body() override {
    try {
      this->result_.fill_from(*fn_);
    } catch (...) {
      this->set_error(std::current_exception());
    }
    fn_.reset();  // captured arguments die with the body, not with the last handle
  }
  std::coroutine_handle<> task_handle() override { return {}; }
  void collect_task_result() override {}
  void discard_body() noexcept override { fn_.reset(); }

 private:
  std::optional<Fn> fn_;
};

/// A stackless greenlet: a root Task<T> resumed by the hub on the hub's stack.
template <class T>
class TaskCore final : public TypedCore<T> {
 public:
  explicit TaskCore(Task<T> task) : TypedCore<T>(true), task_(std::move(task)) {}

  void run_body() override {}
  std::coroutine_handle<> task_handle() override { return task_.handle(); }
  void collect_task_result() override {
    try {
      this->result_.fill_from([&]() -> decltype(auto) { return task_.take_result(); });
    } catch (...) {
      this->set_error(std::current_exception());
    }
    task_ = Task<T>();
  }
  void discard_body() noexcept override { task_ = Task<T>(); }

 private:
  Task<T> task_;
};

/// Waits for one greenlet to die.
class JoinOperation final : public Operation, private DeathWatch {
 public:
  explicit JoinOperation(GreenletCore& target) noexcept : target_(target) {}
  ~JoinOperation() {
    if (watching_) target_.unwatch_death(*this);
  }
  void start() override;
  void cancel() noexcept override;
  std::string describe() const override;

 private:
  void on_death(GreenletCore& dead) noexcept override;
  GreenletCore& target_;
  bool watching_ = false;
};

}  // namespace cogent::detail
