#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "context/fiber.hpp"

namespace cogent::detail {

// Guarded fiber stacks carved from large slabs and recycled LIFO. Not thread-safe: one pool per
// scheduler thread. Pages are committed only when touched.
class StackPool {
 public:
  // `stack_size` is the usable size, rounded up to the page size. Throws std::invalid_argument
  // below 16 KiB or above 1 GiB.
  explicit StackPool(std::size_t stack_size);
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();  // unmaps every slab, acquired stacks included

  // Reuses the most recently released stack (cache-warm) or carves a new one. Throws
  // std::system_error when the kernel refuses memory.
  Stack acquire();
  void release(Stack stack) noexcept;

  std::size_t stack_size() const noexcept;
  std::size_t live() const noexcept;  // acquired and not yet released
  std::size_t mapped_slabs() const noexcept;

  // COGENT_STACK_SIZE (bytes, optional k/K/m/M suffix) or 64 KiB. Throws std::invalid_argument
  // naming the variable and its value when it is malformed or out of range.
  static std::size_t default_stack_size();

  // Records which greenlet runs on `stack`, for the overflow message.
  void set_owner(const Stack& stack, std::uint64_t greenlet_id) noexcept;

 private:
  struct Slab;
  struct FreeStack {
    void* base;
    bool trimmed;
  };

  void map_slab();
  Slab* find_slab(const void* base) const noexcept;

  std::size_t stack_size_;
  std::size_t guard_size_;
  std::size_t stride_;
  std::size_t stacks_per_slab_;
  std::vector<std::unique_ptr<Slab>> slabs_;  // sorted by address
  Slab* carving_ = nullptr;
  std::vector<FreeStack> free_;  // top is the most recently released
  std::size_t live_ = 0;
};

}  // namespace cogent::detail
