#include "context/fiber.hpp"

#include <pthread.h>

#include <system_error>

#if COGENT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if COGENT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

// noexcept lets switch_to tail-call the switch: otherwise GCC keeps a frame to call terminate from,
// and that frame's `ret` after the switch is always mispredicted.
extern "C" {
void cogent_context_switch(void** save_sp, void* load_sp) noexcept;
void* cogent_context_make(void* stack_top, void (*entry)(void*), void* arg) noexcept;
}

namespace cogent::detail {

Fiber::Fiber() {
#if COGENT_ASAN
  pthread_attr_t attr;
  if (int rc = pthread_getattr_np(pthread_self(), &attr); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "cogent: pthread_getattr_np");
  }
  void* bottom = nullptr;
  std::size_t size = 0;
  pthread_attr_getstack(&attr, &bottom, &size);
  pthread_attr_destroy(&attr);
  asan_bottom_ = bottom;
  asan_size_ = size;
#endif
#if COGENT_TSAN
  tsan_fiber_ = __tsan_get_current_fiber();
#endif
}

Fiber::Fiber(Stack stack, Entry entry, void* arg) : stack_(stack), entry_(entry), arg_(arg) {
#if COGENT_ASAN
  asan_bottom_ = stack.base;
  asan_size_ = stack.size;
#endif
#if COGENT_TSAN
  tsan_fiber_ = __tsan_create_fiber(0);
  owns_tsan_fiber_ = true;
#endif
  sp_ = cogent_context_make(static_cast<char*>(stack.base) + stack.size, &Fiber::run, this);
}

Fiber::~Fiber() {
#if COGENT_ASAN
  // Frames that never returned (every fiber's last ones) leave redzones in the shadow. Clear them,
  // or the next fiber on this stack, or whatever the kernel maps here after the pool unmaps it,
  // trips over stale poison: ASan does not unpoison memory on mmap or munmap.
  if (stack_.base != nullptr) {
    __asan_unpoison_memory_region(stack_.base, stack_.size);
  }
#endif
#if COGENT_TSAN
  // Destroying the running TSan fiber would leave the thread without a context.
  if (owns_tsan_fiber_ && tsan_fiber_ != __tsan_get_current_fiber()) {
    __tsan_destroy_fiber(tsan_fiber_);
  }
#endif
}

void Fiber::run(void* self) noexcept {
  auto* fiber = static_cast<Fiber*>(self);
#if COGENT_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  fiber->entry_(fiber->arg_);
}

void Fiber::switch_to(Fiber& to) noexcept {
#if COGENT_ASAN
  __sanitizer_start_switch_fiber(&asan_fake_stack_, to.asan_bottom_, to.asan_size_);
#endif
#if COGENT_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber_, 0);
#endif
  cogent_context_switch(&sp_, to.sp_);
#if COGENT_ASAN
  __sanitizer_finish_switch_fiber(asan_fake_stack_, nullptr, nullptr);
#endif
}

void Fiber::exit_to(Fiber& to) noexcept {
#if COGENT_ASAN
  // A null save slot tells ASan to free this fiber's fake stack: it is never resumed.
  __sanitizer_start_switch_fiber(nullptr, to.asan_bottom_, to.asan_size_);
#endif
#if COGENT_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber_, 0);
#endif
  cogent_context_switch(&sp_, to.sp_);
  // Resuming a finished fiber is a caller bug; stop here rather than run off the end.
  __builtin_trap();
}

const Stack& Fiber::stack() const noexcept { return stack_; }

}  // namespace cogent::detail
