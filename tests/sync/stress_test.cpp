// Thousands of greenlets doing random lock, semaphore, queue, event and sleep operations while a
// killer kills some of them at random points. Seeded (the seed is printed on failure) so that a
// failing run can be replayed. Checked afterwards: the counter equals the increments that
// completed, no item was lost or duplicated, the semaphore never admitted too many, and nothing
// is left locked, parked or alive.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {

struct World {
  cogent::Lock lock{"counter"};
  cogent::Semaphore sem{3, "three"};
  cogent::Queue<std::uint64_t> queue{16};
  cogent::Event gate{"gate"};
  long counter = 0;
  long increments = 0;  // counted together with the counter, never across a switch
  int inside_sem = 0;
  int most_inside_sem = 0;
  std::vector<std::uint64_t> put;
  std::vector<std::uint64_t> got;
};

void worker(World& w, std::uint32_t seed, int ops, std::uint64_t id_base) {
  std::mt19937 rng(seed);
  std::uint64_t next_item = id_base;
  for (int i = 0; i < ops; ++i) {
    switch (rng() % 6) {
      case 0: {  // a critical section that yields inside
        std::lock_guard g(w.lock);
        cogent::sleep(0s);
        ++w.counter;
        ++w.increments;
        break;
      }
      case 1: {  // the same with a timed acquire
        if (w.lock.acquire(std::chrono::microseconds(rng() % 500))) {
          std::lock_guard g(w.lock, std::adopt_lock);
          ++w.counter;
          ++w.increments;
        }
        break;
      }
      case 2: {
        std::lock_guard g(w.sem);
        w.most_inside_sem = std::max(w.most_inside_sem, ++w.inside_sem);
        struct Leave {
          int& n;
          ~Leave() { --n; }
        } leave{w.inside_sem};
        cogent::sleep(std::chrono::microseconds(rng() % 200));
        break;
      }
      case 3: {
        const std::uint64_t item = next_item++;
        try {
          w.queue.put(item, std::chrono::microseconds(rng() % 1000));
          w.put.push_back(item);
        } catch (const cogent::Full&) {
        }
        break;
      }
      case 4: {
        try {
          w.got.push_back(w.queue.get(std::chrono::microseconds(rng() % 1000)));
        } catch (const cogent::Empty&) {
        }
        break;
      }
      default: {
        if (rng() % 4 == 0) {
          cogent::Timeout t(std::chrono::microseconds(rng() % 300));
          try {
            w.gate.wait();
          } catch (const cogent::TimeoutError& e) {
            if (e.source() != &t) throw;
          }
        } else {
          cogent::sleep(std::chrono::microseconds(rng() % 300));
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("thousands of greenlets doing random lock/queue/sleep/kill keep every invariant",
          "[stress]") {
  const std::uint32_t seed = 20261123;
  INFO("seed " << seed);
  cogent::test::on_each_backend([seed] {
    World w;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    constexpr int kGreenlets = 500;
#else
    constexpr int kGreenlets = 3000;
#endif
    constexpr int kOps = 40;
    std::mt19937 rng(seed);
    std::vector<cogent::Greenlet<void>> workers;
    for (int i = 0; i < kGreenlets; ++i) {
      workers.push_back(cogent::spawn(worker, std::ref(w), static_cast<std::uint32_t>(rng()), kOps,
                                      static_cast<std::uint64_t>(i) << 32));
    }
    int killed = 0;
    auto killer = cogent::spawn([&] {
      std::mt19937 krng(seed ^ 0x5eed);
      for (int round = 0; round < kGreenlets / 10; ++round) {
        cogent::sleep(std::chrono::microseconds(krng() % 400));
        auto& victim = workers[krng() % workers.size()];
        if (!victim.ready()) {
          victim.kill(false);
          ++killed;
        }
      }
    });
    killer.join();
    cogent::joinall(workers);

    CHECK(killed > 0);
    std::size_t ended_by_kill = 0;
    for (auto& g : workers) {
      if (g.successful()) continue;
      ++ended_by_kill;
      CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
    }
    CHECK(ended_by_kill > 0);
    CHECK(w.counter == w.increments);
    CHECK(w.most_inside_sem <= 3);
    CHECK(w.inside_sem == 0);
    CHECK(w.sem.value() == 3);
    CHECK_FALSE(w.lock.locked());
    CHECK(w.lock.waiting() == 0);
    CHECK(w.sem.waiting() == 0);
    CHECK(w.gate.waiting() == 0);

    while (!w.queue.empty()) w.got.push_back(w.queue.get_nowait());
    std::sort(w.put.begin(), w.put.end());
    std::sort(w.got.begin(), w.got.end());
    CHECK(std::adjacent_find(w.got.begin(), w.got.end()) == w.got.end());  // nothing twice
    CHECK(w.got == w.put);                                                 // nothing lost
  });
}
