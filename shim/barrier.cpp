// pthread barriers for greenlets: a cooperative pthread_barrier_wait (see cooperative.hpp) is
// served by the barrier's GreenBarrier, kept beside it by address (side_table.hpp): the waiters
// of the current round park until the last of `count` arrives, which wakes them all with 0 and
// itself returns PTHREAD_BARRIER_SERIAL_THREAD — the thread glibc picks too (the one whose arrival
// completes the round), so exactly one waiter per round gets it. The count is read from the glibc
// object, which pthread_barrier_init fills in (and checks: EINVAL for a count of 0) as usual.
//
// pthread_barrier_destroy answers EBUSY while greenlets wait in an unfinished round (glibc would
// wait for the round to end; destroying a barrier in use is undefined). A process-shared barrier
// is served like a private one: its waiters are this process's greenlets.
//
// pthread_barrier_wait is declared noexcept by glibc's C++ headers, yet a greenlet parked in it is
// killed (GreenletExit) when the hub winds down at exit: its body has an internal name and is
// exported under glibc's by an assembler alias, as in mutex.cpp.
#include <errno.h>
#include <pthread.h>

#include <cstdint>
#include <limits>
#include <new>

#include "cogent/clock.hpp"
#include "cogent/detail/signal.hpp"
#include "cogent/error.hpp"
#include "shim/cooperative.hpp"
#include "shim/errno_keeper.hpp"
#include "shim/green_mutex.hpp"
#include "shim/real.hpp"
#include "shim/side_table.hpp"
#include "shim/stuck.hpp"
#include "shim/threads.hpp"

namespace cogent::shim {
namespace {

// glibc's own layout of a pthread_barrier_t (struct pthread_barrier, nptl/pthreadP.h in 2.36).
struct GlibcBarrier {
  unsigned int in;
  unsigned int current_round;
  unsigned int count;
  int shared;
  unsigned int out;
};
static_assert(sizeof(GlibcBarrier) <= sizeof(pthread_barrier_t));

class GreenBarrier {
 public:
  GreenBarrier(const pthread_barrier_t* barrier, unsigned int count)
      : count_(count), signal_("pthread_barrier_t", object_address(barrier)) {}

  /// pthread_barrier_wait: PTHREAD_BARRIER_SERIAL_THREAD for the arrival that completes the
  /// round, 0 for the others once it has.
  int wait() {
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++round_;
      signal_.wake(std::numeric_limits<std::size_t>::max());
      return PTHREAD_BARRIER_SERIAL_THREAD;
    }
    const std::uint64_t round = round_;
    try {
      RuntimeScope scope;
      detail::run_blocking<detail::SignalWait>("pthread_barrier_wait", TimePoint::max(), signal_,
                                               true);
    } catch (const LoopExit& e) {
      die_stuck(e);
    } catch (...) {
      if (round_ == round) --arrived_;  // killed before the round ended: no longer counted
      throw;
    }
    return 0;
  }
  /// Greenlets wait in an unfinished round.
  bool in_use() const noexcept { return arrived_ > 0; }

 private:
  unsigned int count_;
  unsigned int arrived_ = 0;
  std::uint64_t round_ = 0;
  detail::Signal signal_;
};

SideTable<pthread_barrier_t, GreenBarrier>& barriers() {
  return SideTable<pthread_barrier_t, GreenBarrier>::instance();
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

// The body of pthread_barrier_wait, exported under glibc's name below (see the top comment).
__attribute__((used)) int cogent_shim_barrier_wait(pthread_barrier_t* barrier) {
  if (!cogent::shim::green_call()) return COGENT_REAL(pthread_barrier_wait)(barrier);
  cogent::shim::ErrnoKeeper keep;
  const unsigned int count = reinterpret_cast<const cogent::shim::GlibcBarrier*>(barrier)->count;
  if (count == 0) return EINVAL;  // destroyed, or never initialised
  cogent::shim::GreenBarrier* b;
  try {
    cogent::shim::RuntimeScope scope;
    b = &cogent::shim::barriers().get(barrier, barrier, count);
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
  return b->wait();
}

}  // extern "C"

asm(R"(
  .globl pthread_barrier_wait
  .type pthread_barrier_wait, @function
  .set pthread_barrier_wait, cogent_shim_barrier_wait
)");

extern "C" {

int pthread_barrier_init(pthread_barrier_t* barrier, const pthread_barrierattr_t* attr,
                         unsigned int count) noexcept {
  if (cogent::shim::calls_may_use_table()) {
    const cogent::shim::GreenBarrier* b = cogent::shim::barriers().find(barrier);
    if (b != nullptr && !b->in_use()) cogent::shim::barriers().erase(barrier);
  }
  return COGENT_REAL(pthread_barrier_init)(barrier, attr, count);
}

int pthread_barrier_destroy(pthread_barrier_t* barrier) noexcept {
  if (cogent::shim::calls_may_use_table()) {
    if (const cogent::shim::GreenBarrier* b = cogent::shim::barriers().find(barrier)) {
      if (b->in_use()) return EBUSY;
      cogent::shim::barriers().erase(barrier);
    }
  }
  return COGENT_REAL(pthread_barrier_destroy)(barrier);
}

}  // extern "C"
