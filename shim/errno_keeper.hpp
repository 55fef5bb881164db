// Keeps the caller's errno across the runtime code an interposer runs on its behalf, which may
// leave its own: libc's calls leave errno untouched on success.
//
//   ErrnoKeeper keep;        // errno is put back when the interposer returns
#pragma once

#include <cerrno>

namespace cogent::shim {

class ErrnoKeeper {
 public:
  ErrnoKeeper() noexcept = default;
  ~ErrnoKeeper() { errno = saved_; }
  ErrnoKeeper(const ErrnoKeeper&) = delete;
  ErrnoKeeper& operator=(const ErrnoKeeper&) = delete;

 private:
  int saved_ = errno;
};

}  // namespace cogent::shim
