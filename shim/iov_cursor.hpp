// The part of an iovec array a partial transfer has not moved yet: a copy of the program's array
// (which is left alone), advanced as bytes move.
//
//   IovCursor rest(iov, count);
//   rest.advance(written);
//   ::writev(fd, rest.data(), rest.count());
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <vector>

namespace cogent::shim {

class IovCursor {
 public:
  /// Reads `iov`: call it once the kernel has accepted the array (an attempt succeeded).
  IovCursor(const iovec* iov, int count) : v_(iov, iov + count) {}

  void advance(std::size_t n) noexcept {
    while (n > 0 && first_ < v_.size()) {
      iovec& head = v_[first_];
      if (n < head.iov_len) {
        head.iov_base = static_cast<char*>(head.iov_base) + n;
        head.iov_len -= n;
        return;
      }
      n -= head.iov_len;
      ++first_;
    }
  }

  iovec* data() noexcept { return v_.data() + first_; }
  int count() const noexcept { return static_cast<int>(v_.size() - first_); }

  std::size_t remaining() const noexcept {
    std::size_t total = 0;
    for (std::size_t i = first_; i < v_.size(); ++i) total += v_[i].iov_len;
    return total;
  }

 private:
  std::vector<iovec> v_;
  std::size_t first_ = 0;
};

}  // namespace cogent::shim
