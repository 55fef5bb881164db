// Micro-benchmarks of cogent's coordination toolkit against the OS-thread equivalents, in one
// binary so that every ratio comes from one run: a lock taken and released with nobody else
// around (cogent::Lock vs std::mutex), a lock two parties contend for, an item sent through a
// queue and answered through another (two greenlets vs two threads with condition-variable
// queues), and Pool::map over 100,000 items.
//
//   sync_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "cogent/cogent.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int kWarmup = 256;

void BM_CogentLockUncontended(benchmark::State& state) {
  cogent::Lock lock;
  for (int i = 0; i < kWarmup; ++i) {
    lock.acquire();
    lock.release();
  }
  for (auto _ : state) {
    lock.acquire();
    lock.release();
  }
}
BENCHMARK(BM_CogentLockUncontended);

void BM_StdMutexUncontended(benchmark::State& state) {
  std::mutex m;
  for (auto _ : state) {
    m.lock();
    m.unlock();
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_StdMutexUncontended);

// Two greenlets each take the lock, yield while holding it, and release: every acquire parks and
// is served by the other's release (a hand-off). One iteration is one acquire+release per party.
void BM_CogentLockContended(benchmark::State& state) {
  cogent::Lock lock;
  bool done = false;
  auto other = cogent::spawn([&] {
    while (!done) {
      std::lock_guard g(lock);
      cogent::sleep(0s);
    }
  });
  cogent::spawn([&] {
    for (auto _ : state) {
      std::lock_guard g(lock);
      cogent::sleep(0s);
    }
    done = true;
  }).join();
  other.join();
}
BENCHMARK(BM_CogentLockContended);

// Two OS threads hammer one std::mutex; each iteration is one lock+unlock of the timed thread.
void BM_StdMutexContended(benchmark::State& state) {
  std::mutex m;
  std::atomic<bool> done{false};
  long shared = 0;
  std::thread other([&] {
    while (!done.load(std::memory_order_relaxed)) {
      std::lock_guard g(m);
      ++shared;
    }
  });
  for (auto _ : state) {
    std::lock_guard g(m);
    ++shared;
  }
  done = true;
  other.join();
  benchmark::DoNotOptimize(shared);
}
BENCHMARK(BM_StdMutexContended)->UseRealTime();

// Ping over one queue, pong back over another: one iteration is two puts and two gets, and both
// greenlets park once each.
void BM_CogentQueueRoundTrip(benchmark::State& state) {
  cogent::Queue<int> ping;
  cogent::Queue<int> pong;
  auto echo = cogent::spawn([&] {
    for (;;) {
      const int v = ping.get();
      if (v < 0) return;
      pong.put(v);
    }
  });
  cogent::spawn([&] {
    for (int i = 0; i < kWarmup; ++i) {
      ping.put(i);
      benchmark::DoNotOptimize(pong.get());
    }
    for (auto _ : state) {
      ping.put(1);
      benchmark::DoNotOptimize(pong.get());
    }
    ping.put(-1);
  }).join();
  echo.join();
}
BENCHMARK(BM_CogentQueueRoundTrip);

void BM_CogentTaskQueueRoundTrip(benchmark::State& state) {
  cogent::Queue<int> ping;
  cogent::Queue<int> pong;
  auto echo = [](cogent::Queue<int>& in, cogent::Queue<int>& out) -> cogent::Task<> {
    for (;;) {
      const int v = co_await in.async_get();
      if (v < 0) co_return;
      co_await out.async_put(v);
    }
  };
  auto timed = [](benchmark::State& st, cogent::Queue<int>& out,
                  cogent::Queue<int>& in) -> cogent::Task<> {
    for (auto _ : st) {
      co_await out.async_put(1);
      benchmark::DoNotOptimize(co_await in.async_get());
    }
    co_await out.async_put(-1);
  };
  auto e = cogent::spawn(echo(ping, pong));
  cogent::spawn(timed(state, ping, pong)).join();
  e.join();
}
BENCHMARK(BM_CogentTaskQueueRoundTrip);

// The textbook blocking queue: a deque under a mutex with a condition variable.
class ThreadQueue {
 public:
  void put(int v) {
    {
      std::lock_guard g(m_);
      items_.push_back(v);
    }
    cv_.notify_one();
  }
  int get() {
    std::unique_lock g(m_);
    cv_.wait(g, [&] { return !items_.empty(); });
    const int v = items_.front();
    items_.pop_front();
    return v;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<int> items_;
};

void BM_ThreadQueueRoundTrip(benchmark::State& state) {
  ThreadQueue ping;
  ThreadQueue pong;
  std::thread echo([&] {
    for (;;) {
      const int v = ping.get();
      if (v < 0) return;
      pong.put(v);
    }
  });
  for (auto _ : state) {
    ping.put(1);
    benchmark::DoNotOptimize(pong.get());
  }
  ping.put(-1);
  echo.join();
}
BENCHMARK(BM_ThreadQueueRoundTrip)->UseRealTime();

// Pool::map over 100,000 items, 64 greenlets at a time; one iteration is the whole map.
void BM_CogentPoolMap100k(benchmark::State& state) {
  std::vector<int> items(100'000);
  std::iota(items.begin(), items.end(), 0);
  cogent::Pool pool(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto squares = pool.map([](int x) { return static_cast<long>(x) * x; }, items);
    benchmark::DoNotOptimize(squares.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(items.size()));
}
BENCHMARK(BM_CogentPoolMap100k)->ArgName("size")->Arg(16)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
BENCHMARK_MAIN();
