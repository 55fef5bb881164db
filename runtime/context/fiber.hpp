#pragma once

#include <cstddef>

#include "context/sanitizers.hpp"

namespace cogent::detail {

// Usable region [base, base + size); the guard lies below base because stacks grow down.
struct Stack {
  void* base = nullptr;
  std::size_t size = 0;
};

// One stackful execution context. Not movable: a suspended fiber's saved frame and the sanitizer
// bookkeeping refer to the object's address.
class Fiber {
 public:
  // Must never return; it ends by switching away for good (exit_to).
  using Entry = void (*)(void* arg);

  // Adopts the calling thread's current stack (the thread's "main" fiber); owns no stack.
  Fiber();
  // Prepares a fiber that starts at entry(arg) on its first switch.
  Fiber(Stack stack, Entry entry, void* arg);
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
  ~Fiber();

  // Suspends the calling fiber (which must be *this) and resumes `to`. Returns when someone
  // switches back to *this.
  void switch_to(Fiber& to) noexcept;
  // Like switch_to, but *this is finished and is never resumed. Its stack may be recycled only
  // after the switch completed, i.e. from another fiber.
  [[noreturn]] void exit_to(Fiber& to) noexcept;

  const Stack& stack() const noexcept;

 private:
  static void run(void* self) noexcept;

  void* sp_ = nullptr;
  Stack stack_;
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
#if COGENT_ASAN
  // ASan must be told the bounds of the stack being switched to; for the adopted fiber these are
  // the thread's stack bounds.
  const void* asan_bottom_ = nullptr;
  std::size_t asan_size_ = 0;
  void* asan_fake_stack_ = nullptr;
#endif
#if COGENT_TSAN
  void* tsan_fiber_ = nullptr;
  bool owns_tsan_fiber_ = false;
#endif
};

}  // namespace cogent::detail
