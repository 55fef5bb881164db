// Producers and consumers joined by a bounded cogent::Queue. Three producers put 100 numbers each
// as fast as they can; two consumers take them out, pausing 1 ms per item. The queue holds at most
// 5 items, so the producers soon find it full and put() suspends them until a consumer makes room:
// the queue's bound is what keeps fast producers from running away from slow consumers (and
// from memory). Once every producer is done, main() puts one "done" marker per consumer.
//
// The totals prove nothing was lost or duplicated on the way, and the largest size the queue
// ever had shows the bound held.
//
//   producer_consumer         (exit 0 when every item arrived exactly once)

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <vector>

#include <cogent/cogent.hpp>

using namespace std::chrono_literals;

namespace {

constexpr int kProducers = 3;
constexpr int kConsumers = 2;
constexpr int kItemsEach = 100;
constexpr std::size_t kMaxSize = 5;
constexpr long kDone = -1;  // the marker that tells a consumer to stop

struct Tally {
  long items = 0;
  long sum = 0;
};

struct Shared {
  cogent::Queue<long> queue{kMaxSize};
  Tally produced, consumed;
  std::size_t largest = 0;  // the largest qsize() seen
  long waits = 0;           // puts that found the queue full and had to wait
};

void producer(Shared& s, int number) {
  for (int i = 1; i <= kItemsEach; ++i) {
    const long item = number * 1000L + i;
    if (s.queue.full()) ++s.waits;
    s.queue.put(item);  // suspends while the queue is full
    s.largest = std::max(s.largest, s.queue.qsize());
    ++s.produced.items;
    s.produced.sum += item;
  }
}

void consumer(Shared& s) {
  for (;;) {
    const long item = s.queue.get();  // suspends while the queue is empty
    if (item == kDone) return;
    ++s.consumed.items;
    s.consumed.sum += item;
    cogent::sleep(1ms);  // a slow consumer
  }
}

}  // namespace

int main() {
  Shared s;
  std::vector<cogent::Greenlet<void>> producers, consumers;
  for (int p = 1; p <= kProducers; ++p)
    producers.push_back(cogent::spawn(producer, std::ref(s), p));
  for (int c = 0; c < kConsumers; ++c) consumers.push_back(cogent::spawn(consumer, std::ref(s)));

  cogent::joinall(producers);
  for (int c = 0; c < kConsumers; ++c) s.queue.put(kDone);
  cogent::joinall(consumers);

  // Nothing is left: a get() with a timeout gives up with cogent::Empty.
  bool drained = false;
  try {
    s.queue.get(10ms);
  } catch (const cogent::Empty&) {
    drained = true;
  }

  const bool intact = s.produced.items == s.consumed.items && s.produced.sum == s.consumed.sum &&
                      s.produced.items == kProducers * kItemsEach;
  std::printf("%d producers x %d items through a Queue of %zu, %d consumers\n", kProducers,
              kItemsEach, kMaxSize, kConsumers);
  std::printf("produced %ld items, sum %ld\n", s.produced.items, s.produced.sum);
  std::printf("consumed %ld items, sum %ld\n", s.consumed.items, s.consumed.sum);
  std::printf("largest queue size seen: %zu (maxsize %zu)\n", s.largest, kMaxSize);
  std::printf("puts that waited for room: %ld\n", s.waits);
  std::printf("queue drained: %s\n", drained ? "yes" : "no");
  std::printf("nothing lost: %s\n", intact ? "yes" : "no");
  return intact && drained && s.largest <= kMaxSize ? 0 : 1;
}
