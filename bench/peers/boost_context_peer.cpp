// Boost.Context contenders for cogent_micro_bench: bare fibers with no scheduler, so only yield
// and spawn+join are meaningful (there is nothing to lock against, queue to, or time out).

#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>

#include <utility>

namespace {

constexpr int kWarmup = 256;

namespace ctx = boost::context;

// A fiber ping-pong: one iteration resumes the fiber and the fiber resumes the caller back, two
// context switches with no scheduler in between.
void BM_Yield_BoostContext(benchmark::State& state) {
  bool stop = false;
  ctx::fiber fiber{[&stop](ctx::fiber&& caller) {
    while (!stop) caller = std::move(caller).resume();
    return std::move(caller);
  }};
  for (int i = 0; i < kWarmup; ++i) fiber = std::move(fiber).resume();
  for (auto _ : state) fiber = std::move(fiber).resume();
  // Lets the body return, so the fiber ends normally instead of being unwound.
  stop = true;
  fiber = std::move(fiber).resume();
}
BENCHMARK(BM_Yield_BoostContext);

// A fiber with a 64 KiB stack (fixedsize_stack: from malloc, which recycles it, as cogent's stack
// pool does) created, resumed once, running an empty body to its end: allocate, two switches,
// free.
void BM_SpawnJoin_BoostContext(benchmark::State& state) {
  auto spawn_join = [] {
    ctx::fiber fiber{std::allocator_arg, ctx::fixedsize_stack(64 * 1024),
                     [](ctx::fiber&& caller) { return std::move(caller); }};
    fiber = std::move(fiber).resume();
    benchmark::DoNotOptimize(fiber);
  };
  for (int i = 0; i < kWarmup; ++i) spawn_join();
  for (auto _ : state) spawn_join();
}
BENCHMARK(BM_SpawnJoin_BoostContext);

}  // namespace
