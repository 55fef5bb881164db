#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

TEST_CASE("Event wakes every waiter in arrival order when set", "[event]") {
  cogent::test::on_each_backend([] {
    cogent::Event ev;
    std::vector<int> woke;
    std::vector<cogent::Greenlet<void>> gs;
    for (int i = 0; i < 4; ++i) {
      gs.push_back(cogent::spawn([&, i] {
        ev.wait();
        woke.push_back(i);
      }));
    }
    cogent::sleep(1ms);
    CHECK(ev.waiting() == 4);
    CHECK(woke.empty());
    ev.set();
    ev.clear();  // waiters already woken still return
    cogent::joinall(gs);
    CHECK(woke == std::vector<int>{0, 1, 2, 3});
    CHECK_FALSE(ev.is_set());
  });
}

TEST_CASE("Event wait returns at once when set, times out with false when not",
          "[event][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Event ev;
    const auto t0 = cogent::Clock::now();
    CHECK_FALSE(ev.wait(15ms));
    CHECK(cogent::Clock::now() - t0 >= 10ms);
    CHECK_FALSE(ev.wait(0s));
    CHECK(ev.waiting() == 0);
    ev.set();
    CHECK(ev.wait(0s));
    CHECK(ev.wait(1s));
    ev.wait();
  });
}

TEST_CASE("a Timeout or a kill takes a waiter off an Event", "[event][timeout][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Event ev;
    auto timed = cogent::spawn([&] {
      cogent::Timeout t(5ms);
      ev.wait();
    });
    auto killed = cogent::spawn([&] { ev.wait(); });
    auto waiting = cogent::spawn([&] { return ev.wait(5s); });
    CHECK_THROWS_AS(timed.get(), cogent::TimeoutError);
    killed.kill();
    CHECK(ev.waiting() == 1);
    ev.set();
    CHECK(waiting.get());
  });
}

TEST_CASE("tasks wait for an Event with async_wait", "[event][task]") {
  cogent::test::on_each_backend([] {
    cogent::Event ev;
    auto waiter = [](cogent::Event& e) -> cogent::Task<int> {
      const bool early = co_await e.async_wait(1ms);
      co_await e.async_wait();
      co_return early ? 1 : 2;
    };
    auto t = cogent::spawn(waiter(ev));
    cogent::sleep(5ms);
    ev.set();
    CHECK(t.get() == 2);
  });
}

TEST_CASE("AsyncResult delivers a value to every waiter, once set", "[asyncresult]") {
  cogent::test::on_each_backend([] {
    cogent::AsyncResult<std::string> result;
    CHECK_FALSE(result.ready());
    auto a = cogent::spawn([&] { return result.get(); });
    auto get = [](cogent::AsyncResult<std::string>& r) -> cogent::Task<std::string> {
      co_return co_await r.async_get();
    };
    auto b = cogent::spawn(get(result));
    cogent::spawn_later(2ms, [&] { result.set("forty-two"); });
    CHECK(a.get() == "forty-two");
    CHECK(b.get() == "forty-two");
    CHECK(result.successful());
    CHECK(result.get_nowait() == "forty-two");
  });
}

TEST_CASE("AsyncResult rethrows a stored exception and times out with TimeoutError",
          "[asyncresult][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::AsyncResult<int> result;
    CHECK_THROWS_AS(result.get(5ms), cogent::TimeoutError);
    CHECK_THROWS_AS(result.get_nowait(), cogent::TimeoutError);
    CHECK_FALSE(result.wait(0s));
    result.set_exception(std::make_exception_ptr(std::runtime_error("no answer")));
    CHECK(result.ready());
    CHECK_FALSE(result.successful());
    CHECK_THROWS_WITH(result.get(), "no answer");
    CHECK_THROWS_AS(result.set_exception(nullptr), std::invalid_argument);
    result.set(7);
    CHECK(result.get() == 7);
  });
}

TEST_CASE("AsyncResult holds move-only values and void", "[asyncresult]") {
  cogent::test::on_each_backend([] {
    cogent::AsyncResult<std::unique_ptr<int>> boxed;
    cogent::AsyncResult<> done;
    auto g = cogent::spawn([&] {
      done.wait();
      boxed.set(std::make_unique<int>(9));
    });
    done.set();
    std::unique_ptr<int> taken = std::move(boxed.get());
    CHECK(*taken == 9);
    g.join();
    done.get();
  });
}

TEST_CASE("Condition wakes notified waiters in order and each holds the lock on return",
          "[condition]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    cogent::Condition cv;
    std::vector<int> woke;
    std::vector<cogent::Greenlet<void>> gs;
    for (int i = 0; i < 3; ++i) {
      gs.push_back(cogent::spawn([&, i] {
        std::unique_lock g(lock);
        cv.wait(g);
        CHECK(lock.locked());
        woke.push_back(i);
      }));
    }
    cogent::sleep(1ms);
    CHECK(cv.waiting() == 3);
    CHECK_FALSE(lock.locked());  // every waiter released it
    cv.notify();
    cogent::sleep(1ms);
    CHECK(woke == std::vector<int>{0});
    cv.notify_all();
    cogent::joinall(gs);
    CHECK(woke == std::vector<int>{0, 1, 2});
  });
}

TEST_CASE("Condition wait with a predicate and a timeout re-acquires the lock either way",
          "[condition][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    cogent::Condition cv;
    int items = 0;
    std::unique_lock g(lock);
    CHECK_FALSE(cv.wait(g, 5ms, [&] { return items > 0; }));
    CHECK(g.owns_lock());
    CHECK(lock.locked());
    auto producer = cogent::spawn([&] {
      std::lock_guard pg(lock);
      items = 2;
      cv.notify_all();
    });
    cv.wait(g, [&] { return items > 0; });
    CHECK(items == 2);
    g.unlock();
    producer.join();
  });
}

TEST_CASE("a greenlet killed in Condition wait takes the lock back before unwinding",
          "[condition][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    cogent::Condition cv;
    bool held_while_unwinding = false;
    struct Probe {
      cogent::Lock& lock;
      bool& seen;
      ~Probe() { seen = lock.locked(); }
    };
    auto g = cogent::spawn([&] {
      std::unique_lock guard(lock);
      Probe probe{lock, held_while_unwinding};
      cv.wait(guard);
    });
    cogent::sleep(1ms);
    lock.acquire();  // the waiter must wait for this to re-acquire
    g.kill(false);
    cogent::sleep(1ms);
    CHECK_FALSE(g.ready());
    CHECK(cv.waiting() == 0);
    lock.release();
    g.join();
    CHECK(held_while_unwinding);
    CHECK_FALSE(lock.locked());
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
  });
}

TEST_CASE("tasks wait on a Condition with async_wait", "[condition][task]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock;
    cogent::Condition cv;
    bool ready = false;
    auto consumer = [](cogent::Lock& l, cogent::Condition& c, bool& go) -> cogent::Task<bool> {
      co_await l.async_acquire();
      while (!go) co_await c.async_wait(l);
      const bool held = l.locked();
      l.release();
      co_return held;
    };
    auto t = cogent::spawn(consumer(lock, cv, ready));
    cogent::sleep(1ms);
    {
      std::lock_guard g(lock);
      ready = true;
      cv.notify();
    }
    CHECK(t.get());
  });
}
