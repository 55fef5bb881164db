#include "context/slab_registry.hpp"

namespace cogent::detail {
namespace {

// 4096 slabs of ~32 MiB cover over a million 64 KiB stacks.
constexpr std::size_t kMaxSlabs = 4096;
// A claimed slot whose fields are still being written; never a slab address (slabs are aligned).
constexpr std::uintptr_t kClaimed = 1;

struct Slot {
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> end{0};
  std::atomic<std::size_t> stride{0};
  std::atomic<std::size_t> guard_size{0};
  std::atomic<std::size_t> stack_size{0};
  std::atomic<const std::atomic<std::uint64_t>*> owners{nullptr};
};

Slot g_slots[kMaxSlabs];
std::atomic<std::size_t> g_used_slots{0};

}  // namespace

int register_slab(const SlabLayout& layout) noexcept {
  for (std::size_t i = 0; i < kMaxSlabs; ++i) {
    Slot& slot = g_slots[i];
    std::uintptr_t expected = 0;
    if (!slot.begin.compare_exchange_strong(expected, kClaimed, std::memory_order_acquire)) {
      continue;
    }
    slot.end.store(layout.begin + layout.stack_count * layout.stride, std::memory_order_relaxed);
    slot.stride.store(layout.stride, std::memory_order_relaxed);
    slot.guard_size.store(layout.guard_size, std::memory_order_relaxed);
    slot.stack_size.store(layout.stack_size, std::memory_order_relaxed);
    slot.owners.store(layout.owners, std::memory_order_relaxed);
    std::size_t used = g_used_slots.load(std::memory_order_relaxed);
    while (used < i + 1 && !g_used_slots.compare_exchange_weak(used, i + 1)) {
    }
    slot.begin.store(layout.begin, std::memory_order_release);
    return static_cast<int>(i);
  }
  return kNoSlabSlot;
}

void unregister_slab(int slot) noexcept {
  if (slot != kNoSlabSlot) {
    g_slots[slot].begin.store(0, std::memory_order_release);
  }
}

bool find_guard_hit(std::uintptr_t address, GuardHit& hit) noexcept {
  const std::size_t used = g_used_slots.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < used; ++i) {
    const Slot& slot = g_slots[i];
    const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    if (begin <= kClaimed || address < begin ||
        address >= slot.end.load(std::memory_order_relaxed)) {
      continue;
    }
    const std::size_t stride = slot.stride.load(std::memory_order_relaxed);
    const std::size_t offset = address - begin;
    if (offset % stride >= slot.guard_size.load(std::memory_order_relaxed)) {
      return false;
    }
    hit.owner = slot.owners.load(std::memory_order_relaxed)[offset / stride].load(
        std::memory_order_relaxed);
    hit.stack_size = slot.stack_size.load(std::memory_order_relaxed);
    return true;
  }
  return false;
}

}  // namespace cogent::detail
