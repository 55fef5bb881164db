// Program threads as greenlets. In green-threads mode a pthread_create() made by the program's
// code on the hub thread spawns a greenlet on that thread's hub; the pthread_t the program gets
// is a pointer to a ThreadRecord (heap memory, so never equal to a live real pthread_t), which
// pthread_join/detach/self/exit and the pthread_key_* calls recognise. Any other pthread_t (a
// thread created natively: the runtime's ThreadPool, or a call made while not cooperative) goes
// to the real libc functions.
//
//   pthread_t t;                                   // in the program, unchanged:
//   pthread_create(&t, NULL, worker, arg);         // a greenlet, not an OS thread
//   pthread_join(t, &result);                      // waits cooperatively
//
// What differs from native threads, by design:
// - Stack size: a greenlet gets the size the program set with pthread_attr_setstacksize() (or
//   pthread_attr_setstack(), whose memory is not used), else the runtime's (COGENT_STACK_SIZE,
//   64 KiB by default) rather than glibc's 8 MiB: that is where the memory saving comes from.
// - pthread_exit() in a greenlet unwinds its stack with a C++ exception (ThreadExit) caught by
//   the greenlet's entry. C frames are passed through as by glibc's own forced unwinding, but
//   handlers registered with pthread_cleanup_push() do not run. A C++ `catch (...)` that swallows
//   it breaks pthread_exit, as it does natively (glibc aborts there).
// - pthread_exit() in the main greenlet runs the main thread's key destructors, waits
//   cooperatively until every greenlet thread has finished, then calls exit(0): natively the
//   process also ends with status 0 when its last thread ends, but the real pthread_exit would
//   tear down the hub that runs the other threads.
// - The main greenlet keeps the real thread-specific data: its pthread_key_* values are the real
//   ones. Greenlet threads have their own values in their records; destructors run when the
//   greenlet ends, up to PTHREAD_DESTRUCTOR_ITERATIONS rounds.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <cstdint>
#include <vector>

#include "cogent/greenlet.hpp"

namespace cogent::shim {

/// One pthread_key_* value of a greenlet thread. `seq` is the key's generation when the value
/// was set: a value set before pthread_key_delete() is not seen by a key that reuses the slot.
struct KeyValue {
  std::uint64_t seq = 0;
  void* value = nullptr;
};

/// One program thread running as a greenlet; the program's pthread_t points at it. Records are
/// recycled, so a pthread_t of a thread that was joined may later name a new thread, as glibc's
/// do.
struct ThreadRecord {
  void* (*start)(void*) = nullptr;
  void* arg = nullptr;
  void* result = nullptr;  // what start returned or pthread_exit() was given
  Greenlet<void> greenlet;
  pthread_t joiner{};    // the thread waiting in pthread_join, valid while `joining`
  bool in_use = false;   // false while on the free list (its pthread_t is stale: ESRCH)
  bool joining = false;  // someone waits in pthread_join
  bool detached = false;
  bool finished = false;       // its start routine and key destructors are done
  std::vector<KeyValue> keys;  // indexed by pthread_key_t
  char name[16] = {};          // pthread_setname_np
  sigset_t signal_mask{};      // its own, never applied to the OS thread (signal_mask.cpp)
};

/// The signal mask a thread created now inherits: the calling thread's (signal_mask.cpp). In
/// program context, not inside a RuntimeScope.
sigset_t inherited_signal_mask() noexcept;

/// What a pthread_t given by the program is: one of the shim's live records, one that was joined
/// or detached-and-finished (ESRCH), or a real thread's. Hub thread, cooperative calls only.
enum class Kind { kRecord, kStale, kForeign };
Kind kind_of(pthread_t t) noexcept;
ThreadRecord* as_record(pthread_t t) noexcept;

/// A call the program's code makes in green-threads mode on the hub thread, in a greenlet: the
/// thread functions act on greenlets. Makes the hub if this is the first such call (the main
/// greenlet's first cooperative call must leave a hub behind: cooperative() is false after one
/// that did not); false, passing the call to libc, if the hub cannot be made.
bool green_call() noexcept;

/// The greenlet thread whose code calls now, or null: the main greenlet, the runtime, the hub,
/// another OS thread. Makes no hub (none exists before the first pthread_create).
ThreadRecord* calling_thread_record() noexcept;

/// Runs the pthread_key_* destructors of `record`'s values (thread_keys.cpp), in program context.
void run_key_destructors(ThreadRecord& record);
/// Runs the destructors of the main thread's real key values, as the real pthread_exit would.
void run_main_key_destructors();

}  // namespace cogent::shim
