#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cogent/cogent.hpp>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "pool/thread_pool_size.hpp"
#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;
using Catch::Contains;

namespace {

/// Keeps a pool thread busy until opened, so that jobs submitted meanwhile stay queued.
struct Gate {
  std::atomic<bool> entered{false};
  std::atomic<bool> open{false};

  /// On the pool thread. Gives up after a while, so that a broken test fails instead of hanging.
  void hold() {
    entered = true;
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!open && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  }
  /// Cooperatively, from the hub's thread.
  void wait_entered() const {
    while (!entered) cogent::sleep(1ms);
  }
};

/// How many jobs run at once, measured from inside them.
struct Concurrency {
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
};

long square_or_throw(Concurrency* c, int i) {
  const int now = c->running.fetch_add(1) + 1;
  int seen = c->peak.load();
  while (now > seen && !c->peak.compare_exchange_weak(seen, now)) {
  }
  std::this_thread::sleep_for(50us);
  c->running.fetch_sub(1);
  if (i % 7 == 0) throw std::runtime_error("job " + std::to_string(i));
  return static_cast<long>(i) * i;
}

bool is_job_error(const std::runtime_error& e, int i) {
  return i % 7 == 0 && std::string(e.what()) == "job " + std::to_string(i);
}

bool square_from_greenlet(cogent::ThreadPool& pool, Concurrency& c, int i) {
  try {
    return pool.submit(square_or_throw, &c, i) == static_cast<long>(i) * i && i % 7 != 0;
  } catch (const std::runtime_error& e) {
    return is_job_error(e, i);
  }
}

cogent::Task<bool> square_from_task(cogent::ThreadPool& pool, Concurrency& c, int i) {
  try {
    const long v = co_await pool.async_submit(square_or_throw, &c, i);
    co_return v == static_cast<long>(i) * i&& i % 7 != 0;
  } catch (const std::runtime_error& e) {
    co_return is_job_error(e, i);
  }
}

struct Box {
  int v;
  int get() const { return v; }
};

struct CustomError : std::runtime_error {
  CustomError() : std::runtime_error("custom") {}
  int code = 17;
};

}  // namespace

TEST_CASE("submit returns the job's value; void, move-only and reference results work",
          "[thread_pool]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(2);
    CHECK(pool.max_threads() == 2);
    CHECK(pool.threads() == 0);  // started lazily
    CHECK(pool.submit([] { return 42; }) == 42);
    CHECK(pool.threads() == 1);
    CHECK(pool.submit([] { return 0.1 * 3; }) == 0.1 * 3);
    CHECK(pool.submit([] { return std::string(1000, 'x'); }) == std::string(1000, 'x'));
    bool ran = false;
    pool.submit([&ran] { ran = true; });
    CHECK(ran);
    std::unique_ptr<int> p = pool.submit([] { return std::make_unique<int>(7); });
    REQUIRE(p != nullptr);
    CHECK(*p == 7);
    int target = 1;
    int& ref = pool.submit([&target]() -> int& { return target; });
    CHECK(&ref == &target);
    CHECK(pool.submit([] { return std::this_thread::get_id(); }) != std::this_thread::get_id());
  });
}

TEST_CASE("submit decay-copies the arguments into the job and passes them on", "[thread_pool]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(1);
    std::string s = "hello";
    CHECK(pool.submit(
              [](std::string v) {
                v += "!";
                return v;
              },
              s) == "hello!");
    CHECK(s == "hello");  // copied, not moved from
    auto owned = std::make_unique<int>(5);
    CHECK(pool.submit([](std::unique_ptr<int> q) { return *q * 2; }, std::move(owned)) == 10);
    CHECK(owned == nullptr);
    int counter = 0;
    pool.submit([](int& c) { c = 3; }, std::ref(counter));
    CHECK(counter == 3);
    CHECK(pool.submit([](int a, int b, int c) { return a * 100 + b * 10 + c; }, 1, 2, 3) == 123);
    CHECK(pool.submit(&Box::get, Box{9}) == 9);
  });
}

TEST_CASE("a job's exception comes back with its type and message", "[thread_pool]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(1);
    CHECK_THROWS_WITH(pool.submit([]() -> int { throw std::runtime_error("boom"); }), "boom");
    try {
      pool.submit([] { throw std::system_error(ENOENT, std::generic_category(), "open x"); });
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ENOENT);
      CHECK_THAT(e.what(), Contains("open x"));
    }
    try {
      pool.submit([] { throw CustomError(); });
      FAIL("no exception");
    } catch (const CustomError& e) {
      CHECK(e.code == 17);
    }
    CHECK_THROWS_AS(pool.submit([] { throw 5; }), int);
    CHECK(pool.submit([] { return 1; }) == 1);  // the thread survived them all
  });
}

TEST_CASE("async_submit gives tasks the same results and errors", "[thread_pool][task]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(2);
    auto body = [&pool]() -> cogent::Task<int> {
      int v = co_await pool.async_submit([](int x) { return x * 2; }, 21);
      co_await pool.async_submit([] {});
      std::unique_ptr<int> p = co_await pool.async_submit([] { return std::make_unique<int>(1); });
      try {
        co_await pool.async_submit([]() -> int { throw std::runtime_error("task boom"); });
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "task boom") v += *p * 100;
      }
      co_return v;
    };
    CHECK(cogent::spawn(body()).get() == 142);

    auto blocking = [&pool]() -> cogent::Task<> {
      pool.submit([] {});
      co_return;
    };
    CHECK_THROWS_WITH(cogent::spawn(blocking()).get(), Contains("async_submit"));
  });
}

TEST_CASE("1,000 greenlets share a pool of 4: every result right, never more than 4 at once",
          "[thread_pool]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(4);
    Concurrency c;
    std::vector<cogent::Greenlet<bool>> gs;
    for (int i = 0; i < 1000; ++i) {
      gs.push_back(cogent::spawn(square_from_greenlet, std::ref(pool), std::ref(c), i));
    }
    cogent::joinall(gs);
    int right = 0;
    for (auto& g : gs) right += g.get();
    CHECK(right == 1000);
    CHECK(c.peak.load() >= 1);
    CHECK(c.peak.load() <= 4);
    CHECK(pool.threads() <= 4);
  });
}

TEST_CASE("1,000 tasks share a pool of 4 through async_submit", "[thread_pool][task]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(4);
    Concurrency c;
    std::vector<cogent::Greenlet<bool>> ts;
    for (int i = 0; i < 1000; ++i) ts.push_back(cogent::spawn(square_from_task(pool, c, i)));
    cogent::joinall(ts);
    int right = 0;
    for (auto& t : ts) right += t.get();
    CHECK(right == 1000);
    CHECK(c.peak.load() <= 4);
    CHECK(pool.threads() <= 4);
  });
}

TEST_CASE("threads start as jobs arrive, up to the maximum", "[thread_pool]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(3);
    Gate gate;
    std::atomic<int> entered{0};
    std::vector<cogent::Greenlet<void>> gs;
    for (int i = 0; i < 8; ++i) {
      gs.push_back(cogent::spawn([&] {
        pool.submit([&] {
          ++entered;
          gate.hold();
        });
      }));
    }
    while (entered < 3) cogent::sleep(1ms);
    CHECK(pool.threads() == 3);
    gate.open = true;
    cogent::joinall(gs);
    CHECK(entered == 8);
    CHECK(pool.threads() == 3);
  });
}

TEST_CASE("idle pool threads end after two seconds and new jobs start threads again",
          "[thread_pool]") {
  // Not an I/O test: the pool is the same whatever the hub's backend.
  std::thread([] {
    cogent::ThreadPool pool(3);
    std::vector<cogent::Greenlet<int>> gs;
    for (int i = 0; i < 3; ++i) {
      gs.push_back(cogent::spawn([&pool, i] {
        return pool.submit([i] {
          std::this_thread::sleep_for(50ms);
          return i * 10;
        });
      }));
    }
    int sum = 0;
    for (auto& g : gs) sum += g.get();
    CHECK(sum == 30);
    CHECK(pool.threads() == 3);
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (pool.threads() > 0 && std::chrono::steady_clock::now() < give_up) cogent::sleep(100ms);
    CHECK(pool.threads() == 0);
    CHECK(pool.submit([] { return 7; }) == 7);
    CHECK(pool.threads() == 1);
  }).join();
}

TEST_CASE("pool threads block signals, leaving them to the hub threads", "[thread_pool]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(1);
    const bool blocked = pool.submit([] {
      sigset_t mask;
      pthread_sigmask(SIG_BLOCK, nullptr, &mask);
      return sigismember(&mask, SIGINT) == 1 && sigismember(&mask, SIGTERM) == 1 &&
             sigismember(&mask, SIGCHLD) == 1;
    });
    CHECK(blocked);
    sigset_t mine;
    pthread_sigmask(SIG_BLOCK, nullptr, &mine);
    CHECK(sigismember(&mine, SIGINT) == 0);  // the submitting thread's mask is untouched
  });
}

TEST_CASE("the hub runs other greenlets while a job blocks its pool thread", "[thread_pool]") {
  cogent::test::on_each_backend([] {
    // The job blocks until another greenlet has ticked a few times: only a hub that kept running
    // lets it return early.
    cogent::ThreadPool pool(1);
    Gate gate;
    int ticks = 0;
    auto ticker = cogent::spawn([&] {
      for (; ticks < 5; ++ticks) cogent::sleep(1ms);
      gate.open = true;
    });
    pool.submit([&gate] { gate.hold(); });
    CHECK(ticks == 5);
    CHECK(gate.open);
    ticker.join();
  });
}

TEST_CASE("no LoopExit while the only thing pending is a pool job", "[thread_pool][loopexit]") {
  cogent::test::on_each_backend([] {
    // No timer, no I/O: only the pool thread can wake the hub, and it will.
    cogent::ThreadPool pool(1);
    auto g = cogent::spawn([&pool] {
      return pool.submit([] {
        std::this_thread::sleep_for(30ms);
        return 3;
      });
    });
    CHECK(g.get() == 3);
  });
}

TEST_CASE("a Timeout around a queued job raises at once, and the job never runs",
          "[thread_pool][timeout]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(1);
    Gate gate;
    auto busy = cogent::spawn([&] { pool.submit([&gate] { gate.hold(); }); });
    gate.wait_entered();
    std::atomic<bool> ran{false};
    const auto t0 = cogent::Clock::now();
    CHECK_THROWS_AS(cogent::with_timeout(20ms, [&] { pool.submit([&ran] { ran = true; }); }),
                    cogent::TimeoutError);
    CHECK(cogent::Clock::now() - t0 < 5s);
    CHECK_FALSE(busy.ready());  // it did not wait for the busy thread
    gate.open = true;
    busy.join();
    // One thread, FIFO: had the timed-out job stayed queued, it would have run before this one.
    pool.submit([] {});
    CHECK_FALSE(ran);
  });
}

namespace {

/// How a Timeout around the submit of a job that holds its thread until the deadline ended.
enum class RunningTimeout {
  kRaisedAfterReturn,  // the job was running: TimeoutError, once the job had returned
  kDequeued,           // the pool thread had not started the job by the deadline: no verdict
  kWrong,
};

RunningTimeout classify(const cogent::TimeoutError& e, const cogent::Timeout& t, const Gate& g) {
  if (e.source() != &t) return RunningTimeout::kWrong;
  if (!g.entered) return RunningTimeout::kDequeued;
  return g.open ? RunningTimeout::kRaisedAfterReturn : RunningTimeout::kWrong;
}

/// The gate opens once `t` expired: the job cannot return before the deadline.
cogent::Greenlet<void> open_after_expiry(const cogent::Timeout& t, Gate& gate, const bool& stop) {
  return cogent::spawn([&t, &gate, &stop] {
    while (!t.expired() && !stop) cogent::sleep(1ms);
    gate.open = true;
  });
}

RunningTimeout timeout_in_greenlet(cogent::ThreadPool& pool, cogent::Duration deadline) {
  Gate gate;
  bool stop = false;
  cogent::Timeout t(deadline);
  auto opener = open_after_expiry(t, gate, stop);
  RunningTimeout out = RunningTimeout::kWrong;
  try {
    pool.submit([&gate] { gate.hold(); });
  } catch (const cogent::TimeoutError& e) {
    out = classify(e, t, gate);
  }
  t.cancel();
  stop = true;
  opener.join();
  return out;
}

cogent::Task<RunningTimeout> timeout_in_task(cogent::ThreadPool& pool, cogent::Duration deadline) {
  Gate gate;
  bool stop = false;
  cogent::Timeout t(deadline);
  auto opener = open_after_expiry(t, gate, stop);
  RunningTimeout out = RunningTimeout::kWrong;
  try {
    co_await pool.async_submit([&gate] { gate.hold(); });
  } catch (const cogent::TimeoutError& e) {
    out = classify(e, t, gate);
  }
  t.cancel();
  stop = true;
  co_await opener;
  co_return out;
}

}  // namespace

TEST_CASE("a Timeout around a running job raises TimeoutError once the job returned",
          "[thread_pool][timeout]") {
  cogent::test::on_each_backend([] {
    // Whether the pool thread starts the job before the deadline is up to the OS scheduler: an
    // attempt where it did not (the job was dequeued instead) is retried with a longer deadline.
    cogent::ThreadPool pool(1);
    pool.submit([] {});  // the thread is up
    RunningTimeout in_greenlet = RunningTimeout::kDequeued, in_task = RunningTimeout::kDequeued;
    for (cogent::Duration d = 5ms; d <= 2s; d *= 4) {
      if (in_greenlet == RunningTimeout::kDequeued) in_greenlet = timeout_in_greenlet(pool, d);
      if (in_task == RunningTimeout::kDequeued)
        in_task = cogent::spawn(timeout_in_task(pool, d)).get();
    }
    CHECK(in_greenlet == RunningTimeout::kRaisedAfterReturn);
    CHECK(in_task == RunningTimeout::kRaisedAfterReturn);
  });
}

TEST_CASE("kill() of a greenlet waiting for a queued job: GreenletExit, the job never runs",
          "[thread_pool][kill]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(1);
    Gate gate;
    auto busy = cogent::spawn([&] { pool.submit([&gate] { gate.hold(); }); });
    gate.wait_entered();
    std::atomic<bool> ran{false};
    bool got_exit = false;
    auto waiter = cogent::spawn([&] {
      try {
        pool.submit([&ran] { ran = true; });
      } catch (const cogent::GreenletExit&) {
        got_exit = true;
        throw;
      }
    });
    auto job_in_task = [&pool, &ran]() -> cogent::Task<> {
      co_await pool.async_submit([&ran] { ran = true; });
    };
    auto task = cogent::spawn(job_in_task());
    cogent::sleep(2ms);  // both are queued behind the busy job now
    waiter.kill();
    task.kill();
    CHECK(got_exit);
    CHECK_THROWS_AS(waiter.get(), cogent::GreenletExit);
    CHECK_THROWS_AS(task.get(), cogent::GreenletExit);
    CHECK_FALSE(busy.ready());  // killed without waiting for the busy thread
    gate.open = true;
    busy.join();
    pool.submit([] {});
    CHECK_FALSE(ran);
  });
}

TEST_CASE("kill() of a greenlet whose job is running takes effect when the job returns",
          "[thread_pool][kill]") {
  cogent::test::on_each_backend([] {
    cogent::ThreadPool pool(1);
    Gate gate;
    auto waiter = cogent::spawn([&] {
      return pool.submit([&gate] {
        gate.hold();
        return 5;
      });
    });
    gate.wait_entered();
    waiter.kill(false);
    cogent::sleep(5ms);
    CHECK_FALSE(waiter.ready());  // the job may still write into the waiter's memory
    gate.open = true;
    waiter.join();
    CHECK_THROWS_AS(waiter.get(), cogent::GreenletExit);
  });
}

TEST_CASE("destroying a pool fails its queued jobs' waiters and lets the running one finish",
          "[thread_pool]") {
  cogent::test::on_each_backend([] {
    auto pool = std::make_unique<cogent::ThreadPool>(1);
    Gate gate;
    std::atomic<int> ran{0};
    auto running = cogent::spawn([&] {
      return pool->submit([&gate] {
        gate.hold();
        return 1;
      });
    });
    gate.wait_entered();
    std::vector<cogent::Greenlet<std::string>> queued;
    for (int i = 0; i < 3; ++i) {
      queued.push_back(cogent::spawn([&]() -> std::string {
        try {
          pool->submit([&ran] { ++ran; });
          return "ran";
        } catch (const cogent::Error& e) {
          return e.what();
        }
      }));
    }
    auto in_task = [](cogent::ThreadPool& p, std::atomic<int>& r) -> cogent::Task<std::string> {
      try {
        co_await p.async_submit([&r] { ++r; });
      } catch (const cogent::Error& e) {
        co_return e.what();
      }
      co_return "ran";
    };
    queued.push_back(cogent::spawn(in_task(*pool, ran)));
    cogent::sleep(2ms);  // all queued behind the running job

    // Destroyed on another thread, whose destructor waits for the running job: the hub keeps
    // running meanwhile, so the queued waiters' errors can be seen before the gate opens.
    std::thread destroyer([&pool] { pool.reset(); });
    cogent::joinall(queued);
    for (auto& g : queued) CHECK_THAT(g.get(), Contains("thread pool destroyed"));
    CHECK_FALSE(running.ready());
    gate.open = true;
    CHECK(running.get() == 1);
    destroyer.join();
    CHECK(ran == 0);
  });
}

TEST_CASE("a job may destroy the pool it runs on", "[thread_pool]") {
  cogent::test::on_each_backend([] {
    auto pool = std::make_unique<cogent::ThreadPool>(2);
    CHECK(pool->submit([&pool] {
      pool.reset();  // its own thread cannot be joined: it finishes detached
      return 7;
    }) == 7);
    CHECK(pool == nullptr);
  });
}

TEST_CASE("ThreadPool::shared() is one pool that serves every hub", "[thread_pool][threads]") {
  cogent::ThreadPool& shared = cogent::ThreadPool::shared();
  CHECK(&shared == &cogent::ThreadPool::shared());
  CHECK(shared.max_threads() == cogent::detail::thread_pool_size_from_env());
  std::atomic<int> right{0};
  std::vector<std::thread> hubs;
  for (int h = 0; h < 3; ++h) {
    hubs.emplace_back([&right] {
      const auto me = std::this_thread::get_id();
      std::vector<cogent::Greenlet<bool>> gs;
      for (int i = 0; i < 50; ++i) {
        gs.push_back(cogent::spawn([i, me] {
          const int v = cogent::ThreadPool::shared().submit([](int x) { return x + 1; }, i);
          return v == i + 1 && std::this_thread::get_id() == me;  // woken on its own hub
        }));
      }
      for (auto& g : gs) right += g.get();
    });
  }
  for (auto& t : hubs) t.join();
  CHECK(right == 150);
}

TEST_CASE("a pool of zero threads is refused", "[thread_pool][errors]") {
  CHECK_THROWS_AS(cogent::ThreadPool(0), std::invalid_argument);
  CHECK(cogent::ThreadPool().max_threads() == 10);
}

TEST_CASE("COGENT_THREADPOOL_SIZE must be a positive number of threads", "[thread_pool][errors]") {
  using cogent::detail::parse_thread_pool_size;
  CHECK(parse_thread_pool_size("4") == 4u);
  CHECK(parse_thread_pool_size("128") == 128u);
  for (const char* bad :
       {"", "0", "abc", "-3", "+3", "4x", " 4", "1.5", "99999999999999999999999"}) {
    CHECK_FALSE(parse_thread_pool_size(bad).has_value());
  }

  using cogent::detail::thread_pool_size_from_env;
  constexpr const char* kVariable = "COGENT_THREADPOOL_SIZE";
  const char* before = std::getenv(kVariable);
  const std::string saved = before ? before : "";
  unsetenv(kVariable);
  CHECK(thread_pool_size_from_env() == 10);
  setenv(kVariable, "", 1);
  CHECK(thread_pool_size_from_env() == 10);
  setenv(kVariable, "3", 1);
  CHECK(thread_pool_size_from_env() == 3);
  setenv(kVariable, "abc", 1);
  CHECK_THROWS_MATCHES(thread_pool_size_from_env(), std::invalid_argument,
                       Catch::Message("cogent: invalid COGENT_THREADPOOL_SIZE value 'abc' "
                                      "(expected a positive number of threads, e.g. 16)"));
  setenv(kVariable, "0", 1);
  CHECK_THROWS_AS(thread_pool_size_from_env(), std::invalid_argument);
  if (before) {
    setenv(kVariable, saved.c_str(), 1);
  } else {
    unsetenv(kVariable);
  }
}
