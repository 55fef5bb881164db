#include <algorithm>
#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <cogent/pool.hpp>
#include <functional>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {

std::vector<int> iota_items(int n) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// Counts how many run at once, and the most there ever were.
struct Concurrency {
  int running = 0;
  int most = 0;
  void enter() { most = std::max(most, ++running); }
  void leave() { --running; }
};

struct Unwound {
  std::vector<std::string>& log;
  std::string name;
  ~Unwound() { log.push_back(name + " unwound"); }
};

cogent::Task<int> doubled_after(int x, cogent::Event& go) {
  co_await go.async_wait();
  co_return x * 2;
}

int value_after(int v, std::chrono::milliseconds d) {
  cogent::sleep(d);
  return v;
}

cogent::Task<std::vector<std::string>> drive_pool(cogent::Pool& pool) {
  std::vector<std::string> log;
  auto a = co_await pool.async_spawn(value_after, 1, 30ms);
  auto b = co_await pool.async_spawn(value_after, 2, 5ms);
  log.push_back("a and b spawned, free " + std::to_string(pool.free_count()));
  auto c = co_await pool.async_spawn(value_after, 3, 1ms);  // waits until b frees its slot
  log.push_back(std::string("c spawned ") + (b.ready() ? "after b finished" : "too early"));
  const bool joined_early = co_await pool.async_join(1ms);
  log.push_back(std::string("join ") + (joined_early ? "returned early" : "timed out"));
  co_await pool.async_join();
  log.push_back("joined: " + std::to_string(a.get() + b.get() + c.get()));
  const std::vector<int> items = iota_items(4);
  auto squares = co_await pool.async_map([](int x) { return x * x; }, items);
  log.push_back("map: " + std::to_string(squares[1]) + " " + std::to_string(squares[2]) + " " +
                std::to_string(squares[3]));
  auto sleeper = co_await pool.async_spawn([] { cogent::sleep(10s); });
  co_await pool.async_kill();
  log.push_back(std::string("killed: ") + (sleeper.ready() && pool.empty() ? "yes" : "no"));
  co_return log;
}

static_assert(std::ranges::input_range<cogent::UnorderedResults<int>>);

}  // namespace

// --- Group: membership, join, kill

TEST_CASE("a Group member leaves the group when it dies, however it ends", "[pool][group]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    CHECK(group.empty());
    auto returns = group.spawn([] {
      cogent::sleep(5ms);
      return 1;
    });
    auto throws = group.spawn([] { throw std::runtime_error("b"); });
    auto killed = group.spawn([] { cogent::sleep(10s); });
    CHECK(group.size() == 3);
    CHECK(group.contains(returns));
    CHECK(group.contains(throws));
    CHECK(group.contains(killed));
    cogent::sleep(0s);  // all start; `throws` dies at once
    CHECK_FALSE(group.contains(throws));
    CHECK(group.size() == 2);
    killed.kill();
    CHECK_FALSE(group.contains(killed));
    returns.join();
    CHECK(group.empty());
    CHECK_FALSE(group.full());
  });
}

TEST_CASE("Group add tracks a greenlet spawned elsewhere and discard stops tracking it",
          "[pool][group]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    auto outside = cogent::spawn([] {
      cogent::sleep(5ms);
      return 2;
    });
    group.add(outside);
    group.add(outside);  // already a member: nothing changes
    CHECK(group.size() == 1);
    group.discard(outside);
    CHECK_FALSE(group.contains(outside));
    CHECK(group.join(0s));  // empty again
    group.add(outside);
    CHECK(group.contains(outside));
    outside.join();
    CHECK(group.empty());
    auto finished = cogent::spawn([] {});
    finished.join();
    group.add(finished);  // dead: not tracked
    CHECK(group.empty());
    CHECK_THROWS_AS(group.add(cogent::Greenlet<int>()), std::logic_error);
    group.discard(cogent::Greenlet<int>());  // harmless
  });
}

TEST_CASE("a Group spawns a function returning a Task, and a Task, as stackless members",
          "[pool][group][task]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    cogent::Event go;
    auto from_function = group.spawn(doubled_after, 21, std::ref(go));
    auto from_task = group.spawn(doubled_after(5, go));
    CHECK(group.size() == 2);
    go.set();
    CHECK(from_function.get() == 42);
    CHECK(from_task.get() == 10);
    CHECK(group.empty());
  });
}

TEST_CASE("join waits until the group is empty, members added while it waits included",
          "[pool][group]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    std::vector<std::string> log;
    group.spawn([&] {
      cogent::sleep(10ms);
      log.push_back("first ends");
    });
    auto adder = cogent::spawn([&] {
      cogent::sleep(2ms);
      group.spawn([&] {
        cogent::sleep(20ms);
        log.push_back("late member ends");
      });
    });
    group.join();
    CHECK(log == std::vector<std::string>{"first ends", "late member ends"});
    CHECK(group.empty());
    adder.join();
  });
}

TEST_CASE("join with a timeout is false while members run, then true once they finished",
          "[pool][group][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    group.spawn([] { cogent::sleep(30ms); });
    CHECK_FALSE(group.join(5ms));
    CHECK(group.size() == 1);
    CHECK_FALSE(group.join(0s));  // only looks
    CHECK(group.join(5s));
    CHECK(group.empty());
    CHECK(group.join(0s));
  });
}

TEST_CASE("join(raise_error) rethrows the oldest member's failure, never a kill", "[pool][group]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    auto killed = group.spawn([] { cogent::sleep(10s); });
    group.spawn([] {
      // Long enough to still be a member when join is called, however slow the build.
      cogent::sleep(200ms);
      throw std::runtime_error("older failure");
    });
    group.spawn([] { throw std::runtime_error("younger failure, first to happen"); });
    group.spawn([] { return 1; });
    cogent::sleep(0s);
    killed.kill();
    CHECK_THROWS_WITH(group.join(true), "older failure");
    CHECK(group.empty());

    auto killed_later = group.spawn([] { cogent::sleep(10s); });
    auto killer = cogent::spawn([&] { killed_later.kill(); });
    CHECK_NOTHROW(group.join(true));
    killer.join();
  });
}

TEST_CASE("join called from a member is refused: it would wait for itself", "[pool][group]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    auto member = group.spawn([&] { group.join(); });
    CHECK_THROWS_AS(member.get(), std::logic_error);
    CHECK(group.empty());
  });
}

TEST_CASE("kill kills every member, also one added meanwhile, and waits for them",
          "[pool][group][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    std::vector<std::string> log;
    for (int i = 0; i < 3; ++i) {
      group.spawn([&log, i] {
        Unwound guard{log, "member " + std::to_string(i)};
        cogent::sleep(10s);
      });
    }
    group.spawn([&] {
      try {
        cogent::sleep(10s);
      } catch (const cogent::GreenletExit&) {
        log.push_back("adds a member while dying");
        group.spawn([&] {
          Unwound guard{log, "late member"};
          cogent::sleep(10s);
        });
        throw;
      }
    });
    cogent::sleep(0s);
    bool never_started_ran = false;
    group.spawn([&] { never_started_ran = true; });
    group.kill();
    CHECK(group.empty());
    CHECK(log == std::vector<std::string>{"member 0 unwound", "member 1 unwound",
                                          "member 2 unwound", "adds a member while dying",
                                          "late member unwound"});
    CHECK_FALSE(never_started_ran);
    CHECK(group.join(0s));
  });
}

TEST_CASE("kill with a timeout reports a member outliving it, and kills each member once",
          "[pool][group][kill][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    auto stubborn = group.spawn([] {
      try {
        cogent::sleep(10s);
      } catch (const cogent::GreenletExit&) {
        cogent::sleep(30ms);  // its cleanup blocks
        return 2;
      }
      return 1;
    });
    cogent::sleep(0s);
    CHECK_FALSE(group.kill(5ms));
    CHECK(group.size() == 1);
    CHECK(group.kill(5s));  // not killed again: its cleanup runs to its end
    CHECK(stubborn.get() == 2);
  });
}

TEST_CASE("kill from a member kills the others, then the caller", "[pool][group][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    auto other = group.spawn([] { cogent::sleep(10s); });
    auto boss = group.spawn([&] {
      cogent::sleep(1ms);
      group.kill();
      return other.ready() ? 1 : 0;
    });
    CHECK_THROWS_AS(boss.get(), cogent::GreenletExit);
    CHECK(other.ready());
    CHECK(group.empty());
  });
}

// --- Pool: slots

TEST_CASE("a Pool of size 0 is rejected", "[pool]") {
  CHECK_THROWS_AS(cogent::Pool(0), std::invalid_argument);
  cogent::Pool one(1);
  CHECK(one.capacity() == 1);
  CHECK(one.free_count() == 1);
}

TEST_CASE("Pool spawn waits while full; freed slots go to the waiting spawners in arrival order",
          "[pool]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    cogent::Event go;
    std::vector<std::string> log;
    auto a = pool.spawn([&] {
      log.push_back("a runs");
      go.wait();
      log.push_back("a ends");
    });
    CHECK(pool.full());
    auto s1 = cogent::spawn([&] {
      log.push_back("s1 waits");
      auto c = pool.spawn([&] { log.push_back("c runs"); });
      log.push_back("s1 got a slot");
      c.join();
    });
    auto s2 = cogent::spawn([&] {
      log.push_back("s2 waits");
      auto d = pool.spawn([&] { log.push_back("d runs"); });
      log.push_back("s2 got a slot");
      d.join();
    });
    cogent::sleep(0s);
    CHECK(log == std::vector<std::string>{"a runs", "s1 waits", "s2 waits"});
    CHECK(pool.free_count() == 0);
    CHECK(pool.size() == 1);
    CHECK_FALSE(pool.add(cogent::spawn([] {}), 0s));  // a newcomer cannot overtake them
    go.set();
    cogent::joinall(std::vector{s1, s2});
    CHECK(log == std::vector<std::string>{"a runs", "s1 waits", "s2 waits", "a ends",
                                          "s1 got a slot", "c runs", "s2 got a slot", "d runs"});
    CHECK(pool.free_count() == 1);
    CHECK(pool.empty());
  });
}

TEST_CASE("free_count counts slots freed by returns, failures, kills and kills before start",
          "[pool]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(4);
    cogent::Event go;
    auto returns = pool.spawn([&] {
      go.wait();
      return 1;
    });
    auto fails = pool.spawn([&] {
      go.wait();
      throw std::runtime_error("failed");
    });
    auto killed = pool.spawn([&] { go.wait(); });
    auto never_started = pool.spawn([] {});
    CHECK(pool.free_count() == 0);
    CHECK(pool.full());
    never_started.kill();
    CHECK(pool.free_count() == 1);
    cogent::sleep(0s);
    killed.kill();
    CHECK(pool.free_count() == 2);
    killed.kill();  // dead already: frees nothing more
    pool.discard(killed);
    CHECK(pool.free_count() == 2);
    go.set();
    cogent::joinall(std::vector{returns});
    fails.join();
    CHECK(pool.free_count() == 4);
    CHECK_FALSE(pool.full());
    CHECK(pool.empty());
    CHECK_THROWS_WITH(fails.get(), "failed");
  });
}

TEST_CASE("kill of a greenlet waiting in Pool::spawn frees nothing and takes nothing",
          "[pool][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    cogent::Event go;
    auto holder = pool.spawn([&] { go.wait(); });
    bool killed_spawner_ran_its_member = false;
    auto killed = cogent::spawn([&] { pool.spawn([&] { killed_spawner_ran_its_member = true; }); });
    auto next = cogent::spawn([&] { return pool.spawn([] { return 7; }).get(); });
    cogent::sleep(0s);  // both wait in line, `killed` first
    killed.kill();
    CHECK_THROWS_AS(killed.get(), cogent::GreenletExit);
    CHECK(pool.free_count() == 0);
    CHECK(pool.size() == 1);
    go.set();
    CHECK(next.get() == 7);  // the slot `holder` freed went to the next in line
    CHECK_FALSE(killed_spawner_ran_its_member);
    CHECK(pool.free_count() == 1);
    CHECK(pool.empty());
  });
}

TEST_CASE("a spawner given a slot just before its kill keeps the member it spawns",
          "[pool][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    cogent::Event go;
    auto holder = pool.spawn([&] { go.wait(); });
    std::vector<std::string> log;
    cogent::Greenlet<void> member;
    auto spawner = cogent::spawn([&] {
      member = pool.spawn([&] {
        log.push_back("member runs");
        go.wait();
      });
      log.push_back("spawner has its member");
      cogent::sleep(10s);  // the kill lands here
      log.push_back("not reached");
    });
    cogent::sleep(0s);     // the spawner waits for the slot
    pool.discard(holder);  // its slot goes to the spawner at once
    spawner.kill();
    CHECK_THROWS_AS(spawner.get(), cogent::GreenletExit);
    REQUIRE(member);
    CHECK(pool.contains(member));
    CHECK(pool.free_count() == 0);
    go.set();
    member.join();
    holder.join();
    CHECK(log == std::vector<std::string>{"spawner has its member", "member runs"});
    CHECK(pool.free_count() == 1);  // `holder` was discarded: its death frees nothing
  });
}

TEST_CASE("a Timeout around a waiting Pool::spawn raises TimeoutError and takes nothing",
          "[pool][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    cogent::Event go;
    auto holder = pool.spawn([&] { go.wait(); });
    bool ran = false;
    CHECK_THROWS_AS(cogent::with_timeout(10ms, [&] { pool.spawn([&] { ran = true; }); }),
                    cogent::TimeoutError);
    CHECK(pool.size() == 1);
    CHECK(pool.free_count() == 0);
    go.set();
    pool.join();
    CHECK_FALSE(ran);
    CHECK(pool.free_count() == 1);
  });
}

TEST_CASE("Pool add with a timeout gives up while full; a blocking add tracks once a slot frees",
          "[pool][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    cogent::Event go;
    auto holder = pool.spawn([&] { go.wait(); });
    auto outsider = cogent::spawn([&] { go.wait(); });
    CHECK_FALSE(pool.add(outsider, 0s));
    CHECK_FALSE(pool.add(outsider, 5ms));
    CHECK_FALSE(pool.contains(outsider));
    auto adder = cogent::spawn([&] { pool.add(outsider); });
    cogent::sleep(0s);
    pool.discard(holder);
    adder.join();
    CHECK(pool.contains(outsider));
    CHECK(pool.free_count() == 0);
    go.set();
    pool.join();
    holder.join();
    CHECK(pool.free_count() == 1);
  });
}

TEST_CASE("wait_available waits in line for a free slot and leaves it free", "[pool]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    cogent::Event go;
    pool.spawn([&] { go.wait(); });
    CHECK_FALSE(pool.wait_available(5ms));
    auto waiter = cogent::spawn([&] {
      pool.wait_available();
      return pool.free_count();
    });
    cogent::sleep(0s);
    go.set();
    CHECK(waiter.get() == 1);
    CHECK(pool.empty());
    cogent::Group group;
    CHECK(group.wait_available(0s));  // a group is never full
  });
}

TEST_CASE("a greenlet waiting for a slot of a named Pool is named by LoopExit",
          "[pool][loopexit]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1, "workers");
    cogent::Event never;
    auto holder = pool.spawn([&] { never.wait(); });
    std::string message;
    try {
      pool.spawn([] {});
    } catch (const cogent::LoopExit& e) {
      message = e.what();
    }
    CHECK_THAT(message, Catch::Contains("main greenlet waits for a slot of Pool workers"));
    CHECK_THAT(message, Catch::Contains("greenlet " + std::to_string(holder.id()) + " waits for"));
    CHECK(pool.size() == 1);
    message.clear();
    try {
      pool.join();
    } catch (const cogent::LoopExit& e) {
      message = e.what();
    }
    CHECK_THAT(message, Catch::Contains("main greenlet waits for all members of Pool workers"));
    holder.kill();
    CHECK(pool.free_count() == 1);
  });
}

TEST_CASE("a task spawned in a Pool holds its slot until it finishes", "[pool][task]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    cogent::Event go;
    auto first = pool.spawn(doubled_after(21, go));
    CHECK(pool.free_count() == 0);
    auto opener = cogent::spawn([&] { go.set(); });
    auto second = pool.spawn(doubled_after, 5, std::ref(go));  // waits for `first` to finish
    CHECK(first.ready());
    CHECK(first.get() == 42);
    CHECK(second.get() == 10);
    CHECK(pool.free_count() == 1);
    opener.join();
  });
}

// --- apply, map, imap_unordered

TEST_CASE("apply returns the result or rethrows; from a member it runs in place", "[pool][apply]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    CHECK(pool.apply([](int a, int b) { return a + b; }, 2, 3) == 5);
    CHECK_THROWS_WITH(pool.apply([]() -> int { throw std::runtime_error("no"); }), "no");
    cogent::Event go;
    go.set();
    CHECK(pool.apply(doubled_after, 4, std::ref(go)) == 8);
    // A pool of one, full with the caller: a new member would wait for the caller forever.
    auto member =
        pool.spawn([&] { return pool.apply([&] { return static_cast<int>(pool.size()) * 100; }); });
    CHECK(member.get() == 100);
    CHECK(pool.empty());
  });
}

TEST_CASE("apply_async never waits and calls the callback with the result in the hub",
          "[pool][apply]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(1);
    cogent::Event go;
    std::vector<int> got;
    auto a = pool.apply_async(
        [&] {
          go.wait();
          return 1;
        },
        [&](int v) { got.push_back(v); });
    CHECK(pool.contains(a));
    // Full: returns at once; a helper outside the pool waits for the slot.
    auto b = pool.apply_async([](int x) { return x * 10; }, 2, [&](int v) { got.push_back(v); });
    CHECK_FALSE(pool.contains(b));
    auto c = pool.apply_async([]() -> int { throw std::runtime_error("c failed"); },
                              [&](int) { got.push_back(-1); });
    bool void_ran = false;
    auto d = pool.apply_async([&] { void_ran = true; }, nullptr);
    CHECK(got.empty());
    go.set();
    CHECK(b.get() == 20);
    CHECK_THROWS_WITH(c.get(), "c failed");
    d.join();
    CHECK(void_ran);
    cogent::sleep(1ms);  // link callbacks run in the hub after the deaths
    CHECK(got == std::vector<int>{1, 20});
    CHECK(pool.free_count() == 1);
  });
}

TEST_CASE("map over 1,000 items returns results in input order, at most n running at once",
          "[pool][map]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(10);
    Concurrency now;
    const std::vector<int> items = iota_items(1000);
    std::vector<long> results = pool.map(
        [&](int x) {
          now.enter();
          cogent::sleep(std::chrono::microseconds((x * 7) % 13 * 100));
          now.leave();
          return static_cast<long>(x) * x;
        },
        items);
    REQUIRE(results.size() == 1000);
    bool in_order = true;
    for (int i = 0; i < 1000; ++i) in_order = in_order && results[i] == static_cast<long>(i) * i;
    CHECK(in_order);
    CHECK(now.most == 10);
    CHECK(now.running == 0);
    CHECK(pool.empty());
    CHECK(pool.free_count() == 10);
  });
}

TEST_CASE("a Group map runs every item at once; map of a void function returns nothing",
          "[pool][group][map]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    Concurrency now;
    int done = 0;
    group.map(
        [&](int) {
          now.enter();
          cogent::sleep(1ms);
          now.leave();
          ++done;
        },
        iota_items(50));  // an rvalue range: the map owns it
    CHECK(done == 50);
    CHECK(now.most == 50);
    CHECK(group.empty());
  });
}

TEST_CASE("map rethrows the first failure after killing the unfinished items; none is left",
          "[pool][map]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(3);
    std::vector<int> started, finished;
    auto f = [&](int x) {
      started.push_back(x);
      cogent::sleep(x == 4 ? 1ms : 20ms);
      if (x == 4) throw std::runtime_error("item 4 failed");
      finished.push_back(x);
      return x;
    };
    CHECK_THROWS_WITH(pool.map(f, iota_items(20)), "item 4 failed");
    // 0, 1, 2 ran first; 3, 4, 5 took their slots; 4 failed: 3 and 5 were killed, 6 never ran.
    CHECK(started == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(finished == std::vector<int>{0, 1, 2});
    CHECK(pool.empty());
    CHECK(pool.free_count() == 3);
    CHECK(cogent::Hub::current().live_greenlets() == 0);
  });
}

TEST_CASE("map in a greenlet that is killed kills its items and waits for them", "[pool][map]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(2);
    std::vector<std::string> log;
    auto mapper = cogent::spawn([&] {
      return pool.map(
          [&](int x) {
            Unwound guard{log, "item " + std::to_string(x)};
            cogent::sleep(10s);
            return x;
          },
          iota_items(5));
    });
    cogent::sleep(1ms);
    mapper.kill();
    CHECK_THROWS_AS(mapper.get(), cogent::GreenletExit);
    std::sort(log.begin(), log.end());
    CHECK(log == std::vector<std::string>{"item 0 unwound", "item 1 unwound"});
    CHECK(pool.empty());
    CHECK(cogent::Hub::current().live_greenlets() == 0);
  });
}

TEST_CASE("imap_unordered yields every result once, in completion order", "[pool][imap]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    const std::vector<int> delays_ms{60, 15, 45, 30, 1};
    std::vector<int> seen;
    for (int& index : group.imap_unordered(
             [&](int i) {
               cogent::sleep(std::chrono::milliseconds(delays_ms[i]));
               return i;
             },
             iota_items(5))) {
      seen.push_back(index);
    }
    CHECK(seen == std::vector<int>{4, 1, 3, 2, 0});
    CHECK(group.empty());
  });
}

TEST_CASE("imap_unordered in a Pool keeps at most n running and yields each result once",
          "[pool][imap]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(3);
    Concurrency now;
    const std::vector<int> items = iota_items(30);
    std::vector<int> seen;
    for (int v : pool.imap_unordered(
             [&](int x) {
               now.enter();
               cogent::sleep(std::chrono::milliseconds(x % 4));
               now.leave();
               return x;
             },
             items)) {
      seen.push_back(v);
    }
    std::sort(seen.begin(), seen.end());
    CHECK(seen == items);
    CHECK(now.most == 3);
    CHECK(pool.free_count() == 3);
  });
}

TEST_CASE("imap_unordered rethrows an item's exception when reached; iteration may go on",
          "[pool][imap]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    auto results = group.imap_unordered(
        [](int x) {
          cogent::sleep(std::chrono::milliseconds(1 + 20 * x));
          if (x == 1) throw std::runtime_error("item 1 failed");
          return x;
        },
        iota_items(3));
    auto it = results.begin();
    CHECK(*it == 0);
    CHECK_THROWS_WITH(++it, "item 1 failed");
    ++it;
    REQUIRE(it != results.end());
    CHECK(*it == 2);
    ++it;
    CHECK(it == results.end());
  });
}

TEST_CASE("leaving an imap_unordered loop early kills the unfinished items", "[pool][imap]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(2);
    std::vector<int> finished;
    int first = -1;
    for (int v : pool.imap_unordered(
             [&](int ms) {
               cogent::sleep(std::chrono::milliseconds(ms));
               finished.push_back(ms);
               return ms;
             },
             std::vector{1, 5000, 6000, 7000})) {
      first = v;
      break;
    }
    CHECK(first == 1);
    pool.join();  // the killed items leave as they die
    CHECK(finished == std::vector<int>{1});
    CHECK(pool.free_count() == 2);
    CHECK(cogent::Hub::current().live_greenlets() == 0);
  });
}

TEST_CASE("a Pool may go away right after an imap_unordered loop is left", "[pool][imap]") {
  cogent::test::on_each_backend([] {
    std::vector<int> finished;
    {
      const std::vector<int> items{1, 2, 3};
      cogent::Pool pool(1);
      // Item 0's death wakes this loop and hands its slot to the feeder in the same turn: the
      // feeder resumes after the pool and the items are gone, and must touch neither.
      for (int v : pool.imap_unordered(
               [&](int ms) {
                 cogent::sleep(std::chrono::milliseconds(ms));
                 finished.push_back(ms);
                 return ms;
               },
               items)) {
        CHECK(v == 1);
        break;
      }
    }
    cogent::sleep(5ms);
    CHECK(finished == std::vector<int>{1});
    CHECK(cogent::Hub::current().live_greenlets() == 0);
  });
}

TEST_CASE("an apply_async helper waiting for a slot finishes after its pool is gone",
          "[pool][apply]") {
  cogent::test::on_each_backend([] {
    cogent::Event go;
    cogent::Greenlet<int> helper;
    {
      cogent::Pool pool(1);
      pool.spawn([&] { go.wait(); });
      helper = pool.apply_async([] { return 5; }, nullptr);
    }
    go.set();
    CHECK(helper.get() == 5);
  });
}

// --- tasks

TEST_CASE("tasks use async_spawn, async_join, async_map and async_kill", "[pool][task]") {
  cogent::test::on_each_backend([] {
    cogent::Pool pool(2);
    auto log = cogent::spawn(drive_pool(pool)).get();
    CHECK(log == std::vector<std::string>{"a and b spawned, free 0", "c spawned after b finished",
                                          "join timed out", "joined: 6", "map: 1 4 9",
                                          "killed: yes"});
    CHECK(pool.free_count() == 2);
  });
}

TEST_CASE("blocking map from a task is refused with the async_ form to use", "[pool][task]") {
  cogent::test::on_each_backend([] {
    cogent::Group group;
    auto task = [](cogent::Group& g) -> cogent::Task<int> {
      g.map([](int x) { return x; }, std::vector{1});
      co_return 0;
    };
    CHECK_THROWS_AS(cogent::spawn(task(group)).get(), std::logic_error);
    CHECK(group.empty());
  });
}
