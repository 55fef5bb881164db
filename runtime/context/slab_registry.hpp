#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace cogent::detail {

// Where the guards of one stack slab lie, so that the SIGSEGV handler can tell an overflow from
// any other fault. Stack i of the slab spans [begin + i * stride, begin + (i + 1) * stride): its
// guard first, then stack_size usable bytes.
struct SlabLayout {
  std::uintptr_t begin = 0;
  std::size_t stack_count = 0;
  std::size_t stride = 0;
  std::size_t guard_size = 0;
  std::size_t stack_size = 0;
  const std::atomic<std::uint64_t>* owners = nullptr;  // stack_count greenlet ids
};

struct GuardHit {
  std::uint64_t owner = 0;
  std::size_t stack_size = 0;
};

inline constexpr int kNoSlabSlot = -1;

// Process-wide and lock-free. Returns kNoSlabSlot when the registry is full: the slab still works,
// only its overflows are reported as plain crashes.
int register_slab(const SlabLayout& layout) noexcept;
void unregister_slab(int slot) noexcept;
// Async-signal-safe: no locks, no allocation.
bool find_guard_hit(std::uintptr_t address, GuardHit& hit) noexcept;

}  // namespace cogent::detail
