#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {
std::string loop_exit_of(const std::vector<cogent::Greenlet<void>>& gs) {
  try {
    cogent::joinall(gs);
  } catch (const cogent::LoopExit& e) {
    return e.what();
  }
  return "no LoopExit";
}
std::string greenlet(const cogent::Greenlet<void>& g) {
  return "greenlet " + std::to_string(g.id());
}
}  // namespace

TEST_CASE("the two-lock deadlock is reported with its cycle instead of hanging",
          "[loopexit][lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock a("A");
    cogent::Lock b("B");
    auto first = cogent::spawn([&] {
      std::lock_guard ga(a);
      cogent::sleep(1ms);
      std::lock_guard gb(b);
    });
    auto second = cogent::spawn([&] {
      std::lock_guard gb(b);
      cogent::sleep(1ms);
      std::lock_guard ga(a);
    });
    const std::string message = loop_exit_of({first, second});
    CHECK_THAT(message, Catch::StartsWith("cogent: this operation would block forever"));
    CHECK_THAT(message,
               Catch::Contains(greenlet(first) + " waits for Lock B, held by " + greenlet(second)));
    CHECK_THAT(message,
               Catch::Contains(greenlet(second) + " waits for Lock A, held by " + greenlet(first)));
    CHECK_THAT(message, Catch::Contains("lock cycle: " + greenlet(first) +
                                        " holds Lock A and waits for Lock B, held by " +
                                        greenlet(second) + ", which waits for Lock A"));
    cogent::killall(std::vector{first, second});
    CHECK_FALSE(a.locked());
    CHECK_FALSE(b.locked());
  });
}

TEST_CASE("a three-lock cycle is spelled out once, in the order of the wait graph",
          "[loopexit][lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock locks[3] = {cogent::Lock("L0"), cogent::Lock("L1"), cogent::Lock("L2")};
    std::vector<cogent::Greenlet<void>> gs;
    for (int i = 0; i < 3; ++i) {
      gs.push_back(cogent::spawn([&locks, i] {
        std::lock_guard mine(locks[i]);
        cogent::sleep(1ms);
        std::lock_guard next(locks[(i + 1) % 3]);
      }));
    }
    const std::string message = loop_exit_of(gs);
    const std::string cycle = "lock cycle: " + greenlet(gs[0]) +
                              " holds Lock L0 and waits for Lock L1, held by " + greenlet(gs[1]) +
                              ", which waits for Lock L2, held by " + greenlet(gs[2]) +
                              ", which waits for Lock L0";
    CHECK_THAT(message, Catch::Contains(cycle));
    CHECK(message.find("lock cycle") == message.rfind("lock cycle"));
    cogent::killall(gs);
  });
}

TEST_CASE("a greenlet acquiring a Lock it holds is a one-lock cycle", "[loopexit][lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock("self");
    auto g = cogent::spawn([&] {
      lock.acquire();
      lock.acquire();
    });
    const std::string message = loop_exit_of({g});
    CHECK_THAT(message, Catch::Contains("lock cycle: " + greenlet(g) +
                                        " holds Lock self and waits for Lock self"));
    g.kill();
    lock.release();
  });
}

TEST_CASE("a lock wait with no cycle names the holder without a cycle line", "[loopexit][lock]") {
  cogent::test::on_each_backend([] {
    cogent::Lock lock("held");
    cogent::Event never("never");
    auto holder = cogent::spawn([&] {
      std::lock_guard g(lock);
      never.wait();
    });
    auto waiter = cogent::spawn([&] { std::lock_guard g(lock); });
    const std::string message = loop_exit_of({holder, waiter});
    CHECK_THAT(message, Catch::Contains(greenlet(waiter) + " waits for Lock held, held by " +
                                        greenlet(holder)));
    CHECK_THAT(message, Catch::Contains(greenlet(holder) + " waits for Event never"));
    CHECK(message.find("lock cycle") == std::string::npos);
    cogent::killall(std::vector{holder, waiter});
  });
}

TEST_CASE("main waiting on an Event nobody sets gets LoopExit; a pending timer prevents it",
          "[loopexit][event]") {
  cogent::test::on_each_backend([] {
    cogent::Event ev("go");
    CHECK_THROWS_WITH(ev.wait(), Catch::Contains("main greenlet waits for Event go"));
    cogent::spawn_later(5ms, [&] { ev.set(); });
    ev.wait();
    CHECK(ev.is_set());
  });
}

TEST_CASE("no LoopExit while a queue's putter waits for a socket that will deliver",
          "[loopexit][queue]") {
  cogent::test::on_each_backend([] {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    cogent::Queue<char> q;
    auto reader = cogent::spawn([&] {
      char c = 0;
      cogent::wait_read(sv[0]);
      REQUIRE(read(sv[0], &c, 1) == 1);
      q.put(c);
    });
    auto writer = cogent::spawn_later(10ms, [&] { REQUIRE(write(sv[1], "z", 1) == 1); });
    CHECK(q.get() == 'z');
    cogent::joinall(std::vector{reader, writer});
    close(sv[0]);
    close(sv[1]);
  });
}

TEST_CASE("an AsyncResult waiter leaves on kill and on Timeout; the result still reaches others",
          "[asyncresult][kill][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::AsyncResult<int> r;
    auto killed = cogent::spawn([&] { return r.get(); });
    auto timed = cogent::spawn([&] {
      cogent::Timeout t(2ms);
      return r.get();
    });
    auto patient = cogent::spawn([&] { return r.get(); });
    cogent::sleep(1ms);
    killed.kill();
    CHECK_THROWS_AS(timed.get(), cogent::TimeoutError);
    r.set(5);
    CHECK(patient.get() == 5);
    CHECK_THROWS_AS(killed.get(), cogent::GreenletExit);
  });
}
