// What a backend delivers a finished I/O request to. Not part of the public API.
#pragma once

#include <cstdint>

namespace cogent::detail {

/// One request submitted to the backend. `complete` runs in the hub with the kernel's result
/// (>= 0, or -errno; -ECANCELED after a cancel that won the race).
struct IoCompletion {
  virtual void complete(int result, std::uint32_t flags) noexcept = 0;
  void* backend_data = nullptr;  // the backend's own bookkeeping for this request

 protected:
  ~IoCompletion() = default;
};

}  // namespace cogent::detail
