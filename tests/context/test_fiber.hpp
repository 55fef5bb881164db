#pragma once

#include <exception>
#include <functional>
#include <utility>

#include "context/fiber.hpp"
#include "context/stack_pool.hpp"

namespace cogent::detail::test {

// Runs `body` on a pooled stack. Fiber entries must never return, so the entry ends with
// exit_to(main); a failed assertion thrown inside the body is carried over to main by resume().
class TestFiber {
 public:
  TestFiber(StackPool& pool, Fiber& main, std::function<void(TestFiber&)> body)
      : pool_(pool), main_(main), body_(std::move(body)), fiber_(pool.acquire(), &entry, this) {}
  TestFiber(const TestFiber&) = delete;
  TestFiber& operator=(const TestFiber&) = delete;
  ~TestFiber() { pool_.release(fiber_.stack()); }

  // From main: runs the fiber until it yields or finishes.
  void resume() {
    main_.switch_to(fiber_);
    if (failure_) {
      std::rethrow_exception(std::exchange(failure_, nullptr));
    }
  }
  // From inside the body: back to main.
  void yield() { fiber_.switch_to(main_); }

  bool finished() const { return finished_; }
  Fiber& fiber() { return fiber_; }

 private:
  static void entry(void* arg) {
    auto* self = static_cast<TestFiber*>(arg);
    try {
      self->body_(*self);
    } catch (...) {
      self->failure_ = std::current_exception();
    }
    self->finished_ = true;
    self->fiber_.exit_to(self->main_);
  }

  StackPool& pool_;
  Fiber& main_;
  std::function<void(TestFiber&)> body_;
  Fiber fiber_;
  std::exception_ptr failure_;
  bool finished_ = false;
};

}  // namespace cogent::detail::test
