#include <cfenv>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "context/fiber.hpp"
#include "context/stack_pool.hpp"
#include "test_fiber.hpp"

namespace {

using cogent::detail::Fiber;
using cogent::detail::StackPool;
using cogent::detail::test::TestFiber;

constexpr std::size_t kStackSize = 64 * 1024;

TEST_CASE("main and several fibers ping-pong in a fixed order") {
  std::vector<std::string> log;
  Fiber main;
  StackPool pool(kStackSize);
  auto steps = [&log](std::string name, int count) {
    return [&log, name, count](TestFiber& self) {
      for (int i = 1; i <= count; ++i) {
        log.push_back(name + std::to_string(i));
        if (i < count) {
          self.yield();
        }
      }
    };
  };
  TestFiber a(pool, main, steps("a", 3));
  TestFiber b(pool, main, steps("b", 2));
  TestFiber c(pool, main, steps("c", 1));

  a.resume();
  b.resume();
  log.push_back("main");
  c.resume();
  b.resume();
  a.resume();
  log.push_back("main");
  a.resume();

  CHECK(log == std::vector<std::string>{"a1", "b1", "main", "c1", "b2", "a2", "main", "a3"});
  CHECK(a.finished());
  CHECK(b.finished());
  CHECK(c.finished());
  CHECK(pool.live() == 3);
}

struct Relay {
  Fiber* main;
  Fiber* self;
  Fiber* next;
  std::vector<int>* log;
  int id;
};

void relay_entry(void* arg) {
  auto* relay = static_cast<Relay*>(arg);
  for (int round = 0; round < 3; ++round) {
    relay->log->push_back(relay->id * 10 + round);
    relay->self->switch_to(*relay->next);
  }
  relay->self->exit_to(*relay->main);
}

TEST_CASE("fibers switch directly to each other, not only through main") {
  std::vector<int> log;
  Fiber main;
  StackPool pool(kStackSize);
  Relay first{&main, nullptr, nullptr, &log, 1};
  Relay second{&main, nullptr, nullptr, &log, 2};
  Fiber one(pool.acquire(), &relay_entry, &first);
  Fiber two(pool.acquire(), &relay_entry, &second);
  first.self = &one;
  first.next = &two;
  second.self = &two;
  second.next = &one;

  // 1 and 2 hand over to each other three times; 2's third switch resumes 1, which then exits.
  main.switch_to(one);

  CHECK(log == std::vector<int>{10, 20, 11, 21, 12, 22});
  pool.release(one.stack());
  pool.release(two.stack());
}

// Keeps more values live across the switch than there are callee-saved registers, so some sit in
// registers and some in the frame; both must come back intact.
[[gnu::noinline]] std::uint64_t mix_across(std::uint64_t seed, const std::function<void()>& pause) {
  std::uint64_t a = seed * 0x9E3779B97F4A7C15u;
  std::uint64_t b = a ^ (seed >> 7);
  std::uint64_t c = b * 0xBF58476D1CE4E5B9u;
  std::uint64_t d = c ^ (c >> 31);
  std::uint64_t e = d * 0x94D049BB133111EBu;
  std::uint64_t f = e + seed;
  std::uint64_t g = f ^ a;
  std::uint64_t h = g * 3 + b;
  pause();
  return a + 3 * b + 5 * c + 7 * d + 11 * e + 13 * f + 17 * g + 19 * h;
}

TEST_CASE("values live in registers and locals survive switches") {
  Fiber main;
  StackPool pool(kStackSize);
  const std::uint64_t expected_main = mix_across(1234, [] {});
  const std::uint64_t expected_fiber = mix_across(98765, [] {});
  std::uint64_t fiber_result = 0;
  TestFiber fiber(pool, main, [&](TestFiber& self) {
    fiber_result = mix_across(98765, [&] {
      // While this fiber is suspended, main churns through its own values in the same registers.
      self.yield();
      self.yield();
    });
  });

  std::uint64_t main_result = mix_across(1234, [&] {
    fiber.resume();
    mix_across(555, [] {});
    fiber.resume();
  });
  fiber.resume();

  CHECK(main_result == expected_main);
  CHECK(fiber_result == expected_fiber);
}

// Without -frounding-math the compiler may move a division across fesetround(); the volatile
// operands and result pin it between the calls around it.
double third() {
  volatile double one = 1.0;
  volatile double three = 3.0;
  volatile double result = one / three;
  return result;
}

long double third_long() {
  volatile long double one = 1.0L;
  volatile long double three = 3.0L;
  volatile long double result = one / three;
  return result;
}

struct RoundingSample {
  int mode;
  double sse;
  long double x87;

  static RoundingSample take() { return {std::fegetround(), third(), third_long()}; }
  bool operator==(const RoundingSample&) const = default;
};

RoundingSample sample_in(int mode) {
  std::fesetround(mode);
  RoundingSample sample = RoundingSample::take();
  std::fesetround(FE_TONEAREST);
  return sample;
}

TEST_CASE("the floating-point rounding mode belongs to each fiber") {
  const RoundingSample nearest = sample_in(FE_TONEAREST);
  const RoundingSample upward = sample_in(FE_UPWARD);
  const RoundingSample downward = sample_in(FE_DOWNWARD);
  REQUIRE(upward.sse != downward.sse);
  REQUIRE(upward.x87 != downward.x87);

  Fiber main;
  StackPool pool(kStackSize);
  RoundingSample at_start{};
  RoundingSample after_pause{};
  TestFiber fiber(pool, main, [&](TestFiber& self) {
    at_start = RoundingSample::take();
    std::fesetround(FE_UPWARD);
    self.yield();
    after_pause = RoundingSample::take();
  });

  std::fesetround(FE_TONEAREST);
  fiber.resume();
  const RoundingSample main_meanwhile = RoundingSample::take();
  std::fesetround(FE_DOWNWARD);
  fiber.resume();
  const RoundingSample main_after = RoundingSample::take();
  std::fesetround(FE_TONEAREST);

  CHECK(at_start == nearest);  // a new fiber inherits its creator's mode, as a C11 thread does
  CHECK(main_meanwhile == nearest);
  CHECK(after_pause == upward);
  CHECK(main_after == downward);
}

[[gnu::noinline]] std::uint64_t recurse(int depth) {
  volatile unsigned char frame[64];
  for (auto& byte : frame) {
    byte = static_cast<unsigned char>(depth);
  }
  const std::uint64_t below = depth == 0 ? 0 : recurse(depth - 1);
  return below + frame[depth % 64];
}

TEST_CASE("a fiber can recurse deeply within its stack") {
  constexpr int kDepth = 4000;  // several hundred KiB of frames, more with sanitizers
  Fiber main;
  StackPool pool(4 * 1024 * 1024);
  std::uint64_t result = 0;
  TestFiber fiber(pool, main, [&](TestFiber&) { result = recurse(kDepth); });
  fiber.resume();
  std::uint64_t expected = 0;
  for (int depth = 0; depth <= kDepth; ++depth) {
    expected += static_cast<unsigned char>(depth);
  }
  CHECK(result == expected);
}

[[gnu::noinline]] void throw_from_depth(int depth) {
  if (depth == 0) {
    throw std::runtime_error("deep failure");
  }
  throw_from_depth(depth - 1);
  std::puts("unreachable");
}

TEST_CASE("exceptions unwind and are caught inside a fiber") {
  Fiber main;
  StackPool pool(kStackSize);
  std::vector<std::string> caught;
  TestFiber fiber(pool, main, [&](TestFiber& self) {
    try {
      throw_from_depth(10);
    } catch (const std::runtime_error& error) {
      caught.push_back(error.what());
    }
    try {
      throw std::logic_error("outer");
    } catch (const std::logic_error&) {
      // Suspended inside a handler while main throws and catches its own exception.
      self.yield();
      try {
        throw;
      } catch (const std::logic_error& error) {
        caught.push_back(std::string("rethrown ") + error.what());
      }
    }
  });

  fiber.resume();
  try {
    throw std::out_of_range("main's own");
  } catch (const std::out_of_range& error) {
    caught.push_back(error.what());
  }
  fiber.resume();

  CHECK(caught == std::vector<std::string>{"deep failure", "main's own", "rethrown outer"});
}

TEST_CASE("a new fiber starts with a call-aligned stack and its argument") {
  Fiber main;
  StackPool pool(kStackSize);
  std::uintptr_t aligned_address = 1;
  std::string formatted;
  TestFiber fiber(pool, main, [&](TestFiber&) {
    alignas(16) char probe[16];
    auto address = reinterpret_cast<std::uintptr_t>(probe);
    asm volatile("" : "+r"(address));  // hide the declared alignment from the optimizer
    aligned_address = address;
    // Variadic floating-point calls spill vector registers with aligned stores.
    char text[64];
    std::snprintf(text, sizeof text, "%.3f %.1Lf", 2.5, 1.3L);
    formatted = text;
  });
  fiber.resume();
  CHECK(aligned_address % 16 == 0);
  CHECK(formatted == "2.500 1.3");
}

}  // namespace
