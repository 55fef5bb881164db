// Peer for BM_GreenletYieldRoundTrip: a Boost.Context fiber ping-pong. One iteration resumes the
// fiber and the fiber resumes the caller back, two context switches with no scheduler in between.

#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>

#include <utility>

namespace {

constexpr int kWarmup = 256;

namespace ctx = boost::context;

void BM_BoostContextRoundTrip(benchmark::State& state) {
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
BENCHMARK(BM_BoostContextRoundTrip);

}  // namespace
