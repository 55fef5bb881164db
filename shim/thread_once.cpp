// pthread_once for greenlet threads. glibc's own waits on a futex while another thread runs the
// initialiser: with threads as greenlets on one OS thread that blocks the very thread the
// initialiser needs (it may sleep or take a lock inside), so the wait must be cooperative.
//
// The control word keeps glibc's encoding (0 never run, bit 0 in progress, bit 1 done), so a
// real pthread_once on another OS thread sees the same state: it waits on the futex while a
// greenlet runs the initialiser, and is woken when it is done.
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <memory>
#include <unordered_map>

#include "cogent/event.hpp"
#include "cogent/sleep.hpp"
#include "shim/cooperative.hpp"
#include "shim/real.hpp"
#include "shim/threads.hpp"

namespace cogent::shim {
namespace {

constexpr int kInProgress = 1;
constexpr int kDone = 2;

// The initialisers greenlets are running now, by control word; others wait on the Event. Only
// the hub thread touches it (cooperative calls only). Never destroyed: greenlets still run
// while the process exits.
std::unordered_map<const pthread_once_t*, std::shared_ptr<Event>>& running_inits() {
  static auto* m = new std::unordered_map<const pthread_once_t*, std::shared_ptr<Event>>;
  return *m;
}

// Ends the initialiser's run: `state` is kDone, or 0 when it left by pthread_exit or a kill (as
// glibc does then, the next caller runs it again).
void settle(pthread_once_t* once, int state) noexcept {
  const int saved_errno = errno;
  std::atomic_ref<int>(*once).store(state, std::memory_order_release);
  syscall(SYS_futex, once, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  auto& inits = running_inits();
  if (auto it = inits.find(once); it != inits.end()) {
    it->second->set();
    inits.erase(it);
  }
  errno = saved_errno;
}

// Waits until the initialiser running now (by another greenlet, or by another OS thread) ends.
void wait_for_init(const pthread_once_t* once) {
  const int saved_errno = errno;
  RuntimeScope scope;
  auto& inits = running_inits();
  if (auto it = inits.find(once); it != inits.end()) {
    std::shared_ptr<Event> done = it->second;  // the runner erases the entry when it ends
    done->wait();
  } else {
    // Another OS thread runs it: nothing here is told when it ends, so look again shortly.
    cogent::sleep(std::chrono::milliseconds(1));
  }
  errno = saved_errno;
}

int cooperative_once(pthread_once_t* once, void (*init)()) {
  std::atomic_ref<int> state(*once);
  for (;;) {
    int seen = state.load(std::memory_order_acquire);
    if ((seen & kDone) != 0) return 0;
    if (seen == 0) {
      if (!state.compare_exchange_strong(seen, kInProgress, std::memory_order_acquire)) continue;
      break;
    }
    wait_for_init(once);
  }
  {
    RuntimeScope scope;
    try {
      running_inits().emplace(once, std::make_shared<Event>());
    } catch (...) {
      // Without the entry waiters poll instead of being told: slower, still right.
    }
  }
  try {
    init();
  } catch (...) {
    RuntimeScope scope;
    settle(once, 0);
    throw;
  }
  RuntimeScope scope;
  settle(once, kDone);
  return 0;
}

}  // namespace
}  // namespace cogent::shim

extern "C" int pthread_once(pthread_once_t* once, void (*init)(void)) {
  if (!cogent::shim::green_call()) {
    return COGENT_REAL(pthread_once)(once, init);
  }
  return cogent::shim::cooperative_once(once, init);
}
