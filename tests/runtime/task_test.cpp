#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {

cogent::Task<long> chain(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await chain(depth - 1);
}

cogent::Task<int> thrower() {
  co_await cogent::async_sleep(0s);
  throw std::runtime_error("task failed");
}

struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  Counted(const Counted&) { ++alive; }
  ~Counted() { --alive; }
};

}  // namespace

// Symmetric transfer is a tail call only when the compiler may emit one; sanitizer
// instrumentation stops GCC from doing so, so there the chain is kept within the hub's stack.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kChainDepth = 200;
#else
constexpr int kChainDepth = 100'000;
#endif

TEST_CASE("a 100,000-deep chain of co_await completes without growing the stack", "[task]") {
  cogent::test::on_each_backend([] { CHECK(cogent::run(chain(kChainDepth)) == kChainDepth); });
}

TEST_CASE("exceptions propagate through co_await and out of get()", "[task]") {
  cogent::test::on_each_backend([] {
    auto catcher = []() -> cogent::Task<std::string> {
      try {
        co_await thrower();
      } catch (const std::runtime_error& e) {
        co_return e.what();
      }
      co_return "not thrown";
    };
    CHECK(cogent::run(catcher()) == "task failed");
    auto g = cogent::spawn(thrower());
    CHECK_THROWS_WITH(g.get(), "task failed");
  });
}

TEST_CASE("tasks return void and references", "[task]") {
  cogent::test::on_each_backend([] {
    int target = 1;
    auto ref = [&target]() -> cogent::Task<int&> { co_return target; };
    auto user = [&]() -> cogent::Task<> {
      int& r = co_await ref();
      r = 42;
    };
    cogent::run(user());
    CHECK(target == 42);
    auto g = cogent::spawn(ref());
    CHECK(&g.get() == &target);
  });
}

TEST_CASE("destroying an unstarted task destroys its frame and arguments", "[task]") {
  auto make = [](Counted c) -> cogent::Task<int> {
    (void)c;
    co_return 1;
  };
  {
    auto t = make(Counted{});
    CHECK(Counted::alive == 1);
  }
  CHECK(Counted::alive == 0);
  cogent::test::on_each_backend([&] {
    auto g = cogent::spawn(make(Counted{}));
    g.kill(false);  // never started: the frame goes at once
    CHECK(Counted::alive == 0);
  });
}

TEST_CASE("a task awaits greenlets and greenlets join tasks", "[task]") {
  cogent::test::on_each_backend([] {
    auto worker = cogent::spawn([] {
      cogent::sleep(2ms);
      return 20;
    });
    auto task = [worker]() -> cogent::Task<int> { co_return 1 + co_await worker; };
    auto t = cogent::spawn(task());
    CHECK(t.get() == 21);
  });
}

TEST_CASE("async_joinall waits for every handle, optionally with a timeout", "[task]") {
  cogent::test::on_each_backend([] {
    std::vector<cogent::Greenlet<void>> gs;
    for (int ms : {3, 1, 2})
      gs.push_back(cogent::spawn([ms] { cogent::sleep(std::chrono::milliseconds(ms)); }));
    auto slow = cogent::spawn([] { cogent::sleep(10s); });
    auto waiter = [&]() -> cogent::Task<std::size_t> {
      auto all = co_await cogent::async_joinall(gs);
      std::vector<cogent::Greenlet<void>> just_slow{slow};
      auto some = co_await cogent::async_joinall(just_slow, 5ms);
      co_return all.size() * 10 + some.size();
    };
    CHECK(cogent::run(waiter()) == 30);
    slow.kill();
  });
}

TEST_CASE("a blocking call inside a task is refused and names the async_ form", "[task]") {
  cogent::test::on_each_backend([] {
    auto misuse = []() -> cogent::Task<> {
      cogent::sleep(1ms);
      co_return;
    };
    CHECK_THROWS_WITH(cogent::run(misuse()),
                      "cogent::sleep blocks the thread's hub when called from a C++20 task; use "
                      "co_await cogent::async_sleep instead");
    auto join_misuse = []() -> cogent::Task<> {
      auto g = cogent::spawn([] {});
      g.join();
      co_return;
    };
    CHECK_THROWS_WITH(cogent::run(join_misuse()), Catch::Contains("cogent::join blocks"));
  });
}

TEST_CASE("many tasks interleave on the hub in FIFO order", "[task]") {
  cogent::test::on_each_backend([] {
    std::string trace;
    auto step = [&trace](char c) -> cogent::Task<> {
      for (int i = 0; i < 2; ++i) {
        trace += c;
        co_await cogent::async_sleep(0s);
      }
    };
    auto a = cogent::spawn(step('a'));
    auto b = cogent::spawn(step('b'));
    cogent::joinall(std::vector{a, b});
    CHECK(trace == "abab");
  });
}
