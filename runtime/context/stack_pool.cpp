#include "context/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>

#include "context/guard_page.hpp"
#include "context/slab_registry.hpp"
#include "context/stack_size.hpp"

namespace cogent::detail {
namespace {

// Large slabs keep the VMA count (vm.max_map_count) and the slab registry small.
constexpr std::size_t kSlabTargetBytes = 32 * 1024 * 1024;
// A guard larger than one page also catches frames that would jump a single page.
constexpr std::size_t kGuardBytes = 16 * 1024;
// Released stacks beyond this many keep only their hot top committed.
constexpr std::size_t kWarmFreeStacks = 64;
constexpr std::size_t kHotTopBytes = 16 * 1024;

std::size_t page_size() {
  static const auto size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_up(std::size_t value, std::size_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

std::size_t validated(std::size_t stack_size) {
  if (std::string problem = stack_size_problem(stack_size); !problem.empty()) {
    throw std::invalid_argument("cogent: " + problem);
  }
  return round_up(stack_size, page_size());
}

}  // namespace

struct StackPool::Slab {
  Slab(void* memory, std::size_t bytes, std::size_t stacks)
      : begin(reinterpret_cast<std::uintptr_t>(memory)),
        bytes(bytes),
        owners(std::make_unique<std::atomic<std::uint64_t>[]>(stacks)) {}
  Slab(const Slab&) = delete;
  Slab& operator=(const Slab&) = delete;
  ~Slab() {
    unregister_slab(registry_slot);
    munmap(reinterpret_cast<void*>(begin), bytes);
  }

  std::uintptr_t begin;
  std::size_t bytes;
  std::size_t carved = 0;
  std::unique_ptr<std::atomic<std::uint64_t>[]> owners;
  int registry_slot = kNoSlabSlot;
};

StackPool::StackPool(std::size_t stack_size)
    : stack_size_(validated(stack_size)),
      guard_size_(round_up(kGuardBytes, page_size())),
      stride_(guard_size_ + stack_size_),
      stacks_per_slab_(std::max<std::size_t>(1, kSlabTargetBytes / stride_)) {}

StackPool::~StackPool() = default;

Stack StackPool::acquire() {
  if (!free_.empty()) {
    void* base = free_.back().base;
    free_.pop_back();
    ++live_;
    return {base, stack_size_};
  }
  if (carving_ == nullptr || carving_->carved == stacks_per_slab_) {
    map_slab();
  }
  const std::uintptr_t slot = carving_->begin + carving_->carved * stride_;
  install_guard(reinterpret_cast<void*>(slot), guard_size_);
  ++carving_->carved;
  ++live_;
  return {reinterpret_cast<void*>(slot + guard_size_), stack_size_};
}

void StackPool::release(Stack stack) noexcept {
  // Never reallocates: map_slab reserved room for every stack the pool can hand out.
  free_.push_back({stack.base, false});
  --live_;
  if (free_.size() <= kWarmFreeStacks) {
    return;
  }
  // Only the stack that just fell out of the warm window is trimmed, so each release costs at most
  // one madvise and a pool oscillating around the window costs none.
  FreeStack& cold = free_[free_.size() - kWarmFreeStacks - 1];
  if (!cold.trimmed && stack_size_ > kHotTopBytes) {
    madvise(cold.base, stack_size_ - kHotTopBytes, MADV_DONTNEED);
  }
  cold.trimmed = true;
}

std::size_t StackPool::stack_size() const noexcept { return stack_size_; }

std::size_t StackPool::live() const noexcept { return live_; }

std::size_t StackPool::mapped_slabs() const noexcept { return slabs_.size(); }

void StackPool::set_owner(const Stack& stack, std::uint64_t greenlet_id) noexcept {
  if (Slab* slab = find_slab(stack.base)) {
    const std::size_t index =
        (reinterpret_cast<std::uintptr_t>(stack.base) - slab->begin) / stride_;
    slab->owners[index].store(greenlet_id, std::memory_order_relaxed);
  }
}

std::size_t StackPool::default_stack_size() {
  constexpr const char* kVariable = "COGENT_STACK_SIZE";
  const char* text = std::getenv(kVariable);
  if (text == nullptr || *text == '\0') {
    return kDefaultStackSize;
  }
  const std::string prefix = std::string("cogent: invalid ") + kVariable + " value '" + text + "'";
  const std::optional<std::size_t> bytes = parse_stack_size(text);
  if (!bytes) {
    throw std::invalid_argument(prefix +
                                " (expected bytes with an optional k/K/m/M suffix, e.g. 256k)");
  }
  if (std::string problem = stack_size_problem(*bytes); !problem.empty()) {
    throw std::invalid_argument(prefix + ": " + problem);
  }
  return *bytes;
}

void StackPool::map_slab() {
  const std::size_t capacity = (slabs_.size() + 1) * stacks_per_slab_;
  free_.reserve(capacity);
  slabs_.reserve(slabs_.size() + 1);

  const std::size_t bytes = stacks_per_slab_ * stride_;
  // MAP_NORESERVE: stacks are mostly untouched, so do not charge them against overcommit.
  // MAP_STACK: since Linux 6.7 it also keeps transparent huge pages off the slab.
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (memory == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(),
                            "cogent: cannot map " + std::to_string(bytes) + " bytes of stacks");
  }
  auto slab = std::make_unique<Slab>(memory, bytes, stacks_per_slab_);
  slab->registry_slot = register_slab({.begin = slab->begin,
                                       .stack_count = stacks_per_slab_,
                                       .stride = stride_,
                                       .guard_size = guard_size_,
                                       .stack_size = stack_size_,
                                       .owners = slab->owners.get()});
  carving_ = slab.get();
  auto position = std::upper_bound(slabs_.begin(), slabs_.end(), slab->begin,
                                   [](std::uintptr_t begin, const std::unique_ptr<Slab>& other) {
                                     return begin < other->begin;
                                   });
  slabs_.insert(position, std::move(slab));
}

StackPool::Slab* StackPool::find_slab(const void* base) const noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(base);
  auto after = std::upper_bound(
      slabs_.begin(), slabs_.end(), address,
      [](std::uintptr_t value, const std::unique_ptr<Slab>& slab) { return value < slab->begin; });
  if (after == slabs_.begin()) {
    return nullptr;
  }
  Slab* slab = std::prev(after)->get();
  return address < slab->begin + slab->bytes ? slab : nullptr;
}

}  // namespace cogent::detail
