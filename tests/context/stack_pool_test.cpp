#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "catch_compat.hpp"
#include "child_process.hpp"
#include "context/sanitizers.hpp"
#include "context/stack_pool.hpp"

namespace {

using cogent::detail::Stack;
using cogent::detail::StackPool;
using cogent::detail::test::run_in_child;

constexpr std::size_t kStackSize = 64 * 1024;

std::size_t page_size() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

TEST_CASE("a released stack is the next one acquired (LIFO)") {
  StackPool pool(kStackSize);
  const Stack a = pool.acquire();
  const Stack b = pool.acquire();
  CHECK(a.size == kStackSize);
  CHECK(a.base != b.base);
  pool.release(a);
  pool.release(b);
  CHECK(pool.acquire().base == b.base);
  CHECK(pool.acquire().base == a.base);
  CHECK(pool.acquire().base != a.base);
}

TEST_CASE("live() counts stacks acquired and not yet released") {
  StackPool pool(kStackSize);
  CHECK(pool.live() == 0);
  std::vector<Stack> stacks;
  for (int i = 0; i < 10; ++i) {
    stacks.push_back(pool.acquire());
  }
  CHECK(pool.live() == 10);
  for (int i = 0; i < 4; ++i) {
    pool.release(stacks.back());
    stacks.pop_back();
  }
  CHECK(pool.live() == 6);
  stacks.push_back(pool.acquire());
  CHECK(pool.live() == 7);
  for (const Stack& stack : stacks) {
    pool.release(stack);
  }
  CHECK(pool.live() == 0);
}

TEST_CASE("stacks are fully usable, disjoint and carved from a few slabs") {
  StackPool pool(kStackSize);
  std::vector<Stack> stacks;
  for (int i = 0; i < 1000; ++i) {
    Stack stack = pool.acquire();
    std::memset(stack.base, i & 0xff, stack.size);
    stacks.push_back(stack);
  }
  for (int i = 0; i < 1000; ++i) {
    const auto* bytes = static_cast<const unsigned char*>(stacks[i].base);
    REQUIRE(bytes[0] == (i & 0xff));
    REQUIRE(bytes[kStackSize - 1] == (i & 0xff));
  }
  CHECK(pool.mapped_slabs() > 1);
  CHECK(pool.mapped_slabs() <= 1000 / 64 + 1);
  for (const Stack& stack : stacks) {
    pool.release(stack);
  }
}

TEST_CASE("the page below a stack is a guard") {
  for (const std::size_t below : {std::size_t{1}, page_size()}) {
    const auto result = run_in_child([below] {
      StackPool pool(kStackSize);
      auto* base = static_cast<volatile char*>(pool.acquire().base);
      base[-static_cast<std::ptrdiff_t>(below)] = 1;
    });
    CHECK(WIFSIGNALED(result.status));
    CHECK(WTERMSIG(result.status) == SIGSEGV);
  }
}

std::size_t resident_pages(const Stack& stack) {
  std::vector<unsigned char> residency(stack.size / page_size());
  REQUIRE(mincore(stack.base, stack.size, residency.data()) == 0);
  std::size_t resident = 0;
  for (unsigned char page : residency) {
    resident += page & 1;
  }
  return resident;
}

TEST_CASE("stacks cost only the pages they touch and idle stacks are trimmed") {
  constexpr std::size_t kStacks = 200;
  constexpr std::size_t kWarm = 64;
  constexpr std::size_t kHotTop = 16 * 1024;
  StackPool pool(kStackSize);
  std::vector<Stack> stacks;
  for (std::size_t i = 0; i < kStacks; ++i) {
    stacks.push_back(pool.acquire());
  }
  const Stack& probe = stacks.front();
  CHECK(resident_pages(probe) == 0);
  static_cast<char*>(probe.base)[probe.size - 1] = 1;
  static_cast<char*>(probe.base)[probe.size - page_size() - 1] = 1;
  CHECK(resident_pages(probe) == 2);

  for (const Stack& stack : stacks) {
    std::memset(stack.base, 0x5a, stack.size);
  }
  for (const Stack& stack : stacks) {
    pool.release(stack);
  }
  std::size_t resident = 0;
  for (const Stack& stack : stacks) {
    resident += resident_pages(stack);
  }
  const std::size_t pages_per_stack = kStackSize / page_size();
  const std::size_t hot_pages = kHotTop / page_size();
  CHECK(resident <= kWarm * pages_per_stack + (kStacks - kWarm) * hot_pages);

  // A trimmed stack reads back as zeros below its hot top and is as usable as ever.
  const Stack coldest = stacks.front();
  CHECK(static_cast<const char*>(coldest.base)[0] == 0);
  CHECK(static_cast<const char*>(coldest.base)[coldest.size - 1] == 0x5a);
}

std::size_t map_lines() {
  std::ifstream maps("/proc/self/maps");
  std::size_t lines = 0;
  for (std::string line; std::getline(maps, line);) {
    ++lines;
  }
  return lines;
}

bool kernel_has_guard_markers() {
  const std::size_t page = page_size();
  void* memory = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(memory != MAP_FAILED);
  const bool supported = madvise(memory, page, 102 /* MADV_GUARD_INSTALL */) == 0;
  munmap(memory, page);
  return supported;
}

TEST_CASE("100,000 stacks fit under the default vm.max_map_count") {
  if (!kernel_has_guard_markers()) {
    COGENT_SKIP("kernel lacks MADV_GUARD_INSTALL; the mprotect fallback caps a process at ~32k");
  }
  constexpr std::size_t kStacks = 100000;
  const std::size_t lines_before = map_lines();
  std::vector<Stack> stacks;
  stacks.reserve(kStacks);
  {
    StackPool pool(kStackSize);
    for (std::size_t i = 0; i < kStacks; ++i) {
      Stack stack = pool.acquire();
      static_cast<volatile char*>(stack.base)[stack.size - 1] = 1;
      stacks.push_back(stack);
    }
    CHECK(pool.live() == kStacks);
    CHECK(map_lines() < lines_before + 2000);
    for (const Stack& stack : stacks) {
      pool.release(stack);
    }
    CHECK(pool.live() == 0);
    CHECK(map_lines() < lines_before + 2000);
  }
  // The pool's destructor unmapped every slab. (The line count is no witness here: sanitizers map
  // and unmap their own shadow memory for the range.)
  std::size_t still_mapped = 0;
  for (std::size_t i = 0; i < kStacks; i += 997) {
    unsigned char residency = 0;
    if (mincore(stacks[i].base, page_size(), &residency) == 0 || errno != ENOMEM) {
      ++still_mapped;
    }
  }
  CHECK(still_mapped == 0);
}

TEST_CASE("acquire reports ENOMEM as std::system_error when no memory can be mapped") {
#if COGENT_ASAN || COGENT_TSAN
  COGENT_SKIP("sanitizer shadow memory does not fit under RLIMIT_AS");
#else
  const auto result = run_in_child([] {
    StackPool pool(std::size_t{1} << 30);
    const rlimit limit{64 << 20, RLIM_INFINITY};
    setrlimit(RLIMIT_AS, &limit);
    try {
      pool.acquire();
    } catch (const std::system_error& error) {
      _exit(error.code() == std::errc::not_enough_memory ? 0 : 2);
    }
    _exit(3);
  });
  CHECK(WIFEXITED(result.status));
  CHECK(WEXITSTATUS(result.status) == 0);
#endif
}

TEST_CASE("set_owner ignores stacks the pool does not own") {
  StackPool pool(kStackSize);
  char outside[64];
  pool.set_owner(Stack{outside, sizeof outside}, 7);
  const Stack stack = pool.acquire();
  pool.set_owner(stack, 7);
  pool.release(stack);
  CHECK(pool.live() == 0);
}

}  // namespace
