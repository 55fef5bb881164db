#include <atomic>
#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <thread>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;

TEST_CASE("another OS thread wakes a sleeping hub with post()", "[hub][threads]") {
  cogent::test::on_each_backend([] {
    cogent::Hub& hub = cogent::Hub::current();
    auto sleeper = cogent::spawn([] { cogent::sleep(30s); });
    // Handles belong to the hub's thread: the poster only passes a reference along.
    std::thread poster([&hub, &sleeper] {
      std::this_thread::sleep_for(5ms);
      hub.post([&sleeper] { sleeper.kill(false); });
    });
    const auto t0 = cogent::Clock::now();
    sleeper.join();
    poster.join();
    CHECK(cogent::Clock::now() - t0 < 10s);
    CHECK_THROWS_AS(sleeper.get(), cogent::GreenletExit);
  });
}

TEST_CASE("posts from many threads all run, each exactly once, on the hub's thread",
          "[hub][threads]") {
  cogent::test::on_each_backend([] {
    cogent::Hub& hub = cogent::Hub::current();
    const auto hub_thread = std::this_thread::get_id();
    constexpr int kThreads = 4, kPosts = 2000;
    int ran = 0;
    bool all_on_hub_thread = true;
    std::vector<std::thread> posters;
    for (int t = 0; t < kThreads; ++t) {
      posters.emplace_back([&] {
        for (int i = 0; i < kPosts; ++i) {
          hub.post([&] {
            ++ran;
            all_on_hub_thread &= std::this_thread::get_id() == hub_thread;
          });
        }
      });
    }
    for (auto& t : posters) t.join();
    for (int spins = 0; ran < kThreads * kPosts && spins < 1000; ++spins) cogent::sleep(1ms);
    CHECK(ran == kThreads * kPosts);
    CHECK(all_on_hub_thread);
  });
}
