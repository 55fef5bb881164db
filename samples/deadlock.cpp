// The classic two-lock deadlock, caught instead of hanging. One greenlet takes Lock A then Lock B,
// the other takes B then A; a short sleep in between lets each grab its first lock before
// either asks for its second. Now each waits for the other forever. cogent notices that nothing
// can ever wake them and raises cogent::LoopExit in main(), whose join is stuck too; its message
// names who waits for what and spells out the cycle:
//
//   lock cycle: greenlet 1 holds Lock A and waits for Lock B, held by greenlet 3, which waits
//   for Lock A
//
// main() then kills both (their lock_guards release the locks on the way out) and runs the cure:
// the same two greenlets, both taking A before B, finish without trouble.
//
//   deadlock                  (prints "deadlock detected", exits 0)

#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

#include <cogent/cogent.hpp>

using namespace std::chrono_literals;

namespace {

// Takes `first`, dawdles, then takes `second`.
void take_both(cogent::Lock& first, cogent::Lock& second) {
  std::lock_guard hold_first(first);
  cogent::sleep(10ms);
  std::lock_guard hold_second(second);
}

}  // namespace

int main() {
  cogent::Lock a("A");
  cogent::Lock b("B");

  std::vector<cogent::Greenlet<void>> pair = {
      cogent::spawn(take_both, std::ref(a), std::ref(b)),
      cogent::spawn(take_both, std::ref(b), std::ref(a)),  // the opposite order
  };
  try {
    cogent::joinall(pair);
    std::printf("no deadlock?\n");
    return 1;
  } catch (const cogent::LoopExit& e) {
    std::printf("%s\n", e.what());
    std::printf("deadlock detected\n");
  }
  cogent::killall(pair);
  std::printf("killed both; A locked: %s, B locked: %s\n", a.locked() ? "yes" : "no",
              b.locked() ? "yes" : "no");

  // The cure: every greenlet takes the locks in the same order.
  pair = {
      cogent::spawn(take_both, std::ref(a), std::ref(b)),
      cogent::spawn(take_both, std::ref(a), std::ref(b)),
  };
  cogent::joinall(pair);
  std::printf("same order: both finished\n");
  return 0;
}
