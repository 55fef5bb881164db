#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

// TSan counts every fiber as a thread and dies past 8,128 of them.
#if defined(__SANITIZE_THREAD__)
constexpr int kManyGreenlets = 5'000;
#else
constexpr int kManyGreenlets = 100'000;
#endif

TEST_CASE("100,000 greenlets spawned and joined leave no stack or greenlet behind", "[spawn]") {
  cogent::test::on_each_backend([] {
    constexpr int kCount = kManyGreenlets;
    long long sum = 0;
    std::vector<cogent::Greenlet<int>> gs;
    gs.reserve(kCount);
    for (int i = 0; i < kCount; ++i) {
      gs.push_back(cogent::spawn(
          [&sum](int v) {
            cogent::sleep(0s);
            sum += v;
            return v;
          },
          i));
    }
    CHECK(cogent::Hub::current().live_greenlets() == kCount);
    auto done = cogent::joinall(gs);
    CHECK(done.size() == kCount);
    CHECK(sum == static_cast<long long>(kCount) * (kCount - 1) / 2);
    CHECK(gs[kCount / 2].get() == kCount / 2);
    CHECK(cogent::Hub::current().live_greenlets() == 0);
    CHECK(cogent::Hub::current().live_stacks() == 0);
  });
}

TEST_CASE("get() returns the result; joining twice returns the same result", "[spawn]") {
  cogent::test::on_each_backend([] {
    auto g = cogent::spawn([](std::string s) { return s + "!"; }, std::string("hi"));
    CHECK_FALSE(g.ready());
    CHECK(g.get() == "hi!");
    CHECK(g.get() == "hi!");
    g.join();
    CHECK(g.ready());
    CHECK(g.successful());
    CHECK(g.exception() == nullptr);
  });
}

TEST_CASE("an exception thrown in a greenlet crosses get(), every time", "[spawn]") {
  cogent::test::on_each_backend([] {
    auto g = cogent::spawn([]() -> int { throw std::runtime_error("boom"); });
    g.join();  // join never throws what the greenlet threw
    CHECK(g.ready());
    CHECK_FALSE(g.successful());
    REQUIRE(g.exception() != nullptr);
    CHECK_THROWS_WITH(g.get(), "boom");
    CHECK_THROWS_WITH(g.get(), "boom");
  });
}

TEST_CASE("nested spawn: greenlets spawn and join greenlets", "[spawn]") {
  cogent::test::on_each_backend([] {
    std::function<int(int)> tree = [&tree](int depth) -> int {
      if (depth == 0) return 1;
      auto l = cogent::spawn(tree, depth - 1);
      auto r = cogent::spawn(tree, depth - 1);
      return l.get() + r.get();
    };
    CHECK(cogent::spawn(tree, 10).get() == 1024);
  });
}

TEST_CASE("join(timeout) reports whether the greenlet finished", "[spawn][timeout]") {
  cogent::test::on_each_backend([] {
    auto g = cogent::spawn([] { cogent::sleep(50ms); });
    CHECK_FALSE(g.join(5ms));
    CHECK_FALSE(g.ready());
    CHECK(g.join(5s));
    CHECK(g.ready());
    auto slow = cogent::spawn([] { cogent::sleep(1s); });
    CHECK_THROWS_AS(slow.get(1ms), cogent::TimeoutError);
    slow.kill();
  });
}

TEST_CASE("joinall with a timeout returns the finished ones, in finishing order", "[spawn]") {
  cogent::test::on_each_backend([] {
    auto slow = cogent::spawn([] { cogent::sleep(10s); });
    auto b = cogent::spawn([] { cogent::sleep(20ms); });
    auto a = cogent::spawn([] { cogent::sleep(5ms); });
    auto done = cogent::joinall(std::vector{slow, b, a}, 200ms);
    REQUIRE(done.size() == 2);
    CHECK(done[0].id() == a.id());
    CHECK(done[1].id() == b.id());
    CHECK_FALSE(slow.ready());
    slow.kill();
    CHECK(slow.ready());
  });
}

TEST_CASE("joinall of already-finished greenlets returns at once", "[spawn]") {
  cogent::test::on_each_backend([] {
    auto g = cogent::spawn([] { return 1; });
    g.join();
    auto done = cogent::joinall(std::vector{g}, 0s);
    CHECK(done.size() == 1);
  });
}

TEST_CASE("spawn_later starts the greenlet after the delay", "[spawn]") {
  cogent::test::on_each_backend([] {
    const auto t0 = cogent::Clock::now();
    auto g = cogent::spawn_later(30ms, [t0] { return cogent::Clock::now() - t0; });
    CHECK(g.get() >= 30ms);
  });
}

TEST_CASE("link callbacks run in the hub after death, with the handle", "[link]") {
  cogent::test::on_each_backend([] {
    std::vector<std::string> events;
    auto g = cogent::spawn([&] {
      cogent::sleep(1ms);
      events.push_back("body");
      return 7;
    });
    g.link([&](cogent::Greenlet<int>& h) { events.push_back("link1 " + std::to_string(h.get())); });
    g.link([&] { events.push_back("link2"); });
    g.join();
    cogent::sleep(0s);  // links run on the hub's next turn
    CHECK(events == std::vector<std::string>{"body", "link1 7", "link2"});
    g.link([&] { events.push_back("late"); });  // already dead: runs on a coming turn
    cogent::sleep(0s);
    CHECK(events.back() == "late");
  });
}

TEST_CASE("a link callback that blocks gets a clear error", "[link]") {
  cogent::test::on_each_backend([] {
    std::string message;
    auto g = cogent::spawn([] {});
    g.link([&] {
      try {
        cogent::sleep(1ms);
      } catch (const std::logic_error& e) {
        message = e.what();
      }
    });
    g.join();
    cogent::sleep(0s);
    CHECK_THAT(message, Catch::Contains("would block inside the hub"));
  });
}

TEST_CASE("an empty handle is refused with a clear error", "[spawn]") {
  cogent::Greenlet<int> empty;
  CHECK_FALSE(empty);
  CHECK_THROWS_WITH(empty.get(), "cogent: join on an empty Greenlet handle");
  CHECK_THROWS_AS(empty.kill(), std::logic_error);
  CHECK_THROWS_AS(cogent::spawn(cogent::Task<int>()), std::invalid_argument);
}

TEST_CASE("arguments are copied into the greenlet and die with its body", "[spawn]") {
  cogent::test::on_each_backend([] {
    auto token = std::make_shared<int>(5);
    std::weak_ptr<int> watch = token;
    auto g = cogent::spawn([](std::shared_ptr<int> p) { return *p; }, std::move(token));
    CHECK(g.get() == 5);
    CHECK(watch.expired());  // the handle is alive, the captured argument is not
  });
}

TEST_CASE("cogent::run returns the result of a function or task", "[run]") {
  cogent::test::on_each_backend([] {
    CHECK(cogent::run([](int a, int b) { return a + b; }, 2, 3) == 5);
    auto task = []() -> cogent::Task<std::string> {
      co_await cogent::async_sleep(1ms);
      co_return "done";
    };
    CHECK(cogent::run(task()) == "done");
    CHECK_THROWS_WITH(cogent::run([] { throw std::runtime_error("bad"); }), "bad");
  });
}

TEST_CASE("spawn passes arguments as rvalues, so move-only ones work", "[spawn]") {
  cogent::test::on_each_backend([] {
    auto g = cogent::spawn([](std::unique_ptr<int> p) { return *p + 1; },
                           std::make_unique<int>(41));
    CHECK(g.get() == 42);
  });
}
