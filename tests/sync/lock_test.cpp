#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {

// Spawns `n` greenlets that park on `lock` in spawn order and log when they get it.
std::vector<cogent::Greenlet<void>> park_in_order(cogent::Lock& lock, int n,
                                                  std::vector<int>& served) {
  std::vector<cogent::Greenlet<void>> gs;
  for (int i = 1; i <= n; ++i) {
    gs.push_back(cogent::spawn([&lock, &served, i] {
      std::lock_guard guard(lock);
      served.push_back(i);
    }));
    cogent::sleep(0s);  // it starts and parks before the next one is spawned
  }
  return gs;
}

}  // namespace

TEST_CASE("a Lock excludes, records its holder and unlocks on release", "[lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    CHECK_FALSE(lock.locked());
    CHECK(lock.holder_id() == 0);
    auto g = cogent::spawn([&] {
      lock.acquire();
      cogent::sleep(5ms);
      lock.release();
    });
    cogent::sleep(1ms);
    CHECK(lock.locked());
    CHECK(lock.holder_id() == g.id());
    CHECK_FALSE(lock.try_acquire());
    lock.acquire();
    CHECK(g.ready());
    CHECK(lock.holder_id() == 0);  // the main greenlet
    lock.release();
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE("Lock waiters are served in arrival order and a newcomer cannot overtake them",
          "[lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    std::vector<int> served;
    lock.acquire();
    auto gs = park_in_order(lock, 5, served);
    CHECK(lock.waiting() == 5);
    lock.release();
    CHECK(lock.locked());  // handed to the first waiter, not freed
    CHECK_FALSE(lock.try_acquire());
    cogent::joinall(gs);
    CHECK(served == std::vector<int>{1, 2, 3, 4, 5});
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE("acquire with a timeout gives up, leaves the queue and the lock keeps its holder",
          "[lock][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    lock.acquire();
    auto waiter = cogent::spawn([&] { return lock.acquire(20ms); });
    const auto t0 = cogent::Clock::now();
    CHECK_FALSE(waiter.get());
    CHECK(cogent::Clock::now() - t0 >= 15ms);
    CHECK(lock.waiting() == 0);
    CHECK(lock.locked());
    CHECK_FALSE(lock.acquire(0s));  // only tries
    lock.release();
    CHECK(lock.acquire(0s));
    lock.release();
  });
}

TEST_CASE("a Timeout around a blocked acquire raises TimeoutError and loses no lock",
          "[lock][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    lock.acquire();
    std::vector<int> served;
    auto timed = cogent::spawn([&] {
      cogent::Timeout t(10ms);
      lock.acquire();
      served.push_back(0);
    });
    cogent::sleep(0s);
    auto next = park_in_order(lock, 1, served);
    CHECK_THROWS_AS(timed.get(), cogent::TimeoutError);
    CHECK(lock.waiting() == 1);
    lock.release();
    cogent::joinall(next);
    CHECK(served == std::vector<int>{1});
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE("killing a greenlet that waits for a lock removes it from the queue", "[lock][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    std::vector<int> served;
    lock.acquire();
    auto gs = park_in_order(lock, 3, served);
    gs[1].kill();
    CHECK(lock.waiting() == 2);
    lock.release();
    cogent::joinall(gs);
    CHECK(served == std::vector<int>{1, 3});
    CHECK_FALSE(lock.locked());
    CHECK_THROWS_AS(gs[1].get(), cogent::GreenletExit);
  });
}

TEST_CASE("a greenlet granted the lock and killed before it runs keeps it until it unwinds",
          "[lock][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    std::vector<std::string> log;
    lock.acquire();
    auto g = cogent::spawn([&] {
      std::lock_guard guard(lock);
      log.push_back("got the lock");
      cogent::sleep(1s);  // the kill is raised here
      log.push_back("not reached");
    });
    cogent::sleep(0s);
    lock.release();  // granted to g, which has not run yet
    CHECK(lock.holder_id() == g.id());
    g.kill();
    CHECK(log == std::vector<std::string>{"got the lock"});
    CHECK_FALSE(lock.locked());
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
  });
}

TEST_CASE("releasing an unlocked Lock is an error that changes nothing", "[lock][misuse]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock("A");
    CHECK_THROWS_WITH(lock.release(), "cogent::Lock::release: Lock A is not locked");
    lock.acquire();
    lock.release();
    CHECK_THROWS_AS(lock.release(), std::logic_error);
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE("another greenlet may release a Lock, as in gevent", "[lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    lock.acquire();
    cogent::spawn([&] { lock.release(); }).join();
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE("an RLock is reentrant for its holder and counts its depth", "[lock][rlock]") {
  cogent::test::on_each_backend([] {
    cogent::RLock lock;
    lock.acquire();
    lock.acquire();
    CHECK(lock.try_acquire());
    CHECK(lock.depth() == 3);
    CHECK(lock.owned());
    auto other = cogent::spawn([&] {
      std::lock_guard g(lock);
      return lock.depth();
    });
    lock.release();
    lock.release();
    cogent::sleep(1ms);
    CHECK_FALSE(other.ready());  // still held once
    CHECK(lock.depth() == 1);
    lock.release();
    CHECK(other.get() == 1);
    CHECK_FALSE(lock.locked());
    CHECK(lock.depth() == 0);
  });
}

TEST_CASE("an RLock refuses a release by a greenlet that does not hold it",
          "[lock][rlock][misuse]") {
  cogent::test::on_each_backend([] {
    cogent::RLock lock("R");
    CHECK_THROWS_WITH(lock.release(), "cogent::RLock::release: RLock R is not locked");
    lock.acquire();
    auto intruder = cogent::spawn([&] { lock.release(); });
    CHECK_THROWS_WITH(intruder.get(),
                      "cogent::RLock::release: RLock R is held by another greenlet");
    CHECK(lock.owned());
    CHECK(lock.depth() == 1);
    lock.release();
  });
}

TEST_CASE("a Semaphore admits at most its value, in arrival order", "[semaphore]") {
  cogent::test::on_each_backend([] {
    cogent::Semaphore sem(2);
    int inside = 0;
    int most = 0;
    std::vector<int> order;
    std::vector<cogent::Greenlet<void>> gs;
    for (int i = 0; i < 6; ++i) {
      gs.push_back(cogent::spawn([&, i] {
        std::lock_guard g(sem);
        order.push_back(i);
        most = std::max(most, ++inside);
        cogent::sleep(2ms);
        --inside;
      }));
    }
    cogent::joinall(gs);
    CHECK(most == 2);
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(sem.value() == 2);
    sem.release();  // unbounded: allowed
    CHECK(sem.value() == 3);
  });
}

TEST_CASE("a BoundedSemaphore refuses to be released past its initial value",
          "[semaphore][misuse]") {
  cogent::test::on_each_backend([] {
    cogent::BoundedSemaphore sem(2);
    CHECK_THROWS_AS(sem.release(), std::logic_error);
    CHECK(sem.value() == 2);
    sem.acquire();
    sem.release();
    CHECK_THROWS_WITH(sem.release(), Catch::Contains("released more times than it was acquired"));
    CHECK(sem.value() == 2);
  });
}

TEST_CASE("locks work with std::unique_lock and std::scoped_lock, timed and untimed", "[lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock a;
    cogent::RLock b;
    {
      std::scoped_lock both(a, b);
      CHECK(a.locked());
      CHECK(b.owned());
      auto g = cogent::spawn([&] {
        std::unique_lock attempt(a, std::defer_lock);
        return attempt.try_lock_for(5ms);
      });
      CHECK_FALSE(g.get());
    }
    CHECK_FALSE(a.locked());
    CHECK_FALSE(b.locked());
    std::unique_lock g(a, 10ms);
    CHECK(g.owns_lock());
  });
}

TEST_CASE("tasks acquire locks with async_acquire and async_guard, in the same queue as greenlets",
          "[lock][task]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    std::vector<std::string> log;
    lock.acquire();
    auto task = [&](std::string name) -> cogent::Task<void> {
      auto guard = co_await lock.async_guard();
      log.push_back(name);
      co_await cogent::async_sleep(1ms);
    };
    auto t1 = cogent::spawn(task("task 1"));
    cogent::sleep(0s);
    auto g = cogent::spawn([&] {
      std::lock_guard guard(lock);
      log.push_back("greenlet");
    });
    cogent::sleep(0s);
    auto t2 = cogent::spawn(task("task 2"));
    cogent::sleep(0s);
    auto try_briefly = [](cogent::Lock& l) -> cogent::Task<bool> {
      co_return co_await l.async_acquire(1ms);
    };
    auto timed = cogent::spawn(try_briefly(lock));
    CHECK_FALSE(timed.get());
    lock.release();
    cogent::joinall(std::vector<cogent::Greenlet<void>>{t1, g, t2});
    CHECK(log == std::vector<std::string>{"task 1", "greenlet", "task 2"});
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE("a counter guarded by a Lock is exact when every holder yields inside", "[lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    long counter = 0;
    std::vector<cogent::Greenlet<void>> gs;
    for (int i = 0; i < 100; ++i) {
      gs.push_back(cogent::spawn([&] {
        for (int k = 0; k < 100; ++k) {
          std::lock_guard g(lock);
          const long seen = counter;
          cogent::sleep(0s);
          counter = seen + 1;
        }
      }));
    }
    cogent::joinall(gs);
    CHECK(counter == 10'000);
  });
}

TEST_CASE("Semaphore and RLock waits end by deadline, Timeout and kill without losing a permit",
          "[semaphore][rlock][timeout][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Semaphore sem(1);
    cogent::RLock rlock;
    sem.acquire();
    rlock.acquire();
    auto by_deadline = cogent::spawn([&] { return sem.acquire(2ms) || rlock.acquire(2ms); });
    auto by_timeout = cogent::spawn([&] {
      cogent::Timeout t(2ms);
      sem.acquire();
    });
    auto by_timeout_r = cogent::spawn([&] {
      cogent::Timeout t(2ms);
      rlock.acquire();
    });
    auto by_kill = cogent::spawn([&] { sem.acquire(); });
    auto by_kill_r = cogent::spawn([&] { rlock.acquire(); });
    CHECK_FALSE(by_deadline.get());
    CHECK_THROWS_AS(by_timeout.get(), cogent::TimeoutError);
    CHECK_THROWS_AS(by_timeout_r.get(), cogent::TimeoutError);
    by_kill.kill();
    by_kill_r.kill();
    CHECK(sem.waiting() == 0);
    CHECK(rlock.waiting() == 0);
    sem.release();
    rlock.release();
    CHECK(sem.value() == 1);
    CHECK_FALSE(rlock.locked());
  });
}
