#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "hub/timer_heap.hpp"

using cogent::TimePoint;
using cogent::detail::TimerHeap;
using cogent::detail::TimerNode;

TEST_CASE("the timer heap pops in (deadline, arming) order under random insert and cancel",
          "[timer]") {
  std::mt19937 rng(12345);
  constexpr int kNodes = 5000;
  std::vector<TimerNode> nodes(kNodes);
  TimerHeap heap;
  std::set<std::pair<TimePoint, std::uint64_t>> reference;
  std::uint64_t arm_order = 0;
  std::vector<std::uint64_t> order_of(kNodes);
  for (int step = 0; step < 50'000; ++step) {
    const int i = static_cast<int>(rng() % kNodes);
    TimerNode& n = nodes[i];
    if (n.armed() && rng() % 3 == 0) {
      reference.erase({n.deadline, order_of[i]});
      heap.erase(n);
    } else {
      if (n.armed()) reference.erase({n.deadline, order_of[i]});
      const TimePoint when{std::chrono::milliseconds(rng() % 1000)};
      heap.push(n, when);
      order_of[i] = arm_order++;
      reference.insert({when, order_of[i]});
    }
    REQUIRE(heap.size() == reference.size());
  }
  TimePoint last = TimePoint::min();
  std::uint64_t last_order = 0;
  while (TimerNode* n = heap.pop_due(TimePoint::max())) {
    REQUIRE_FALSE(n->armed());
    const std::uint64_t order = order_of[static_cast<std::size_t>(n - nodes.data())];
    REQUIRE(reference.begin()->first == n->deadline);
    REQUIRE(reference.begin()->second == order);
    reference.erase(reference.begin());
    REQUIRE((n->deadline > last || (n->deadline == last && order > last_order)));
    last = n->deadline;
    last_order = order;
  }
  CHECK(reference.empty());
}

TEST_CASE("pop_due leaves timers that are not due yet", "[timer]") {
  TimerHeap heap;
  TimerNode a, b;
  heap.push(a, TimePoint{std::chrono::seconds(1)});
  heap.push(b, TimePoint{std::chrono::seconds(2)});
  CHECK(heap.pop_due(TimePoint{std::chrono::milliseconds(1500)}) == &a);
  CHECK(heap.pop_due(TimePoint{std::chrono::milliseconds(1500)}) == nullptr);
  CHECK(b.armed());
  heap.erase(b);
  CHECK_FALSE(b.armed());
  CHECK(heap.empty());
}
