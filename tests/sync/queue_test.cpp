#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <cogent/queue.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {

// Spawns greenlets 1..n that park in get() in spawn order; each logs {its number, the item}.
template <class Q>
std::vector<cogent::Greenlet<void>> park_getters(Q& q, int n,
                                                 std::vector<std::pair<int, int>>& got) {
  std::vector<cogent::Greenlet<void>> gs;
  for (int i = 1; i <= n; ++i) {
    gs.push_back(cogent::spawn([&q, &got, i] { got.emplace_back(i, q.get()); }));
    cogent::sleep(0s);  // it starts and parks before the next one is spawned
  }
  return gs;
}

// Spawns greenlets that park in put() in spawn order, putting `items` one each.
template <class Q>
std::vector<cogent::Greenlet<void>> park_putters(Q& q, const std::vector<int>& items) {
  std::vector<cogent::Greenlet<void>> gs;
  for (int item : items) {
    gs.push_back(cogent::spawn([&q, item] { q.put(item); }));
    cogent::sleep(0s);
  }
  return gs;
}

template <class Q>
std::vector<int> drain(Q& q) {
  std::vector<int> out;
  while (!q.empty()) out.push_back(q.get_nowait());
  return out;
}

std::string address_of(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

using Pairs = std::vector<std::pair<int, int>>;

}  // namespace

// ---- order and size ----

TEST_CASE("Queue returns items first in, first out and reports its size", "[queue]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    CHECK(q.empty());
    CHECK(q.maxsize() == 0);
    for (int i = 1; i <= 4; ++i) q.put(i);
    CHECK(q.qsize() == 4);
    CHECK_FALSE(q.empty());
    CHECK_FALSE(q.full());  // an unbounded queue is never full
    CHECK(drain(q) == std::vector<int>{1, 2, 3, 4});
  });
}

TEST_CASE("a Queue of maxsize 0 is unbounded as in gevent, and a bound makes it full", "[queue]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> unbounded(0, "zero");
    for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
    CHECK(unbounded.qsize() == 1000);
    CHECK_FALSE(unbounded.full());
    CHECK(unbounded.maxsize() == 0);

    cogent::Queue<int> bounded(2);
    CHECK(bounded.maxsize() == 2);
    bounded.put(1);
    CHECK_FALSE(bounded.full());
    bounded.put(2);
    CHECK(bounded.full());
  });
}

TEST_CASE("LifoQueue returns the newest item first", "[queue][lifo]") {
  cogent::test::on_each_backend([] {
    cogent::LifoQueue<int> q;
    for (int i = 1; i <= 4; ++i) q.put(i);
    CHECK(q.peek_nowait() == 4);
    CHECK(drain(q) == std::vector<int>{4, 3, 2, 1});
  });
}

TEST_CASE("PriorityQueue returns the smallest item first, under any comparator",
          "[queue][priority]") {
  cogent::test::on_each_backend([] {
    cogent::PriorityQueue<int> q;
    for (int v : {5, 1, 4, 1, 3, 9, 2}) q.put(v);
    CHECK(q.peek_nowait() == 1);
    CHECK(drain(q) == std::vector<int>{1, 1, 2, 3, 4, 5, 9});

    cogent::PriorityQueue<int, std::greater<int>> largest_first(0, "max");
    for (int v : {5, 1, 4, 3}) largest_first.put(v);
    CHECK(drain(largest_first) == std::vector<int>{5, 4, 3, 1});

    cogent::PriorityQueue<std::pair<int, std::string>> jobs;
    jobs.put({2, "write"});
    jobs.put({1, "read"});
    jobs.put({3, "close"});
    CHECK(jobs.get().second == "read");
    CHECK(jobs.get().second == "write");
    CHECK(jobs.get().second == "close");
  });
}

// ---- waiting and handing over ----

TEST_CASE("a blocking get is woken by a later put, which hands the item straight over", "[queue]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    auto getter = cogent::spawn([&] { return q.get(); });
    cogent::sleep(1ms);
    CHECK(q.getting() == 1);
    q.put(7);
    CHECK(q.getting() == 0);
    CHECK(q.qsize() == 0);  // it went to the getter, not into the queue
    CHECK(getter.get() == 7);
  });
}

TEST_CASE("a blocking put on a full queue waits until a get frees a slot", "[queue]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(1);
    q.put(1);
    bool returned = false;
    auto putter = cogent::spawn([&] {
      q.put(2);
      returned = true;
    });
    cogent::sleep(1ms);
    CHECK(q.putting() == 1);
    CHECK_FALSE(returned);
    CHECK(q.get() == 1);
    CHECK(q.qsize() == 1);  // the putter's item took the freed slot at once
    CHECK(q.putting() == 0);
    putter.join();
    CHECK(returned);
    CHECK(q.get_nowait() == 2);
  });
}

TEST_CASE("a get from a full LifoQueue or PriorityQueue admits the putter, which keeps the order",
          "[queue][lifo][priority]") {
  cogent::test::on_each_backend([] {
    cogent::LifoQueue<int> lifo(2);
    lifo.put(1);
    lifo.put(2);
    auto p1 = park_putters(lifo, {3});
    CHECK(lifo.get() == 2);
    CHECK(lifo.qsize() == 2);
    CHECK(drain(lifo) == std::vector<int>{3, 1});

    cogent::PriorityQueue<int> prio(2);
    prio.put(5);
    prio.put(8);
    auto p2 = park_putters(prio, {1});
    CHECK(prio.get() == 5);
    CHECK(drain(prio) == std::vector<int>{1, 8});
    cogent::joinall(p1);
    cogent::joinall(p2);
  });
}

TEST_CASE("get with a timeout raises Empty after roughly the timeout and leaves the list",
          "[queue][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    const auto t0 = cogent::Clock::now();
    CHECK_THROWS_AS(q.get(15ms), cogent::Empty);
    const auto waited = cogent::Clock::now() - t0;
    CHECK(waited >= 10ms);
    CHECK(waited < 5s);
    CHECK(q.getting() == 0);
    CHECK_THROWS_AS(q.peek(5ms), cogent::Empty);
    q.put(3);
    CHECK(q.get(1s) == 3);
  });
}

TEST_CASE("put with a timeout on a full queue raises Full and changes nothing queued",
          "[queue][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(2, "jobs");
    q.put(1);
    q.put(2);
    const auto t0 = cogent::Clock::now();
    CHECK_THROWS_WITH(q.put(3, 15ms), "cogent: Queue jobs put (full)");
    CHECK(cogent::Clock::now() - t0 >= 10ms);
    CHECK(q.putting() == 0);
    CHECK(q.qsize() == 2);
    CHECK(drain(q) == std::vector<int>{1, 2});
    q.put(4, 1s);  // room now: no wait
    CHECK(q.get_nowait() == 4);
  });
}

TEST_CASE("the nowait forms and zero timeouts only try, raising Full or Empty at once", "[queue]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(1, "jobs");
    CHECK_THROWS_WITH(q.get_nowait(), "cogent: Queue jobs get (empty)");
    CHECK_THROWS_WITH(q.peek_nowait(), "cogent: Queue jobs peek (empty)");
    CHECK_THROWS_AS(q.get(0s), cogent::Empty);
    CHECK_THROWS_AS(q.get(-5ms), cogent::Empty);
    q.put_nowait(1);
    CHECK_THROWS_AS(q.put_nowait(2), cogent::Full);
    CHECK_THROWS_AS(q.put(2, 0s), cogent::Full);
    CHECK(q.peek(0s) == 1);
    CHECK(q.get(0s) == 1);
    q.put(5, 0s);
    CHECK(q.get_nowait() == 5);
    CHECK(q.getting() == 0);
    CHECK(q.putting() == 0);
  });
}

TEST_CASE("put_nowait hands its item to a parked getter even on a queue of maxsize 1", "[queue]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(1);
    Pairs got;
    auto gs = park_getters(q, 2, got);
    q.put_nowait(10);  // to getter 1
    q.put_nowait(20);  // to getter 2
    CHECK(q.qsize() == 0);
    q.put_nowait(30);  // stored
    CHECK_THROWS_AS(q.put_nowait(40), cogent::Full);
    cogent::joinall(gs);
    CHECK(got == Pairs{{1, 10}, {2, 20}});
    CHECK(q.get_nowait() == 30);
  });
}

TEST_CASE("newcomers cannot overtake parked waiters with nowait calls", "[queue]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(1);
    Pairs got;
    auto getters = park_getters(q, 1, got);
    q.put(5);
    CHECK_THROWS_AS(q.get_nowait(), cogent::Empty);  // 5 belongs to the parked getter
    cogent::joinall(getters);
    CHECK(got == Pairs{{1, 5}});

    q.put(1);
    auto putters = park_putters(q, {2, 3});
    CHECK(q.get_nowait() == 1);                      // admits 2
    CHECK_THROWS_AS(q.put_nowait(9), cogent::Full);  // 3 waits before it
    CHECK(q.get_nowait() == 2);                      // admits 3
    CHECK(q.get_nowait() == 3);
    cogent::joinall(putters);
    q.put_nowait(9);
    CHECK(q.get_nowait() == 9);
  });
}

TEST_CASE("peek copies the next item and leaves it, and parked peekers see a put before the getter",
          "[queue][peek]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<std::string> q;
    std::vector<std::string> log;
    auto peeker = cogent::spawn([&] { log.push_back("peek " + q.peek()); });
    cogent::sleep(0s);
    auto getter = cogent::spawn([&] { log.push_back("get " + q.get()); });
    cogent::sleep(0s);
    auto late_peeker = cogent::spawn([&] { log.push_back("late peek " + q.peek()); });
    cogent::sleep(0s);
    CHECK(q.getting() == 3);
    q.put("a");
    cogent::joinall(std::vector{peeker, getter});
    CHECK(log == std::vector<std::string>{"peek a", "get a"});
    CHECK(q.getting() == 1);  // the late peeker waits behind the getter that took "a"
    q.put("b");
    late_peeker.join();
    CHECK(log.back() == "late peek b");
    CHECK(q.qsize() == 1);
    CHECK(q.peek() == "b");
    CHECK(q.get() == "b");
  });
}

// ---- Timeout and kill ----

TEST_CASE("a Timeout around a blocked get raises TimeoutError and the waiter leaves the list",
          "[queue][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    auto timed = cogent::spawn([&] {
      cogent::Timeout t(5ms);
      return q.get();
    });
    cogent::sleep(0s);
    auto patient = cogent::spawn([&] { return q.get(); });
    cogent::sleep(0s);
    CHECK(q.getting() == 2);
    CHECK_THROWS_AS(timed.get(), cogent::TimeoutError);
    CHECK(q.getting() == 1);
    q.put(1);
    CHECK(patient.get() == 1);
    CHECK(q.qsize() == 0);
  });
}

TEST_CASE("a Timeout around a blocked put raises TimeoutError and its item is not queued",
          "[queue][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(1);
    q.put(1);
    auto timed = cogent::spawn([&] {
      cogent::Timeout t(5ms);
      q.put(2);
    });
    auto putters = park_putters(q, {3});
    CHECK_THROWS_AS(timed.get(), cogent::TimeoutError);
    CHECK(q.putting() == 1);
    CHECK(q.get() == 1);
    cogent::joinall(putters);
    CHECK(drain(q) == std::vector<int>{3});
  });
}

TEST_CASE("killing a greenlet blocked in get removes it and the next put goes to the next getter",
          "[queue][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    Pairs got;
    auto gs = park_getters(q, 3, got);
    gs[1].kill();
    CHECK(q.getting() == 2);
    q.put(1);
    q.put(2);
    cogent::joinall(gs);
    CHECK(got == Pairs{{1, 1}, {3, 2}});
    CHECK(q.qsize() == 0);
    CHECK_THROWS_AS(gs[1].get(), cogent::GreenletExit);
  });
}

TEST_CASE("killing a greenlet blocked in put drops only its own item", "[queue][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(1);
    q.put(0);
    auto gs = park_putters(q, {1, 2, 3});
    gs[1].kill();
    CHECK(q.putting() == 2);
    std::vector<int> got;
    for (int i = 0; i < 3; ++i) got.push_back(q.get());
    CHECK(got == std::vector<int>{0, 1, 3});
    cogent::joinall(gs);
    CHECK(q.empty());
    CHECK(q.putting() == 0);
  });
}

TEST_CASE("a getter handed an item and killed before it runs still returns it so nothing is lost",
          "[queue][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    std::vector<int> received;
    auto g = cogent::spawn([&] {
      received.push_back(q.get());
      cogent::sleep(1s);  // the kill is raised here
      received.push_back(-1);
    });
    cogent::sleep(0s);
    q.put(42);  // handed to g, which has not run yet
    g.kill();
    CHECK(received == std::vector<int>{42});
    CHECK(q.qsize() == 0);
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
  });
}

TEST_CASE("a putter admitted and killed before it runs has still put its item", "[queue][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(1);
    q.put(1);
    int puts_returned = 0;
    auto g = cogent::spawn([&] {
      q.put(2);
      ++puts_returned;
      cogent::sleep(1s);
    });
    cogent::sleep(0s);
    CHECK(q.get() == 1);  // admits 2 for g, which has not run yet
    g.kill();
    CHECK(puts_returned == 1);
    CHECK(drain(q) == std::vector<int>{2});
  });
}

// ---- fairness ----

TEST_CASE("five getters parked in order receive items 1 to 5 in that order", "[queue][fair]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    Pairs got;
    auto gs = park_getters(q, 5, got);
    for (int i = 1; i <= 5; ++i) q.put(i);
    cogent::joinall(gs);
    CHECK(got == Pairs{{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}});
  });
}

TEST_CASE("putters parked on a full queue are admitted in arrival order", "[queue][fair]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(2);
    q.put(1);
    q.put(2);
    auto gs = park_putters(q, {3, 4, 5, 6});
    CHECK(q.putting() == 4);
    std::vector<int> got;
    for (int i = 0; i < 6; ++i) got.push_back(q.get());
    CHECK(got == std::vector<int>{1, 2, 3, 4, 5, 6});
    cogent::joinall(gs);
  });
}

// ---- payloads, tasks ----

TEST_CASE("move-only payloads pass through every kind of queue", "[queue][moveonly]") {
  cogent::test::on_each_backend([] {
    using Box = std::unique_ptr<int>;
    cogent::Queue<Box> fifo(1);
    fifo.put(std::make_unique<int>(1));
    auto putter = cogent::spawn([&] { fifo.put(std::make_unique<int>(2)); });  // parks: full
    cogent::sleep(0s);
    CHECK(*fifo.get() == 1);
    CHECK(*fifo.get() == 2);
    auto getter = cogent::spawn([&] { return *fifo.get(); });
    cogent::sleep(0s);
    fifo.put_nowait(std::make_unique<int>(3));  // straight to the parked getter
    CHECK(getter.get() == 3);
    putter.join();

    cogent::LifoQueue<Box> lifo;
    lifo.put(std::make_unique<int>(1));
    lifo.put(std::make_unique<int>(2));
    CHECK(*lifo.get() == 2);

    struct ByValue {
      bool operator()(const Box& a, const Box& b) const { return *a < *b; }
    };
    cogent::PriorityQueue<Box, ByValue> prio;
    for (int v : {3, 1, 2}) prio.put(std::make_unique<int>(v));
    CHECK(*prio.get() == 1);
    CHECK(*prio.get() == 2);
    CHECK(*prio.get() == 3);

    cogent::Channel<Box> ch;
    auto sender = cogent::spawn([&] { ch.put(std::make_unique<int>(9)); });
    CHECK(*ch.get() == 9);
    sender.join();
  });
}

TEST_CASE("tasks put and get with async_put and async_get, timed and untimed", "[queue][task]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q(1);
    auto producer = [](cogent::Queue<int>& q) -> cogent::Task<int> {
      for (int i = 1; i <= 3; ++i) co_await q.async_put(i);
      int full_errors = 0;
      try {
        co_await q.async_put(99, 2ms);
      } catch (const cogent::Full&) {
        ++full_errors;
      }
      co_return full_errors;
    };
    auto consumer = [](cogent::Queue<int>& q) -> cogent::Task<std::vector<int>> {
      std::vector<int> got;
      for (int i = 0; i < 3; ++i) got.push_back(co_await q.async_get());
      co_await q.async_put(4);  // fills the queue: the producer's timed put times out
      co_await cogent::async_sleep(10ms);
      got.push_back(co_await q.async_get(1s));
      try {
        got.push_back(co_await q.async_get(2ms));
      } catch (const cogent::Empty&) {
        got.push_back(-1);
      }
      co_return got;
    };
    auto c = cogent::spawn(consumer(q));
    auto p = cogent::spawn(producer(q));
    CHECK(c.get() == std::vector<int>{1, 2, 3, 4, -1});
    CHECK(p.get() == 1);
    CHECK(q.empty());
  });
}

TEST_CASE("tasks and greenlets wait on one queue in arrival order", "[queue][task][fair]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    std::vector<std::string> log;
    auto task_getter = [](cogent::Queue<int>& q, std::vector<std::string>& log,
                          std::string name) -> cogent::Task<void> {
      const int v = co_await q.async_get();
      log.push_back(name + " " + std::to_string(v));
    };
    auto t1 = cogent::spawn(task_getter(q, log, "task1"));
    cogent::sleep(0s);
    auto g = cogent::spawn([&] { log.push_back("greenlet " + std::to_string(q.get())); });
    cogent::sleep(0s);
    auto t2 = cogent::spawn(task_getter(q, log, "task2"));
    cogent::sleep(0s);
    CHECK(q.getting() == 3);
    auto feeder = [](cogent::Queue<int>& q) -> cogent::Task<void> {
      for (int i = 1; i <= 3; ++i) co_await q.async_put(i);
    };
    cogent::spawn(feeder(q)).join();
    cogent::joinall(std::vector<cogent::Greenlet<void>>{t1, g, t2});
    CHECK(log == std::vector<std::string>{"task1 1", "greenlet 2", "task2 3"});
  });
}

TEST_CASE("a task peeks with async_peek and a killed task leaves the wait list",
          "[queue][task][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> q;
    auto peek = [](cogent::Queue<int>& q) -> cogent::Task<int> {
      co_return co_await q.async_peek();
    };
    auto get = [](cogent::Queue<int>& q) -> cogent::Task<int> { co_return co_await q.async_get(); };
    auto doomed = cogent::spawn(get(q));
    auto peeker = cogent::spawn(peek(q));
    cogent::sleep(0s);
    CHECK(q.getting() == 2);
    doomed.kill();
    CHECK(q.getting() == 1);
    q.put(5);
    CHECK(peeker.get() == 5);
    CHECK(q.qsize() == 1);
    CHECK_THROWS_AS(doomed.get(), cogent::GreenletExit);
  });
}

// ---- Channel ----

TEST_CASE("Channel put returns only after a getter took the item and ran", "[channel]") {
  cogent::test::on_each_backend([] {
    cogent::Channel<int> ch;
    std::vector<std::string> log;

    // The getter waits first.
    auto getter = cogent::spawn([&] { log.push_back("got " + std::to_string(ch.get())); });
    cogent::sleep(0s);
    CHECK(ch.balance() == -1);
    log.push_back("put 1");
    ch.put(1);
    log.push_back("put 1 returned");
    getter.join();

    // The putter waits first.
    auto putter = cogent::spawn([&] {
      log.push_back("put 2");
      ch.put(2);
      log.push_back("put 2 returned");
    });
    cogent::sleep(0s);
    CHECK(ch.balance() == 1);
    log.push_back("got " + std::to_string(ch.get()));
    putter.join();

    CHECK(log == std::vector<std::string>{"put 1", "got 1", "put 1 returned", "put 2", "got 2",
                                          "put 2 returned"});
    CHECK(ch.balance() == 0);
  });
}

TEST_CASE("Channel nowait calls succeed only with a partner waiting and it never holds an item",
          "[channel]") {
  cogent::test::on_each_backend([] {
    cogent::Channel<int> ch("pipe");
    CHECK(ch.qsize() == 0);
    CHECK(ch.empty());
    CHECK(ch.full());
    CHECK_THROWS_WITH(ch.put_nowait(1), "cogent: Channel pipe put (no getter)");
    CHECK_THROWS_WITH(ch.get_nowait(), "cogent: Channel pipe get (no putter)");

    auto getter = cogent::spawn([&] { return ch.get(); });
    cogent::sleep(0s);
    ch.put_nowait(2);
    CHECK(ch.getting() == 0);
    CHECK(getter.get() == 2);

    auto putter = cogent::spawn([&] { ch.put(3); });
    cogent::sleep(0s);
    CHECK(ch.putting() == 1);
    CHECK(ch.get_nowait() == 3);
    putter.join();
    CHECK(ch.qsize() == 0);
  });
}

TEST_CASE("Channel get and put time out with Empty and Full and a kill leaves its list",
          "[channel][timeout][kill]") {
  cogent::test::on_each_backend([] {
    cogent::Channel<int> ch;
    CHECK_THROWS_AS(ch.get(5ms), cogent::Empty);
    CHECK_THROWS_AS(ch.put(1, 5ms), cogent::Full);
    CHECK(ch.balance() == 0);

    auto killed = cogent::spawn([&] { ch.put(1); });
    auto kept = cogent::spawn([&] { ch.put(2); });
    cogent::sleep(0s);
    CHECK(ch.balance() == 2);
    killed.kill();
    CHECK(ch.balance() == 1);
    CHECK(ch.get() == 2);  // the killed putter's item was never offered
    kept.join();

    auto late = cogent::spawn_later(3ms, [&] { return ch.get(); });
    ch.put(4, 5s);
    CHECK(late.get() == 4);
  });
}

TEST_CASE("tasks meet on a Channel with async_put and async_get", "[channel][task]") {
  cogent::test::on_each_backend([] {
    cogent::Channel<int> ch;
    std::vector<std::string> log;
    auto sender = [](cogent::Channel<int>& ch,
                     std::vector<std::string>& log) -> cogent::Task<void> {
      for (int i = 1; i <= 3; ++i) {
        co_await ch.async_put(i);
        log.push_back("sent " + std::to_string(i));
      }
      try {
        co_await ch.async_put(4, 2ms);
      } catch (const cogent::Full&) {
        log.push_back("nobody took 4");
      }
    };
    auto receiver = [](cogent::Channel<int>& ch,
                       std::vector<std::string>& log) -> cogent::Task<void> {
      for (int i = 0; i < 3; ++i)
        log.push_back("received " + std::to_string(co_await ch.async_get()));
    };
    auto r = cogent::spawn(receiver(ch, log));
    auto s = cogent::spawn(sender(ch, log));
    cogent::joinall(std::vector<cogent::Greenlet<void>>{r, s});
    CHECK(log == std::vector<std::string>{"received 1", "sent 1", "received 2", "sent 2",
                                          "received 3", "sent 3", "nobody took 4"});
  });
}

// ---- JoinableQueue ----

TEST_CASE("JoinableQueue join waits until every item put was marked done", "[joinable]") {
  cogent::test::on_each_backend([] {
    cogent::JoinableQueue<int> q;
    CHECK(q.unfinished_tasks() == 0);
    q.join();  // nothing unfinished: returns at once
    std::vector<int> handled;
    auto worker = cogent::spawn([&] {
      for (;;) {
        const int v = q.get();
        cogent::sleep(1ms);
        handled.push_back(v);
        q.task_done();
      }
    });
    cogent::sleep(0s);
    for (int i = 1; i <= 3; ++i) q.put(i);  // the first goes straight to the worker: it counts
    CHECK(q.unfinished_tasks() == 3);
    q.join();
    CHECK(handled == std::vector<int>{1, 2, 3});
    CHECK(q.unfinished_tasks() == 0);
    worker.kill();
  });
}

TEST_CASE("JoinableQueue join with a timeout returns false while tasks are unfinished",
          "[joinable][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::JoinableQueue<int> q(2, "work");
    CHECK(q.join(0s));
    q.put(1);
    CHECK_FALSE(q.join(0s));
    const auto t0 = cogent::Clock::now();
    CHECK_FALSE(q.join(10ms));
    CHECK(cogent::Clock::now() - t0 >= 5ms);
    auto timed = cogent::spawn([&] {
      cogent::Timeout t(2ms);
      q.join();
    });
    CHECK_THROWS_AS(timed.get(), cogent::TimeoutError);
    CHECK(q.get() == 1);
    CHECK_FALSE(q.join(0s));  // got, not yet done
    q.task_done();
    CHECK(q.join(0s));
    CHECK(q.join(1s));
  });
}

TEST_CASE("task_done called more times than items were put is an error that changes nothing",
          "[joinable][misuse]") {
  cogent::test::on_each_backend([] {
    cogent::JoinableQueue<int> q(0, "work");
    CHECK_THROWS_AS(q.task_done(), std::logic_error);
    q.put(1);
    q.get();
    q.task_done();
    CHECK_THROWS_WITH(q.task_done(), Catch::Contains("JoinableQueue work") &&
                                         Catch::Contains("called more times than items were put"));
    CHECK(q.unfinished_tasks() == 0);
    CHECK(q.join(0s));
  });
}

TEST_CASE("tasks wait for a JoinableQueue with async_join", "[joinable][task]") {
  cogent::test::on_each_backend([] {
    cogent::JoinableQueue<int> q;
    q.put(1);
    q.put(2);
    auto waiter = [](cogent::JoinableQueue<int>& q) -> cogent::Task<int> {
      const bool early = co_await q.async_join(1ms);
      co_await q.async_join();
      co_return early ? 1 : 2;
    };
    auto t = cogent::spawn(waiter(q));
    cogent::sleep(5ms);
    q.get();
    q.task_done();
    q.get();
    q.task_done();
    CHECK(t.get() == 2);
  });
}

// ---- LoopExit ----

TEST_CASE("a get or put that nothing can ever complete raises LoopExit naming the queue",
          "[queue][loopexit]") {
  cogent::test::on_each_backend([] {
    cogent::Queue<int> jobs(0, "jobs");
    std::string message;
    try {
      jobs.get();
    } catch (const cogent::LoopExit& e) {
      message = e.what();
    }
    CHECK_THAT(message, Catch::Contains("main greenlet waits for Queue jobs get (empty)"));
    CHECK(jobs.getting() == 0);

    cogent::Queue<int> bounded(1);
    bounded.put(1);
    auto stuck = cogent::spawn([&] { bounded.put(2); });
    cogent::Channel<int> ch("pipe");
    message.clear();
    try {
      ch.get();
    } catch (const cogent::LoopExit& e) {
      message = e.what();
    }
    CHECK_THAT(message,
               Catch::Contains("greenlet " + std::to_string(stuck.id()) + " waits for Queue " +
                               address_of(&bounded) + " put (full)"));
    CHECK_THAT(message, Catch::Contains("main greenlet waits for Channel pipe get (no putter)"));
    stuck.kill();
    CHECK(bounded.putting() == 0);
  });
}

TEST_CASE("join on a JoinableQueue nobody works on raises LoopExit naming it",
          "[joinable][loopexit]") {
  cogent::test::on_each_backend([] {
    cogent::JoinableQueue<int> q(0, "work");
    q.put(1);
    CHECK_THROWS_WITH(
        q.join(),
        Catch::Contains("main greenlet waits for JoinableQueue work join (1 unfinished)"));
  });
}
