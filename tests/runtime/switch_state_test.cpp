#include <catch2/catch.hpp>
#include <cerrno>
#include <cogent/cogent.hpp>
#include <exception>
#include <stdexcept>
#include <string>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

TEST_CASE("errno is kept per greenlet across switches", "[errno]") {
  cogent::test::on_each_backend([] {
    auto setter = [](int value) {
      errno = value;
      cogent::sleep(1ms);
      const int seen = errno;
      cogent::sleep(0s);
      return seen == value && errno == value;
    };
    auto a = cogent::spawn(setter, EINTR);
    auto b = cogent::spawn(setter, ENOENT);
    errno = EAGAIN;
    CHECK(a.get());
    CHECK(b.get());
    CHECK(errno == EAGAIN);  // main's errno too
  });
}

TEST_CASE("a greenlet that yields inside a catch block rethrows its own exception", "[errno]") {
  cogent::test::on_each_backend([] {
    auto catcher = [](std::string what) -> std::string {
      try {
        throw std::runtime_error(what);
      } catch (...) {
        cogent::sleep(1ms);  // others throw and catch meanwhile
        try {
          throw;  // must rethrow *this* greenlet's exception
        } catch (const std::runtime_error& e) {
          return e.what();
        }
      }
    };
    auto a = cogent::spawn(catcher, std::string("from a"));
    auto b = cogent::spawn(catcher, std::string("from b"));
    CHECK(a.get() == "from a");
    CHECK(b.get() == "from b");
    CHECK(std::uncaught_exceptions() == 0);
  });
}

TEST_CASE("std::uncaught_exceptions is per greenlet while destructors yield", "[errno]") {
  cogent::test::on_each_backend([] {
    int seen_inside_a = -1, seen_in_b = -1;
    struct YieldingGuard {
      int& seen;
      ~YieldingGuard() {
        cogent::sleep(1ms);  // a destructor that blocks cooperatively during unwinding
        seen = std::uncaught_exceptions();
      }
    };
    auto a = cogent::spawn([&] {
      YieldingGuard g{seen_inside_a};
      throw std::runtime_error("unwinding");
    });
    auto b = cogent::spawn([&] {
      cogent::sleep(0s);
      seen_in_b = std::uncaught_exceptions();
    });
    a.join();
    b.join();
    CHECK(seen_inside_a == 1);
    CHECK(seen_in_b == 0);
  });
}
