#include <thread>
#include <vector>

#include "catch_compat.hpp"
#include "context/fiber.hpp"
#include "context/stack_pool.hpp"

namespace {

using cogent::detail::Fiber;
using cogent::detail::StackPool;

struct Counter {
  Fiber* self = nullptr;
  Fiber* main = nullptr;
  long value = 0;  // plain, unsynchronised: the switches order every access
};

void count_forever(void* arg) {
  auto* counter = static_cast<Counter*>(arg);
  for (;;) {
    ++counter->value;
    counter->self->switch_to(*counter->main);
  }
}

long ping_pong(int rounds) {
  Fiber main;
  StackPool pool(64 * 1024);
  Counter counter;
  long seen = 0;
  {
    Fiber fiber(pool.acquire(), &count_forever, &counter);
    counter.self = &fiber;
    counter.main = &main;
    for (int i = 0; i < rounds; ++i) {
      main.switch_to(fiber);
      seen += counter.value;
    }
    pool.release(fiber.stack());
  }
  return seen;
}

TEST_CASE("threads run their own fibers independently") {
  constexpr int kThreads = 4;
  constexpr long kRounds = 20000;
  std::vector<long> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&results, t] { results[t] = ping_pong(kRounds); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (long result : results) {
    CHECK(result == kRounds * (kRounds + 1) / 2);
  }
}

}  // namespace
