// Signals interrupting cooperative calls, as the kernel interrupts blocking system calls.
//
// Natively, a signal whose handler was installed without SA_RESTART makes the system call the
// receiving thread is blocked in fail with EINTR (a sleep reports the time left); with
// SA_RESTART most calls resume instead, and some never do (the sleeps, poll, select, epoll_wait,
// sem_wait, a socket call under SO_RCVTIMEO/SO_SNDTIMEO: signal(7)). A process-directed signal
// (kill, alarm, a timer, a key on the terminal) goes to the main thread when it does not block
// the signal; pthread_kill and raise pick their thread.
//
// Under the shim the thread is the hub's, so the signal handler runs when the kernel decides
// (usually while the hub waits for events) and the program's handler runs right then, as
// natively. The call the signal interrupts is the main greenlet's cooperative call for a
// process-directed signal, or the target greenlet's for pthread_kill; the hub is told
// (Scheduler::notify_signal, async-signal-safe) and, on its next turn, cancels that call's wait
// the way a cogent::Timeout does. The call then fails with EINTR or, if every handler that ran
// had SA_RESTART and the call is restartable, simply waits again.
//
//   InterruptibleCall call(Restart::kUnderSaRestart);
//   for (;;) {
//     long n = try_read();                                   // nonblocking attempt
//     if (n != -EAGAIN) return n;
//     switch (call.run([&] { wait_read(fd); })) {            // cooperative wait
//       case WaitEnd::kDone: case WaitEnd::kRestart: continue;
//       case WaitEnd::kInterrupted: errno = EINTR; return -1;
//     }
//   }
#pragma once

#include <cstdint>

#include "cogent/error.hpp"

namespace cogent::detail {
class GreenletCore;
}

namespace cogent::shim {

/// Whether SA_RESTART resumes the call (read, write, recv, send, accept, connect, waitpid...)
/// or the call always fails with EINTR (sleeps, poll, select, epoll_wait, sem_wait, socket
/// calls with a timeout set).
enum class Restart : bool { kNever, kUnderSaRestart };

/// How InterruptibleCall::run ended.
enum class WaitEnd : unsigned char {
  kDone,         // the wait returned (or threw something else, which run() lets through)
  kInterrupted,  // a signal interrupted it: the call fails with EINTR
  kRestart,      // a signal interrupted it, but SA_RESTART says wait again
};

/// One cooperative call of the program that a signal may interrupt; on the hub thread, in a
/// cooperative call (cooperative.hpp). Registered from construction to destruction.
class InterruptibleCall {
 public:
  explicit InterruptibleCall(Restart restart) noexcept;
  ~InterruptibleCall();
  InterruptibleCall(const InterruptibleCall&) = delete;
  InterruptibleCall& operator=(const InterruptibleCall&) = delete;

  /// Runs `wait` (a blocking cogent call: wait_read, sleep_until, a lock...) and tells whether
  /// a signal interrupted it. Inside a RuntimeScope of the caller's.
  template <class Wait>
  WaitEnd run(Wait&& wait) {
    try {
      wait();
    } catch (const TimeoutError& e) {
      if (static_cast<const void*>(e.source()) != this) throw;
      return take_interruption();
    }
    return take_interruption_if_any();
  }

  // For the hub's signal hook (interrupt.cpp).
  const detail::GreenletCore* core() const noexcept { return core_; }
  std::uint64_t sequence() const noexcept { return sequence_; }
  void interrupt(bool restart) noexcept;
  InterruptibleCall* next = nullptr;
  InterruptibleCall* prev = nullptr;

 private:
  WaitEnd take_interruption() noexcept;
  /// A signal handled after the wait had ended but before run() returned: the wait's result
  /// stands (as a syscall that completed), and nothing is raised later.
  WaitEnd take_interruption_if_any() noexcept;

  detail::GreenletCore* core_;
  Restart restart_;
  bool interrupted_ = false;
  bool restart_now_ = false;
  std::uint64_t sequence_;  // calls begun before a delivery are the ones it may interrupt
};

/// For the signal trampoline (signals.cpp), async-signal-safe: a handler installed with
/// `sa_restart` ran on the hub thread. Marks the greenlet whose call the signal interrupts (the
/// one pthread_kill aimed at, else the main greenlet; none if that greenlet is the one running,
/// since natively a running thread is not in a system call) and wakes the hub.
void note_signal_delivered(bool sa_restart) noexcept;

/// Makes the hub run the shim's signal hook on the turn after a delivery (idempotent).
void install_signal_hook() noexcept;

/// pthread_kill on a greenlet thread: the next delivery on the hub thread interrupts the call of
/// the greenlet `core` is in (if any) rather than the main greenlet's.
void aim_next_signal_at(const detail::GreenletCore* core) noexcept;

}  // namespace cogent::shim
