#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <string>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

TEST_CASE("sleepers wake in deadline order, not spawn order", "[sleep]") {
  cogent::test::on_each_backend([] {
    // Deadlines from one instant, so a slow start of the greenlets cannot reorder them.
    const auto start = cogent::Clock::now();
    std::vector<int> woke;
    std::vector<cogent::Greenlet<void>> gs;
    for (int ms : {30, 10, 20}) {
      gs.push_back(cogent::spawn([&woke, ms, start] {
        cogent::sleep_until(start + std::chrono::milliseconds(ms));
        woke.push_back(ms);
      }));
    }
    cogent::joinall(gs);
    CHECK(woke == std::vector<int>{10, 20, 30});
  });
}

TEST_CASE("tasks sleeping with async_sleep wake in deadline order", "[sleep][task]") {
  cogent::test::on_each_backend([] {
    const auto start = cogent::Clock::now();
    std::vector<int> woke;
    auto sleeper = [&woke, start](int ms) -> cogent::Task<> {
      co_await cogent::async_sleep_until(start + std::chrono::milliseconds(ms));
      woke.push_back(ms);
    };
    std::vector<cogent::Greenlet<void>> gs;
    for (int ms : {30, 10, 20}) gs.push_back(cogent::spawn(sleeper(ms)));
    cogent::joinall(gs);
    CHECK(woke == std::vector<int>{10, 20, 30});
  });
}

TEST_CASE("sleep(0) yields round-robin to every runnable greenlet", "[sleep]") {
  cogent::test::on_each_backend([] {
    std::string trace;
    auto worker = [&trace](char name) {
      for (int i = 0; i < 3; ++i) {
        trace += name;
        cogent::sleep(0s);
      }
    };
    auto a = cogent::spawn(worker, 'a');
    auto b = cogent::spawn(worker, 'b');
    auto c = cogent::spawn(worker, 'c');
    cogent::joinall(std::vector{a, b, c});
    CHECK(trace == "abcabcabc");
  });
}

TEST_CASE("a negative duration counts as zero: it yields and returns at once", "[sleep]") {
  cogent::test::on_each_backend([] {
    std::string trace;
    auto other = cogent::spawn([&] { trace += "other "; });
    const auto t0 = cogent::Clock::now();
    cogent::sleep(-5s);
    trace += "main";
    CHECK(cogent::Clock::now() - t0 < 1s);
    CHECK(trace == "other main");
    other.join();
  });
}

TEST_CASE("deadlines saturate instead of overflowing", "[sleep]") {
  CHECK(cogent::deadline_after(std::chrono::hours::max()) == cogent::TimePoint::max());
  CHECK(cogent::deadline_after(-1ms) == cogent::TimePoint::min());
  CHECK(cogent::deadline_after(0s) == cogent::TimePoint::min());
  const auto before = cogent::Clock::now();
  CHECK(cogent::deadline_after(1h) >= before + 1h);
}

TEST_CASE("sleep from main() with no greenlet spawned just waits", "[sleep]") {
  cogent::test::on_each_backend([] {
    const auto t0 = cogent::Clock::now();
    cogent::sleep(20ms);
    CHECK(cogent::Clock::now() - t0 >= 20ms);
  });
}
