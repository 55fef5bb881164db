// Signal dispositions as the program sees them, and the trampoline that tells the hub a handler
// ran (interrupt.hpp). In green-threads mode a handler the program installs is installed with
// the shim's trampoline in front of it: the kernel calls the trampoline (same mask, same flags,
// SA_SIGINFO added), which runs the program's handler and then marks the call the signal
// interrupts. sigaction() reports the program's own handler and flags back, so the program
// cannot tell.
//
// signal(), bsd_signal(), sysv_signal() and siginterrupt() are glibc wrappers that reach the
// kernel through an internal sigaction the shim cannot interpose, so they are redone here with
// glibc's semantics: signal() = BSD (SA_RESTART unless siginterrupt() said otherwise, the signal
// blocked in its handler), sysv_signal() = one-shot, not blocked, not restarted.
//
// Left alone: SIGKILL/SIGSTOP (the kernel refuses them), the synchronous fault signals (SIGSEGV,
// SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS: they interrupt no call, and the runtime's stack
// overflow report has its own SIGSEGV handler), native-threads mode, and the runtime's own calls.
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <array>
#include <atomic>
#include <mutex>

#include "shim/cooperative.hpp"
#include "shim/interrupt.hpp"
#include "shim/real.hpp"

namespace cogent::shim {
namespace {

// The program's action per signal. The trampoline reads `handler` and `flags` only (atomics,
// since it may run on top of a sigaction call of the same thread); `action` is the whole of what
// the program set, for reporting back.
struct ProgramAction {
  std::atomic<void*> handler{nullptr};
  std::atomic<int> flags{0};
  struct sigaction action {};
  bool known = false;  // false: the real disposition is the program's (never wrapped)
};

std::array<ProgramAction, NSIG>& actions() {
  static auto* a = new std::array<ProgramAction, NSIG>;
  return *a;
}

std::mutex& actions_mutex() {
  static auto* m = new std::mutex;
  return *m;
}

// Signals siginterrupt() made interrupting for signal().
sigset_t interrupting_signals;

bool wrappable(int sig) noexcept {
  switch (sig) {
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGTRAP:
    case SIGSYS:
      return false;
    default:
      return sig > 0 && sig < NSIG;
  }
}

bool is_handler(const struct sigaction& a) noexcept {
  return (a.sa_flags & SA_SIGINFO) != 0 ||
         (a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN && a.sa_handler != SIG_ERR);
}

void trampoline(int sig, siginfo_t* info, void* context) {
  ProgramAction& p = actions()[sig];
  const int flags = p.flags.load(std::memory_order_acquire);
  void* handler = p.handler.load(std::memory_order_acquire);
  if ((flags & SA_RESETHAND) != 0) {
    // The kernel has just reset the disposition to SIG_DFL; so does the program's view.
    p.handler.store(reinterpret_cast<void*>(SIG_DFL), std::memory_order_release);
    p.flags.store(0, std::memory_order_release);
  }
  {
    // The handler's own libc calls (write, for one) go straight to libc, as from any handler:
    // a handler must never switch greenlets under the interrupted code.
    RuntimeScope scope;
    if ((flags & SA_SIGINFO) != 0) {
      reinterpret_cast<void (*)(int, siginfo_t*, void*)>(handler)(sig, info, context);
    } else if (handler != reinterpret_cast<void*>(SIG_DFL) &&
               handler != reinterpret_cast<void*>(SIG_IGN)) {
      reinterpret_cast<void (*)(int)>(handler)(sig);
    }
    const int saved_errno = errno;
    note_signal_delivered((flags & SA_RESTART) != 0);
    errno = saved_errno;
  }
}

/// The action the program sees for `sig` (taking the real one when never wrapped). Under the
/// mutex.
struct sigaction program_view(int sig) {
  ProgramAction& p = actions()[sig];
  struct sigaction view {};
  if (!p.known) {
    COGENT_REAL(sigaction)(sig, nullptr, &view);
    return view;
  }
  view = p.action;
  // SA_RESETHAND may have fired since.
  if (p.handler.load() == reinterpret_cast<void*>(SIG_DFL) && is_handler(view)) {
    view.sa_handler = SIG_DFL;
    view.sa_flags &= ~SA_SIGINFO;
  }
  return view;
}

int set_action(int sig, const struct sigaction* act, struct sigaction* old) {
  std::lock_guard lock(actions_mutex());
  const struct sigaction previous = program_view(sig);
  if (act != nullptr) {
    ProgramAction& p = actions()[sig];
    if (is_handler(*act)) {
      struct sigaction wrapped = *act;
      wrapped.sa_sigaction = &trampoline;
      wrapped.sa_flags |= SA_SIGINFO;
      install_signal_hook();
      // Program's handler first, so that a delivery right after the real call finds it.
      p.flags.store(act->sa_flags, std::memory_order_release);
      p.handler.store((act->sa_flags & SA_SIGINFO) != 0 ? reinterpret_cast<void*>(act->sa_sigaction)
                                                        : reinterpret_cast<void*>(act->sa_handler),
                      std::memory_order_release);
      if (COGENT_REAL(sigaction)(sig, &wrapped, nullptr) != 0) return -1;
    } else {
      if (COGENT_REAL(sigaction)(sig, act, nullptr) != 0) return -1;
      p.handler.store(reinterpret_cast<void*>(act->sa_handler), std::memory_order_release);
      p.flags.store(act->sa_flags, std::memory_order_release);
    }
    p.action = *act;
    p.known = true;
  }
  if (old != nullptr) *old = previous;
  return 0;
}

bool passes_through(int sig) noexcept {
  return !green_threads() || inside_runtime() || !wrappable(sig);
}

sighandler_t set_simple(int sig, sighandler_t handler, int flags, bool block_itself) {
  if (handler == SIG_ERR || sig <= 0 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act {};
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  if (block_itself) sigaddset(&act.sa_mask, sig);
  act.sa_flags = flags;
  struct sigaction old {};
  if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

}  // namespace
}  // namespace cogent::shim

using cogent::shim::passes_through;

extern "C" {

int sigaction(int sig, const struct sigaction* act, struct sigaction* old) noexcept {
  if (passes_through(sig)) return COGENT_REAL(sigaction)(sig, act, old);
  return cogent::shim::set_action(sig, act, old);
}

sighandler_t signal(int sig, sighandler_t handler) noexcept {
  if (passes_through(sig)) return COGENT_REAL(signal)(sig, handler);
  const bool interrupting = sigismember(&cogent::shim::interrupting_signals, sig) == 1;
  return cogent::shim::set_simple(sig, handler, interrupting ? 0 : SA_RESTART, true);
}

sighandler_t bsd_signal(int sig, sighandler_t handler) noexcept { return signal(sig, handler); }

sighandler_t sysv_signal(int sig, sighandler_t handler) noexcept {
  if (passes_through(sig)) return COGENT_REAL(sysv_signal)(sig, handler);
  return cogent::shim::set_simple(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

int siginterrupt(int sig, int interrupt) noexcept {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (passes_through(sig)) return COGENT_REAL(siginterrupt)(sig, interrupt);
#pragma GCC diagnostic pop
  struct sigaction act {};
  if (sigaction(sig, nullptr, &act) != 0) return -1;
  if (interrupt != 0) {
    sigaddset(&cogent::shim::interrupting_signals, sig);
    act.sa_flags &= ~SA_RESTART;
  } else {
    sigdelset(&cogent::shim::interrupting_signals, sig);
    act.sa_flags |= SA_RESTART;
  }
  return sigaction(sig, &act, nullptr);
}

}  // extern "C"
