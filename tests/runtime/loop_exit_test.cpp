#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <string>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

TEST_CASE("two greenlets joining each other: main gets LoopExit naming both", "[loopexit]") {
  cogent::test::on_each_backend([] {
    cogent::Greenlet<void> a, b;
    a = cogent::spawn([&] { b.join(); });
    b = cogent::spawn([&] { a.join(); });
    std::string message;
    try {
      cogent::joinall(std::vector{a, b});
    } catch (const cogent::LoopExit& e) {
      message = e.what();
    }
    CHECK_THAT(message, Catch::StartsWith("cogent: this operation would block forever"));
    CHECK_THAT(message, Catch::Contains("greenlet " + std::to_string(a.id()) +
                                        " waits for greenlet " + std::to_string(b.id())));
    CHECK_THAT(message, Catch::Contains("greenlet " + std::to_string(b.id()) +
                                        " waits for greenlet " + std::to_string(a.id())));
    CHECK_THAT(message, Catch::Contains("main greenlet waits for all of 2 greenlets"));
    cogent::killall(std::vector{a, b});
  });
}

TEST_CASE("no LoopExit while a timer is pending", "[loopexit]") {
  cogent::test::on_each_backend([] {
    auto g = cogent::spawn([] {
      cogent::sleep(30ms);
      return 3;
    });
    CHECK(g.get() == 3);
  });
}

TEST_CASE("no LoopExit while an fd wait is pending", "[loopexit]") {
  cogent::test::on_each_backend([] {
    int p[2];
    REQUIRE(pipe(p) == 0);
    auto reader = cogent::spawn([&] {
      cogent::wait_read(p[0]);
      return true;
    });
    auto writer = cogent::spawn_later(20ms, [&] { (void)!write(p[1], "x", 1); });
    CHECK(reader.get());
    writer.join();
    close(p[0]);
    close(p[1]);
  });
}

TEST_CASE("a greenlet joining itself is a deadlock the hub reports", "[loopexit]") {
  cogent::test::on_each_backend([] {
    cogent::Greenlet<void> self;
    self = cogent::spawn([&] { self.join(); });
    CHECK_THROWS_AS(self.join(), cogent::LoopExit);
    self.kill();
  });
}
