// Micro-benchmarks of the cogent runtime against the contenders it replaces, one operation at a
// time: yield (two parties handing the CPU to each other), spawn+join, and a timeout armed and
// cancelled. Names read BM_<Operation>_<Contender> (Greenlet, Task, Thread, Pthread,
// BoostContext) so that a script can build the table; the thread and Boost.Context contenders live
// in peers/ and are linked into this binary, so one run yields both sides of every ratio. Other
// names are diagnostics (the bare context switch, a yield with nobody else runnable, the timer
// heap with others armed).
//
// Every benchmark runs on the main thread, whose original stack is cogent's main greenlet; the
// hub is created by the first cogent call. Each one repeats its step kWarmup times before the
// timed loop so that stacks, coroutine frames and the allocator's free lists are warm.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "cogent/cogent.hpp"
#include "context/fiber.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int kWarmup = 256;

// ---- Yield: two parties hand the CPU to each other; one iteration is one round trip ----

// Two greenlets alternately yield: A -> hub -> B -> hub -> A, four context switches and one hub
// turn. The hub never switches greenlet to greenlet directly, so this is what a ping-pong between
// two greenlets costs.
void BM_Yield_Greenlet(benchmark::State& state) {
  bool done = false;
  auto partner = cogent::spawn([&done] {
    while (!done) cogent::sleep(0s);
  });
  auto timed = cogent::spawn([&state, &done] {
    for (int i = 0; i < kWarmup; ++i) cogent::sleep(0s);
    for (auto _ : state) cogent::sleep(0s);
    done = true;
  });
  timed.join();
  partner.join();
}
BENCHMARK(BM_Yield_Greenlet);

cogent::Task<> yield_until(const bool& done) {
  while (!done) co_await cogent::async_sleep(0s);
}

cogent::Task<> timed_yields(benchmark::State& state, bool& done) {
  for (int i = 0; i < kWarmup; ++i) co_await cogent::async_sleep(0s);
  for (auto _ : state) co_await cogent::async_sleep(0s);
  done = true;
}

// As BM_Yield_Greenlet with two tasks: A -> hub -> B -> hub -> A, where each arrow is a coroutine
// suspension or resumption on the hub's own stack, not a context switch.
void BM_Yield_Task(benchmark::State& state) {
  bool done = false;
  auto partner = cogent::spawn(yield_until(done));
  cogent::spawn(timed_yields(state, done)).join();
  partner.join();
}
BENCHMARK(BM_Yield_Task);

// Diagnostic: one greenlet alone on the hub yields, greenlet -> hub -> greenlet: two context
// switches and one hub turn. The main greenlet waits in join() and costs nothing per iteration.
void BM_YieldAlone_Greenlet(benchmark::State& state) {
  cogent::spawn([&state] {
    for (int i = 0; i < kWarmup; ++i) cogent::sleep(0s);
    for (auto _ : state) cogent::sleep(0s);
  }).join();
}
BENCHMARK(BM_YieldAlone_Greenlet);

cogent::Task<> yield_loop(benchmark::State& state) {
  for (int i = 0; i < kWarmup; ++i) co_await cogent::async_sleep(0s);
  for (auto _ : state) co_await cogent::async_sleep(0s);
}

// Diagnostic: a task alone on the hub suspends to the hub loop and is resumed on its next turn.
void BM_YieldAlone_Task(benchmark::State& state) { cogent::spawn(yield_loop(state)).join(); }
BENCHMARK(BM_YieldAlone_Task);

// The runtime's bare context switch, no scheduler: the lower bound of a greenlet yield. Not part of
// the public API; it is here to split BM_YieldAlone_Greenlet into "switch" and "hub".
class FiberPair {
 public:
  FiberPair()
      : memory_(new std::byte[kStackBytes]),
        child_(cogent::detail::Stack{memory_.get(), kStackBytes}, &FiberPair::body, this) {}
  FiberPair(const FiberPair&) = delete;
  FiberPair& operator=(const FiberPair&) = delete;
  ~FiberPair() {
    stop_ = true;
    round_trip();
  }

  void round_trip() noexcept { origin_.switch_to(child_); }

 private:
  static constexpr std::size_t kStackBytes = 64 * 1024;

  static void body(void* arg) {
    auto* self = static_cast<FiberPair*>(arg);
    while (!self->stop_) self->child_.switch_to(self->origin_);
    self->child_.exit_to(self->origin_);
  }

  cogent::detail::Fiber origin_;
  std::unique_ptr<std::byte[]> memory_;
  cogent::detail::Fiber child_;
  bool stop_ = false;
};

void BM_FiberRoundTrip(benchmark::State& state) {
  FiberPair pair;
  for (int i = 0; i < kWarmup; ++i) pair.round_trip();
  for (auto _ : state) pair.round_trip();
}
BENCHMARK(BM_FiberRoundTrip);

cogent::Task<int> completed_child() { co_return 1; }

cogent::Task<> await_children(benchmark::State& state) {
  for (int i = 0; i < kWarmup; ++i) benchmark::DoNotOptimize(co_await completed_child());
  for (auto _ : state) {
    int value = co_await completed_child();
    benchmark::DoNotOptimize(value);
  }
}

// Diagnostic: one iteration creates a child Task (a coroutine frame from operator new), transfers
// into it symmetrically, and transfers back when it completes. The parent never suspends to the
// hub.
void BM_TaskResume(benchmark::State& state) { cogent::spawn(await_children(state)).join(); }
BENCHMARK(BM_TaskResume);

// ---- Spawn+join: create one that does nothing and wait until it has finished ----

// Spawned from the main greenlet and joined: allocate the greenlet, main -> hub, hub -> new
// greenlet (a recycled stack), run the empty body, die back to the hub, hub -> main.
void BM_SpawnJoin_Greenlet(benchmark::State& state) {
  for (int i = 0; i < kWarmup; ++i) cogent::spawn([] {}).join();
  for (auto _ : state) cogent::spawn([] {}).join();
}
BENCHMARK(BM_SpawnJoin_Greenlet);

cogent::Task<> empty_task() { co_return; }

// As BM_SpawnJoin_Greenlet, with a coroutine frame instead of a stack: main -> hub, the task runs
// to completion on the hub's stack, hub -> main.
void BM_SpawnJoin_Task(benchmark::State& state) {
  for (int i = 0; i < kWarmup; ++i) cogent::spawn(empty_task()).join();
  for (auto _ : state) cogent::spawn(empty_task()).join();
}
BENCHMARK(BM_SpawnJoin_Task);

// ---- Timer: a timeout armed and cancelled around an operation that completes at once ----

// The operation is an uncontended cogent::Lock acquire + release (a few nanoseconds), so the
// figure is what a scoped cogent::Timeout adds: arm on the hub's timer heap, register with the
// greenlet, disarm and unregister.
void BM_Timer_Greenlet(benchmark::State& state) {
  cogent::spawn([&state] {
    cogent::Lock lock;
    auto step = [&lock] {
      cogent::Timeout deadline(1s);
      lock.acquire();
      lock.release();
    };
    for (int i = 0; i < kWarmup; ++i) step();
    for (auto _ : state) step();
  }).join();
}
BENCHMARK(BM_Timer_Greenlet);

cogent::Task<> timed_acquires(benchmark::State& state) {
  cogent::Lock lock;
  for (int i = 0; i < kWarmup; ++i) {
    cogent::Timeout deadline(1s);
    co_await lock.async_acquire();
    lock.release();
  }
  for (auto _ : state) {
    cogent::Timeout deadline(1s);
    co_await lock.async_acquire();
    lock.release();
  }
}

// As BM_Timer_Greenlet inside a task, the acquire awaited (ready at once, so never suspended).
void BM_Timer_Task(benchmark::State& state) { cogent::spawn(timed_acquires(state)).join(); }
BENCHMARK(BM_Timer_Task);

void never_fires(cogent::detail::TimerNode*) { std::abort(); }

// Diagnostic: arms and disarms one timer on the hub's heap while `others` timers stay armed,
// spread over one minute an hour from now (the hub never runs meanwhile, so none fires).
// `probe_offset` places the probe's deadline relative to that minute: before all of them, it rises
// to the root on insert and is removed from the root (the longest path, the same every iteration);
// in the middle, it behaves as a typical timeout among timeouts of mixed length.
void timer_insert_cancel(benchmark::State& state, std::chrono::nanoseconds probe_offset) {
  const auto others = static_cast<std::size_t>(state.range(0));
  const cogent::TimePoint base = cogent::Clock::now() + 1h;
  std::vector<cogent::detail::TimerNode> background(others);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> spread(0, std::chrono::nanoseconds(1min).count());
  for (auto& node : background) {
    node.on_fire = &never_fires;
    cogent::detail::arm_timer(node, base + std::chrono::nanoseconds(spread(rng)));
  }
  cogent::detail::TimerNode probe;
  probe.on_fire = &never_fires;
  const cogent::TimePoint deadline = base + probe_offset;
  for (int i = 0; i < kWarmup; ++i) {
    cogent::detail::arm_timer(probe, deadline);
    cogent::detail::disarm_timer(probe);
  }
  for (auto _ : state) {
    cogent::detail::arm_timer(probe, deadline);
    cogent::detail::disarm_timer(probe);
  }
  for (auto& node : background) cogent::detail::disarm_timer(node);
}

void BM_TimerInsertCancel(benchmark::State& state) { timer_insert_cancel(state, -1s); }
BENCHMARK(BM_TimerInsertCancel)->ArgName("others")->Arg(0)->Arg(1000)->Arg(100000);

void BM_TimerInsertCancelMidHeap(benchmark::State& state) { timer_insert_cancel(state, 30s); }
BENCHMARK(BM_TimerInsertCancelMidHeap)->ArgName("others")->Arg(1000)->Arg(100000);

}  // namespace

BENCHMARK_MAIN();
