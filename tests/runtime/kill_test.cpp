#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {
struct Unwound {
  std::vector<std::string>& log;
  std::string name;
  ~Unwound() { log.push_back(name + " unwound"); }
};
}  // namespace

TEST_CASE("kill of a sleeping greenlet unwinds it: destructors run, get() throws", "[kill]") {
  cogent::test::on_each_backend([] {
    std::vector<std::string> log;
    auto g = cogent::spawn([&] {
      Unwound guard{log, "sleeper"};
      cogent::sleep(10s);
      log.push_back("woke normally");
      return 1;
    });
    cogent::sleep(1ms);  // let it start and park
    const auto t0 = cogent::Clock::now();
    g.kill();
    CHECK(cogent::Clock::now() - t0 < 1s);
    CHECK(g.ready());
    CHECK_FALSE(g.successful());
    CHECK(log == std::vector<std::string>{"sleeper unwound"});
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
  });
}

TEST_CASE("a greenlet killed before it started never runs", "[kill]") {
  cogent::test::on_each_backend([] {
    bool ran = false;
    auto g = cogent::spawn([&] { ran = true; });
    g.kill(false);
    CHECK(g.ready());  // dead at once
    cogent::sleep(1ms);
    CHECK_FALSE(ran);
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
    auto later = cogent::spawn_later(5ms, [&] { ran = true; });
    later.kill();
    cogent::sleep(10ms);
    CHECK_FALSE(ran);
  });
}

TEST_CASE("kill(false) returns at once; the greenlet dies at its next switch", "[kill]") {
  cogent::test::on_each_backend([] {
    std::vector<std::string> log;
    auto g = cogent::spawn([&] {
      Unwound guard{log, "g"};
      cogent::sleep(10s);
    });
    cogent::sleep(0s);
    g.kill(false);
    CHECK_FALSE(g.ready());
    CHECK(log.empty());
    g.join();
    CHECK(log == std::vector<std::string>{"g unwound"});
  });
}

TEST_CASE("a greenlet may catch GreenletExit and finish its own way", "[kill]") {
  cogent::test::on_each_backend([] {
    auto g = cogent::spawn([] {
      try {
        cogent::sleep(10s);
      } catch (const cogent::GreenletExit&) {
        cogent::sleep(1ms);  // cleanup may still block cooperatively
        return 2;
      }
      return 1;
    });
    cogent::sleep(0s);
    g.kill();
    CHECK(g.get() == 2);
  });
}

TEST_CASE("kill of a greenlet blocked in join wakes it from the join", "[kill]") {
  cogent::test::on_each_backend([] {
    auto sleeper = cogent::spawn([] { cogent::sleep(10s); });
    auto joiner = cogent::spawn([sleeper] { sleeper.join(); });
    cogent::sleep(1ms);
    joiner.kill();
    CHECK_THROWS_AS(joiner.get(), cogent::GreenletExit);
    CHECK_FALSE(sleeper.ready());
    sleeper.kill();
  });
}

TEST_CASE("killall kills every greenlet and waits for all", "[kill]") {
  cogent::test::on_each_backend([] {
    std::vector<std::string> log;
    std::vector<cogent::Greenlet<void>> gs;
    for (int i = 0; i < 5; ++i) {
      gs.push_back(cogent::spawn([&log, i] {
        Unwound guard{log, std::to_string(i)};
        cogent::sleep(std::chrono::seconds(10 + i));
      }));
    }
    cogent::sleep(1ms);
    cogent::killall(gs);
    for (auto& g : gs) CHECK(g.ready());
    CHECK(log.size() == 5);
  });
}

TEST_CASE("a killed task unwinds through its co_await chain", "[kill][task]") {
  cogent::test::on_each_backend([] {
    std::vector<std::string> log;
    auto inner = [&log]() -> cogent::Task<int> {
      Unwound guard{log, "inner"};
      co_await cogent::async_sleep(10s);
      co_return 1;
    };
    auto outer = [&log, inner]() -> cogent::Task<int> {
      Unwound guard{log, "outer"};
      co_return co_await inner();
    };
    auto g = cogent::spawn(outer());
    cogent::sleep(1ms);
    g.kill();
    CHECK(log == std::vector<std::string>{"inner unwound", "outer unwound"});
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
  });
}

TEST_CASE("a task kills another with co_await async_kill()", "[kill][task]") {
  cogent::test::on_each_backend([] {
    auto victim = cogent::spawn([] { cogent::sleep(10s); });
    auto killer = [](cogent::Greenlet<void> v) -> cogent::Task<bool> {
      co_await v.async_kill();
      co_return v.ready();
    };
    CHECK(cogent::spawn(killer(victim)).get());
    CHECK_THROWS_AS(victim.get(), cogent::GreenletExit);
  });
}

TEST_CASE("a greenlet killing itself raises GreenletExit at once", "[kill]") {
  cogent::test::on_each_backend([] {
    cogent::Greenlet<void> self;
    bool after = false;
    self = cogent::spawn([&] {
      cogent::sleep(0s);
      self.kill();
      after = true;
    });
    self.join();
    CHECK_FALSE(after);
    CHECK_THROWS_AS(self.get(), cogent::GreenletExit);
  });
}

TEST_CASE("greenlets left alive when their thread ends are killed and unwound", "[kill]") {
  for (const char* backend : {"uring", "epoll"}) {
    std::vector<std::string> log;
    std::thread([&] {
      cogent::Hub::create({.backend = backend});
      cogent::spawn([&] {
        Unwound guard{log, "orphan"};
        cogent::sleep(10s);
      });
      cogent::spawn([&] { log.push_back("never started"); }).kill(false);
      cogent::sleep(1ms);
    }).join();
    CHECK(log == std::vector<std::string>{"orphan unwound"});
  }
}
