#include <unistd.h>

#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <optional>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

TEST_CASE("a Timeout interrupts sleep with TimeoutError naming its source", "[timeout]") {
  cogent::test::on_each_backend([] {
    const auto start = cogent::Clock::now();
    cogent::Timeout t(20ms);
    try {
      cogent::sleep(10s);
      FAIL("sleep was not interrupted");
    } catch (const cogent::TimeoutError& e) {
      CHECK(e.source() == &t);
    }
    CHECK(t.expired());
    CHECK(cogent::Clock::now() - start >= 20ms);
    CHECK(cogent::Clock::now() - start < 5s);
  });
}

TEST_CASE("a Timeout that does not expire changes nothing, during or after its scope",
          "[timeout]") {
  cogent::test::on_each_backend([] {
    {
      cogent::Timeout t(5s);
      cogent::sleep(2ms);
      CHECK_FALSE(t.expired());
    }
    cogent::sleep(2ms);
  });
}

TEST_CASE("nested Timeouts: the earlier deadline fires and says which it was", "[timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Timeout outer(20ms);
    std::optional<cogent::Timeout> inner(std::in_place, 10s);
    try {
      cogent::sleep(10s);
      FAIL("not interrupted");
    } catch (const cogent::TimeoutError& e) {
      CHECK(e.source() == &outer);
      CHECK_FALSE(inner->expired());
    }
  });
}

TEST_CASE("a Timeout interrupts join and wait_read; the waits leave nothing behind", "[timeout]") {
  cogent::test::on_each_backend([] {
    auto sleeper = cogent::spawn([] { cogent::sleep(10s); });
    CHECK_THROWS_AS(cogent::with_timeout(10ms, [&] { sleeper.join(); }), cogent::TimeoutError);
    CHECK_FALSE(sleeper.ready());
    sleeper.kill();

    int p[2];
    REQUIRE(::pipe(p) == 0);
    CHECK_THROWS_AS(cogent::with_timeout(10ms, [&] { cogent::wait_read(p[0]); }),
                    cogent::TimeoutError);
    ::close(p[0]);
    ::close(p[1]);
  });
}

TEST_CASE("with_timeout returns the function's value when it finishes in time", "[timeout]") {
  cogent::test::on_each_backend([] {
    int v = cogent::with_timeout(1s, [] {
      cogent::sleep(1ms);
      return 42;
    });
    CHECK(v == 42);
  });
}

TEST_CASE("a zero Timeout fires at the first blocking call", "[timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Timeout t(0s);
    CHECK_THROWS_AS(cogent::sleep(1s), cogent::TimeoutError);
  });
}

TEST_CASE("a cancelled Timeout never fires", "[timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Timeout t(5ms);
    t.cancel();
    cogent::sleep(20ms);
    CHECK_FALSE(t.expired());
  });
}

TEST_CASE("an expiry after the wait finished is raised by the next blocking call", "[timeout]") {
  cogent::test::on_each_backend([] {
    // sleep(0s) finishes in start() and leaves the greenlet runnable; the zero Timeout fires in
    // the hub before it resumes. The yield keeps its (empty) result and the next call raises.
    cogent::Timeout t(0s);
    bool yielded = false;
    try {
      cogent::sleep(0s);
      yielded = true;
      cogent::sleep(0s);
    } catch (const cogent::TimeoutError& e) {
      CHECK(e.source() == &t);
    }
    CHECK(yielded);
  });
}

TEST_CASE("async_with_timeout bounds a task", "[timeout][task]") {
  cogent::test::on_each_backend([] {
    auto slow = []() -> cogent::Task<int> {
      co_await cogent::async_sleep(10s);
      co_return 1;
    };
    auto fast = []() -> cogent::Task<int> {
      co_await cogent::async_sleep(1ms);
      co_return 2;
    };
    auto outer = [&]() -> cogent::Task<int> {
      int got = co_await cogent::async_with_timeout(1s, fast());
      try {
        co_await cogent::async_with_timeout(20ms, slow());
      } catch (const cogent::TimeoutError&) {
        got += 40;
      }
      co_return got;
    };
    CHECK(cogent::spawn(outer()).get() == 42);
  });
}

TEST_CASE("a greenlet killed under a Timeout gets GreenletExit, not TimeoutError", "[timeout]") {
  cogent::test::on_each_backend([] {
    bool exited = false;
    auto g = cogent::spawn([&] {
      cogent::Timeout t(10s);
      try {
        cogent::sleep(10s);
      } catch (const cogent::GreenletExit&) {
        exited = true;
        throw;
      }
    });
    cogent::sleep(1ms);
    g.kill();
    CHECK(exited);
  });
}
