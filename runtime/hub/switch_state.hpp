// Per-thread state that must follow a greenlet across switches: errno, and the C++ runtime's
// exception globals (the caught-exception stack and the uncaught count). Without the latter, a
// greenlet that yields inside a catch block, or in a destructor during unwinding, would see
// another greenlet's exceptions when it resumes: `throw;` would rethrow the wrong one.
#pragma once

#include <cstring>

namespace cogent::detail {

/// The calling thread's copies of that state, located once: both live in thread-local storage
/// that a shared libstdc++ reaches only through __tls_get_addr, too slow for every switch.
class ThreadState {
 public:
  static constexpr std::size_t kEhSize = 16;

  ThreadState() noexcept;
  /// Saves the thread's state into the given slots and gives the thread a clean one.
  void save(unsigned char* eh_save, int& errno_save) const noexcept {
    errno_save = *errno_;
    std::memcpy(eh_save, eh_globals_, kEhSize);
    std::memset(eh_globals_, 0, kEhSize);
  }
  /// Puts back what save() stored.
  void restore(const unsigned char* eh_save, int errno_save) const noexcept {
    std::memcpy(eh_globals_, eh_save, kEhSize);
    *errno_ = errno_save;
  }

 private:
  void* eh_globals_;
  int* errno_;
};

}  // namespace cogent::detail
