// pthread spin locks for greenlets. Spinning on the hub's one OS thread would spin for ever: the
// holder is a greenlet switched out on the same thread. A cooperative pthread_spin_lock (see
// cooperative.hpp) therefore tries glibc's pthread_spin_trylock and, while the lock is held,
// yields to the loop (as sched_yield does: the other runnable greenlets and the due timers run)
// before trying again. It still burns the thread while the holder waits for something slow, as
// a spinning thread burns its core natively.
//
// The glibc object stays the only state, so trylock, unlock, init and destroy are glibc's own,
// and a spin lock shared with native threads or other processes keeps working.
//
// pthread_spin_lock is declared noexcept by glibc's C++ headers, yet a greenlet spinning in it is
// killed (GreenletExit) when the hub winds down at exit: its body has an internal name and is
// exported under glibc's by an assembler alias, as in mutex.cpp.
#include <errno.h>
#include <pthread.h>

#include "cogent/clock.hpp"
#include "cogent/sleep.hpp"
#include "shim/cooperative.hpp"
#include "shim/real.hpp"

extern "C" {

__attribute__((used)) int cogent_shim_spin_lock(pthread_spinlock_t* lock) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(pthread_spin_lock)(lock);
  while (COGENT_REAL(pthread_spin_trylock)(lock) != 0) {
    const int saved_errno = errno;
    {
      cogent::shim::RuntimeScope scope;
      cogent::sleep_until(cogent::TimePoint::min());
    }
    errno = saved_errno;
  }
  return 0;
}

}  // extern "C"

asm(R"(
  .globl pthread_spin_lock
  .type pthread_spin_lock, @function
  .set pthread_spin_lock, cogent_shim_spin_lock
)");
