// Micro-benchmarks of cogent's coordination toolkit against the OS-thread equivalents, in one
// binary so that every ratio comes from one run: a lock two parties contend for, a lock taken and
// released with nobody else around (cogent::Lock vs std::mutex), an item sent through a queue and
// answered through another (greenlets, tasks, and threads with condition-variable queues), and
// Pool::map over 100,000 items. Names read BM_<Operation>_<Contender> (Greenlet, Task, Thread);
// BM_CogentPoolMap100k is a diagnostic with no contender.
//
//   sync_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <atomic>
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

void BM_LockUncontended_Greenlet(benchmark::State& state) {
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
BENCHMARK(BM_LockUncontended_Greenlet);

cogent::Task<> uncontended_acquires(benchmark::State& state) {
  cogent::Lock lock;
  for (int i = 0; i < kWarmup; ++i) {
    co_await lock.async_acquire();
    lock.release();
  }
  for (auto _ : state) {
    co_await lock.async_acquire();
    lock.release();
  }
}

// The awaitable acquire is ready at once: the task never suspends.
void BM_LockUncontended_Task(benchmark::State& state) {
  cogent::spawn(uncontended_acquires(state)).join();
}
BENCHMARK(BM_LockUncontended_Task);

void BM_LockUncontended_Thread(benchmark::State& state) {
  std::mutex m;
  for (auto _ : state) {
    m.lock();
    m.unlock();
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_LockUncontended_Thread);

// Two greenlets each take the lock, yield while holding it, and release: every acquire parks and
// is served by the other's release (a hand-off). One iteration is one acquire+release per party.
void BM_Lock_Greenlet(benchmark::State& state) {
  cogent::Lock lock;
  bool done = false;
  auto other = cogent::spawn([&] {
    while (!done) {
      std::lock_guard g(lock);
      cogent::sleep(0s);
    }
  });
  cogent::spawn([&] {
    for (int i = 0; i < kWarmup; ++i) {
      std::lock_guard g(lock);
      cogent::sleep(0s);
    }
    for (auto _ : state) {
      std::lock_guard g(lock);
      cogent::sleep(0s);
    }
    done = true;
  }).join();
  other.join();
}
BENCHMARK(BM_Lock_Greenlet);

cogent::Task<> contend_until(cogent::Lock& lock, const bool& done) {
  while (!done) {
    auto g = co_await lock.async_guard();
    co_await cogent::async_sleep(0s);
  }
}

cogent::Task<> timed_contention(benchmark::State& state, cogent::Lock& lock, bool& done) {
  for (int i = 0; i < kWarmup; ++i) {
    auto g = co_await lock.async_guard();
    co_await cogent::async_sleep(0s);
  }
  for (auto _ : state) {
    auto g = co_await lock.async_guard();
    co_await cogent::async_sleep(0s);
  }
  done = true;
}

// As BM_Lock_Greenlet between two tasks, through the awaitable guard (co_await async_guard()).
void BM_Lock_Task(benchmark::State& state) {
  cogent::Lock lock;
  bool done = false;
  auto other = cogent::spawn(contend_until(lock, done));
  cogent::spawn(timed_contention(state, lock, done)).join();
  other.join();
}
BENCHMARK(BM_Lock_Task);

// Two OS threads hammer one std::mutex; each iteration is one lock+unlock of the timed thread.
// std::mutex is not fair and hands nothing off: a releasing thread often takes it straight back,
// so this is the throughput of a contended mutex, not a count of hand-offs.
void BM_Lock_Thread(benchmark::State& state) {
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
BENCHMARK(BM_Lock_Thread)->UseRealTime();

// Ping over one queue, pong back over another: one iteration is two puts and two gets, and both
// greenlets park once each.
void BM_Queue_Greenlet(benchmark::State& state) {
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
BENCHMARK(BM_Queue_Greenlet);

// As BM_Queue_Greenlet between two tasks (async_put / async_get).
void BM_Queue_Task(benchmark::State& state) {
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
    for (int i = 0; i < kWarmup; ++i) {
      co_await out.async_put(i);
      benchmark::DoNotOptimize(co_await in.async_get());
    }
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
BENCHMARK(BM_Queue_Task);

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

// As BM_Queue_Greenlet between two threads.
void BM_Queue_Thread(benchmark::State& state) {
  ThreadQueue ping;
  ThreadQueue pong;
  std::thread echo([&] {
    for (;;) {
      const int v = ping.get();
      if (v < 0) return;
      pong.put(v);
    }
  });
  for (int i = 0; i < kWarmup; ++i) {
    ping.put(i);
    benchmark::DoNotOptimize(pong.get());
  }
  for (auto _ : state) {
    ping.put(1);
    benchmark::DoNotOptimize(pong.get());
  }
  ping.put(-1);
  echo.join();
}
BENCHMARK(BM_Queue_Thread)->UseRealTime();

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
