// A pthread mutex as the shim serves it to greenlets: a cogent lock kept in a side table keyed by
// the pthread_mutex_t's address, made on first cooperative use and dropped by
// pthread_mutex_destroy (or a new pthread_mutex_init at the same address). The glibc object
// itself is never touched by cooperative calls; its kind (normal, recursive, errorcheck) is read
// from the field glibc keeps in it (`__data.__kind`, <bits/struct_mutex.h>), which both
// pthread_mutex_init and the static initialisers fill in.
//
//   GreenMutex& m = green_mutex(mutex);      // on the hub thread, in a cooperative call
//   if (int rc = m.lock(deadline); rc != 0) return rc;
//   ... m.unlock();
#pragma once

#include <pthread.h>

#include "cogent/clock.hpp"
#include "cogent/detail/core.hpp"
#include "cogent/lock.hpp"

namespace cogent::shim {

class GreenMutex {
 public:
  explicit GreenMutex(int type) : type_(type) {}

  /// pthread_mutex_lock/timedlock until `deadline` (TimePoint::min(): trylock): 0, EBUSY for a
  /// trylock that found it held, ETIMEDOUT, or EDEADLK for an errorcheck relock by its owner.
  /// Waits inside a RuntimeScope; a wait nothing can end in the main greenlet ends the program.
  int lock(TimePoint deadline);
  /// pthread_mutex_unlock: 0, or EPERM when the caller may not unlock it.
  int unlock();
  /// Held by anyone (pthread_mutex_destroy answers EBUSY then).
  bool locked() const noexcept;

  /// For a condition wait: release and take back with no checks (the caller checked already).
  void release();
  void acquire();

 private:
  bool take(TimePoint deadline);

  int type_;  // PTHREAD_MUTEX_NORMAL, _RECURSIVE or _ERRORCHECK
  Lock lock_;
  RLock rlock_;  // only for PTHREAD_MUTEX_RECURSIVE
  const detail::GreenletCore* owner_ = nullptr;
};

/// The side-table entry of `mutex`, made on first use. Only on the hub thread, in a cooperative
/// call (the table has no lock).
GreenMutex& green_mutex(pthread_mutex_t* mutex);

}  // namespace cogent::shim

namespace cogent::shim {

/// A cooperative call that makes no hub: for init and destroy, which need the side tables only
/// when something was locked or waited on cooperatively (which made the hub).
bool calls_may_use_table() noexcept;

/// The deadline the absolute time `abstime` on `clock` (CLOCK_REALTIME or CLOCK_MONOTONIC)
/// stands for, TimePoint::min() when it has passed; false for a bad tv_nsec.
bool absolute_deadline(clockid_t clock, const timespec& abstime, TimePoint& deadline) noexcept;

}  // namespace cogent::shim
