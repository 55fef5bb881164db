// The operations of a hub waiting on each descriptor, so that closing a descriptor wakes them
// with EBADF instead of leaving them to hang (or to see a reused descriptor number).
#pragma once

#include <vector>

#include "cogent/detail/io_operation.hpp"

namespace cogent::detail {

class FdWaiters {
 public:
  void add(IoOperation& op);
  void remove(IoOperation& op) noexcept;
  /// Fails every operation waiting on `fd` (their completion may come later on io_uring);
  /// returns how many there were.
  std::size_t fail_all(int fd) noexcept;

 private:
  std::vector<IoOperation*> heads_;
};

}  // namespace cogent::detail
