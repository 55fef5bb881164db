#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <system_error>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    close(r);
    close(w);
  }
};
}  // namespace

TEST_CASE("wait_read parks the greenlet until the pipe has data", "[fd]") {
  cogent::test::on_each_backend([] {
    Pipe p;
    std::string order;
    auto reader = cogent::spawn([&] {
      cogent::wait_read(p.r);
      char c;
      REQUIRE(read(p.r, &c, 1) == 1);
      order += c;
    });
    cogent::sleep(2ms);
    order += "w";
    REQUIRE(write(p.w, "r", 1) == 1);
    reader.join();
    CHECK(order == "wr");
  });
}

TEST_CASE("wait_read of ready data returns at once without suspending", "[fd]") {
  cogent::test::on_each_backend([] {
    Pipe p;
    REQUIRE(write(p.w, "x", 1) == 1);
    bool other_ran = false;
    auto other = cogent::spawn([&] { other_ran = true; });
    cogent::wait_read(p.r);
    CHECK_FALSE(other_ran);  // the fast path did not yield
    other.join();
  });
}

TEST_CASE("wait_read with a timeout gives up and cancels the wait", "[fd][timeout]") {
  cogent::test::on_each_backend([] {
    Pipe p;
    CHECK_FALSE(cogent::wait_read(p.r, 5ms));
    REQUIRE(write(p.w, "x", 1) == 1);
    CHECK(cogent::wait_read(p.r, 1s));
  });
}

TEST_CASE("wait_write on a pipe with room returns at once", "[fd]") {
  cogent::test::on_each_backend([] {
    Pipe p;
    CHECK(cogent::wait_write(p.w, 0s));
  });
}

TEST_CASE("kill of a greenlet blocked in wait_read cancels the wait", "[fd][kill]") {
  cogent::test::on_each_backend([] {
    Pipe p;
    auto reader = cogent::spawn([&] { cogent::wait_read(p.r); });
    cogent::sleep(1ms);
    reader.kill();
    CHECK_THROWS_AS(reader.get(), cogent::GreenletExit);
  });
}

TEST_CASE("a task awaits fd readiness with async_wait_read", "[fd][task]") {
  cogent::test::on_each_backend([] {
    Pipe p;
    auto task = [&]() -> cogent::Task<bool> {
      bool timed = co_await cogent::async_wait_read(p.r, 2ms);
      co_await cogent::async_wait_read(p.r);
      co_return timed;
    };
    auto t = cogent::spawn(task());
    cogent::sleep(5ms);
    REQUIRE(write(p.w, "x", 1) == 1);
    CHECK_FALSE(t.get());
  });
}

TEST_CASE("waiting on a closed descriptor is EBADF", "[fd]") {
  cogent::test::on_each_backend([] {
    int fd;
    {
      Pipe p;
      fd = p.r;
    }
    try {
      cogent::wait_read(fd);
      FAIL("no error");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EBADF);
    }
  });
}
