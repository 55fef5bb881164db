#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

namespace {

struct Counts {
  int made = 0;
  int destroyed = 0;
};

// Counts its constructions (copies included) and destructions.
struct Counted {
  explicit Counted(Counts& c, int v = 0) : counts(&c), value(v) { ++c.made; }
  Counted(const Counted& o) : counts(o.counts), value(o.value) { ++counts->made; }
  Counted& operator=(const Counted&) = delete;
  ~Counted() { ++counts->destroyed; }
  Counts* counts;
  int value;
};

cogent::local<Counted> counted_local(Counts& counts) {
  return cogent::local<Counted>::with_factory([&counts] { return Counted(counts); });
}

// Runs a callback when destroyed.
struct Probe {
  std::function<void()> at_death;
  ~Probe() {
    if (at_death) at_death();
  }
};

// Three locals made in the order first, third, second; each records, when destroyed, which of
// them it can still see ("+" alive, "-" gone).
struct Trio {
  cogent::local<Probe> first, second, third;
  std::vector<std::string> log;

  std::string seen_by(const char* who) const {
    auto mark = [](const cogent::local<Probe>& l) { return l.has_value() ? "+" : "-"; };
    return std::string(who) + " sees " + mark(first) + mark(second) + mark(third);
  }

  void make_all() {
    first->at_death = [this] {
      log.push_back(seen_by("first"));
      try {
        second.get();
        log.push_back("second made again");
      } catch (const std::logic_error&) {
        log.push_back("second not made again");
      }
    };
    third->at_death = [this] { log.push_back(seen_by("third")); };
    second->at_death = [this] { log.push_back(seen_by("second")); };
  }

  static std::vector<std::string> expected() {
    return {"second sees +-+", "third sees +--", "first sees ---", "second not made again"};
  }
};

cogent::Task<> trio_task(Trio& trio) {
  trio.make_all();
  co_await cogent::async_sleep(1ms);
}

cogent::Task<int> bump(const cogent::local<int>& x) { co_return ++*x; }

cogent::Task<std::vector<int>> task_sequence(const cogent::local<int>& x, int base) {
  *x = base;
  co_await cogent::async_sleep(1ms);
  std::vector<int> seen{*x};
  seen.push_back(co_await bump(x));  // the sub-task shares this task's value
  co_await cogent::async_sleep(1ms);
  seen.push_back(*x);
  co_return seen;
}

cogent::Task<> task_using(const cogent::local<Counted>& x, int value, cogent::Duration nap) {
  x->value = value;
  co_await cogent::async_sleep(nap);
}

}  // namespace

TEST_CASE("two greenlets see their own values of one local across interleaved sleeps", "[local]") {
  cogent::test::on_each_backend([] {
    cogent::local<int> x;
    auto work = [&x](int step) {
      std::vector<int> seen;
      for (int i = 0; i < 3; ++i) {
        *x += step;
        cogent::sleep(1ms);
        seen.push_back(*x);
      }
      return seen;
    };
    auto a = cogent::spawn(work, 1);
    auto b = cogent::spawn(work, 100);
    CHECK(a.get() == std::vector<int>{1, 2, 3});
    CHECK(b.get() == std::vector<int>{100, 200, 300});
    CHECK_FALSE(x.has_value());  // the main greenlet never touched it
  });
}

TEST_CASE("the main greenlet has its own values, destroyed when its hub goes away", "[local]") {
  Counts counts;
  auto x = counted_local(counts);  // outlives the hub's thread
  cogent::test::on_each_backend([&] {
    x->value = 7;
    auto g = cogent::spawn([&] {
      const bool had = x.has_value();
      return had ? -1 : x->value;
    });
    CHECK(g.get() == 0);
    CHECK(x->value == 7);
    CHECK(counts.made == 2);
    CHECK(counts.destroyed == 1);  // the greenlet's; the main greenlet's lives on
  });
  CHECK(counts.destroyed == counts.made);
}

TEST_CASE("a plain thread's first access makes its hub, and the value dies with the thread",
          "[local]") {
  Counts counts;
  auto x = counted_local(counts);
  bool had_before = true, hub_before = true, had_after = false, hub_after = false;
  int value = 0;
  std::thread([&] {
    had_before = x.has_value();  // asks, makes nothing
    hub_before = cogent::Hub::existing() != nullptr;
    x->value = 5;
    value = x->value;
    had_after = x.has_value();
    hub_after = cogent::Hub::existing() != nullptr;
  }).join();
  CHECK_FALSE(had_before);
  CHECK_FALSE(hub_before);
  CHECK(had_after);
  CHECK(hub_after);
  CHECK(value == 5);
  CHECK(counts.made == 1);
  CHECK(counts.destroyed == 1);
}

TEST_CASE("a greenlet's values are destroyed when it returns or throws, before its joiners wake",
          "[local]") {
  cogent::test::on_each_backend([] {
    Counts counts;
    auto x = counted_local(counts);
    cogent::Event release;
    auto ok = cogent::spawn([&] {
      x->value = 1;
      cogent::sleep(0s);
    });
    auto bad = cogent::spawn([&] {
      x->value = 2;
      release.wait();
      throw std::runtime_error("boom");
    });
    int destroyed_at_link = -1;
    ok.link([&] { destroyed_at_link = counts.destroyed; });
    ok.join();
    CHECK(counts.made == 2);
    CHECK(counts.destroyed == 1);
    release.set();
    bad.join();
    CHECK(counts.destroyed == 2);
    CHECK_THROWS_AS(bad.get(), std::runtime_error);
    cogent::sleep(1ms);  // let the link run if it has not yet
    CHECK(destroyed_at_link == 1);
  });
}

TEST_CASE("a killed greenlet's values are destroyed by the time kill() returns", "[local]") {
  cogent::test::on_each_backend([] {
    Counts counts;
    auto x = counted_local(counts);
    auto g = cogent::spawn([&] {
      x->value = 3;
      cogent::sleep(10s);
    });
    cogent::sleep(0s);  // let it start and park
    CHECK(counts.made == 1);
    g.kill();
    CHECK(counts.destroyed == 1);
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
  });
}

TEST_CASE("a greenlet killed before it started never makes a value", "[local]") {
  cogent::test::on_each_backend([] {
    Counts counts;
    auto x = counted_local(counts);
    auto g = cogent::spawn([&] { x->value = 1; });
    g.kill();
    auto later = cogent::spawn_later(5ms, [&] { x->value = 2; });
    later.kill();
    cogent::sleep(10ms);
    CHECK(counts.made == 0);
    CHECK(counts.destroyed == 0);
  });
}

TEST_CASE("an initial value is copied into each greenlet's value", "[local]") {
  cogent::test::on_each_backend([] {
    cogent::local<std::string> name(std::string("anon"));
    auto a = cogent::spawn([&] {
      *name += "-a";
      cogent::sleep(0s);
      return *name;
    });
    auto b = cogent::spawn([&] {
      cogent::sleep(0s);
      return *name;
    });
    CHECK(a.get() == "anon-a");
    CHECK(b.get() == "anon");
    CHECK(*name == "anon");
    CHECK(name->size() == 4);

    Counts counts;
    {
      cogent::local<Counted> x(Counted(counts, 5));
      const int prototypes = counts.made;  // the copy the local keeps, and any temporaries
      auto g = cogent::spawn([&] { return x->value; });
      CHECK(g.get() == 5);
      CHECK(counts.made == prototypes + 1);
      CHECK(counts.destroyed == prototypes);  // temporaries and the greenlet's copy
    }
    CHECK(counts.destroyed == counts.made);
  });
}

TEST_CASE("a factory runs once per greenlet and may be move-only", "[local]") {
  cogent::test::on_each_backend([] {
    int calls = 0;
    auto ticket = cogent::local<int>::with_factory([&calls, step = std::make_unique<int>(1)] {
      calls += *step;
      return calls;
    });
    auto g = cogent::spawn([&] {
      const int first = *ticket;
      cogent::sleep(0s);
      return first == *ticket ? first : -1;
    });
    CHECK(g.get() == 1);
    CHECK(*ticket == 2);  // the main greenlet's
    CHECK(*ticket == 2);
    CHECK(calls == 2);
  });
}

TEST_CASE("reset() destroys this greenlet's value now and the next access makes a fresh one",
          "[local]") {
  cogent::test::on_each_backend([] {
    Counts counts;
    auto x = counted_local(counts);
    x.reset();  // nothing to destroy
    CHECK(counts.made == 0);
    auto g = cogent::spawn([&] {
      std::vector<int> seen;
      x->value = 4;
      x.reset();
      seen.push_back(x.has_value() ? 1 : 0);
      seen.push_back(counts.destroyed);
      seen.push_back(x->value);  // fresh
      seen.push_back(counts.made);
      return seen;
    });
    CHECK(g.get() == std::vector<int>{0, 1, 0, 2});
    CHECK(counts.destroyed == 2);
  });
}

TEST_CASE("a local destroyed before the greenlets holding its values leaves them until they end",
          "[local]") {
  cogent::test::on_each_backend([] {
    Counts counts;
    std::unique_ptr<cogent::local<Counted>> owner(new cogent::local<Counted>(
        cogent::local<Counted>::with_factory([&] { return Counted(counts); })));
    std::unique_ptr<cogent::local<int>> newer;
    cogent::Event release;
    std::vector<cogent::Greenlet<int>> gs;
    for (int i = 0; i < 3; ++i) {
      gs.push_back(cogent::spawn([&, i] {
        Counted& mine = owner->get();
        mine.value = i;
        release.wait();
        // A local made after the old one died has a key of its own: nothing of the old one shows.
        return newer->has_value() ? -1 : mine.value;
      }));
    }
    cogent::sleep(0s);
    CHECK(counts.made == 3);
    owner.reset();
    newer = std::make_unique<cogent::local<int>>();
    CHECK(counts.destroyed == 0);
    release.set();
    for (int i = 0; i < 3; ++i) CHECK(gs[i].get() == i);
    CHECK(counts.destroyed == 3);
  });
}

TEST_CASE("values are destroyed newest first; a destructor sees older values, not newer ones",
          "[local]") {
  cogent::test::on_each_backend([] {
    Trio in_greenlet;
    cogent::spawn([&] { in_greenlet.make_all(); }).join();
    CHECK(in_greenlet.log == Trio::expected());

    Trio in_task;
    cogent::spawn(trio_task(in_task)).join();
    CHECK(in_task.log == Trio::expected());

    Trio killed;
    auto g = cogent::spawn([&] {
      killed.make_all();
      cogent::sleep(10s);
    });
    cogent::sleep(0s);
    g.kill();
    CHECK(killed.log == Trio::expected());
  });
}

TEST_CASE("spawned tasks have their own values and the sub-tasks they await share them",
          "[local]") {
  cogent::test::on_each_backend([] {
    cogent::local<int> x;
    auto a = cogent::spawn(task_sequence(x, 10));
    auto b = cogent::spawn(task_sequence(x, 20));
    CHECK(a.get() == std::vector<int>{10, 11, 11});
    CHECK(b.get() == std::vector<int>{20, 21, 21});
    CHECK_FALSE(x.has_value());

    Counts counts;
    auto c = counted_local(counts);
    auto done = cogent::spawn(task_using(c, 1, 1ms));
    auto killed = cogent::spawn(task_using(c, 2, 10s));
    done.join();
    CHECK(counts.made == 2);
    CHECK(counts.destroyed == 1);
    killed.kill();
    CHECK(counts.destroyed == 2);
  });
}

TEST_CASE("a local used inside the hub (link callback, posted function) throws logic_error",
          "[local]") {
  cogent::test::on_each_backend([] {
    cogent::local<int> x;
    std::vector<std::string> errors;
    auto attempt = [&] {
      for (const auto& use : std::vector<std::function<void()>>{
               [&] { x.get(); }, [&] { (void)x.has_value(); }, [&] { x.reset(); }}) {
        try {
          use();
          errors.push_back("allowed");
        } catch (const std::logic_error& e) {
          errors.push_back(e.what());
        }
      }
    };
    auto g = cogent::spawn([] {});
    g.link(attempt);
    g.join();
    cogent::Hub::current().post(attempt);
    cogent::sleep(1ms);
    REQUIRE(errors.size() == 6);
    const std::vector<std::string> apis{"cogent::local::get", "cogent::local::has_value",
                                        "cogent::local::reset"};
    for (std::size_t i = 0; i < errors.size(); ++i) {
      CHECK_THAT(errors[i], Catch::StartsWith(apis[i % 3]) && Catch::Contains("inside the hub"));
    }
    CHECK_FALSE(x.has_value());
  });
}

TEST_CASE("ten thousand greenlets each hold a value and all of them are destroyed", "[local]") {
  cogent::test::on_each_backend([] {
#if defined(__SANITIZE_THREAD__)
    constexpr int kGreenlets = 5'000;  // TSan counts every fiber as a thread: 8,128 at most
#else
    constexpr int kGreenlets = 10'000;
#endif
    Counts counts;
    auto x = counted_local(counts);
    std::vector<cogent::Greenlet<int>> gs;
    gs.reserve(kGreenlets);
    for (int i = 0; i < kGreenlets; ++i) {
      gs.push_back(cogent::spawn([&x, i] {
        x->value = i;
        cogent::sleep(0s);  // every one holds its value at once
        return x->value;
      }));
    }
    int wrong = 0;
    for (int i = 0; i < kGreenlets; ++i) wrong += gs[i].get() != i;
    CHECK(wrong == 0);
    CHECK(counts.made == kGreenlets);
    CHECK(counts.destroyed == kGreenlets);
  });
}
