// See interrupt.hpp.
#include "shim/interrupt.hpp"

#include <atomic>

#include "cogent/detail/core.hpp"
#include "cogent/hub.hpp"
#include "hub/scheduler.hpp"

namespace cogent::shim {
namespace {

// The calls in progress, newest first. Hub thread only.
InterruptibleCall* calls = nullptr;

// Written by the hub thread, read by the trampoline on the same thread: atomics only so that a
// handler never sees a torn value.
std::atomic<std::uint64_t> last_sequence{0};
std::atomic<const detail::GreenletCore*> aimed{nullptr};

// From the trampoline to the hook.
std::atomic<const detail::GreenletCore*> pending_target{nullptr};
std::atomic<std::uint64_t> pending_limit{0};
std::atomic<bool> pending_no_restart{false};

void on_signal_turn() {
  const detail::GreenletCore* target = pending_target.exchange(nullptr);
  const std::uint64_t limit = pending_limit.load();
  const bool restart = !pending_no_restart.exchange(false);
  if (target == nullptr) return;
  // The newest call of that greenlet begun before the signal (a call inside a call, such as a
  // condition wait re-taking its mutex, is interrupted at its outermost interruptible level
  // only if the inner one is not interruptible).
  for (InterruptibleCall* c = calls; c != nullptr; c = c->next) {
    if (c->core() == target && c->sequence() <= limit) {
      c->interrupt(restart);
      return;
    }
  }
}

}  // namespace

InterruptibleCall::InterruptibleCall(Restart restart) noexcept
    : core_(detail::current_core()), restart_(restart), sequence_(last_sequence.load() + 1) {
  last_sequence.store(sequence_);
  next = calls;
  if (calls != nullptr) calls->prev = this;
  calls = this;
}

InterruptibleCall::~InterruptibleCall() {
  if (prev != nullptr) prev->next = next;
  if (next != nullptr) next->prev = prev;
  if (calls == this) calls = next;
  if (interrupted_) detail::forget_timeout(*core_, this);
}

void InterruptibleCall::interrupt(bool restart) noexcept {
  if (interrupted_) {
    restart_now_ = restart_now_ && restart;
    return;
  }
  interrupted_ = true;
  restart_now_ = restart && restart_ == Restart::kUnderSaRestart;
  detail::fire_timeout(*core_, this);
}

WaitEnd InterruptibleCall::take_interruption() noexcept {
  interrupted_ = false;
  return restart_now_ ? WaitEnd::kRestart : WaitEnd::kInterrupted;
}

WaitEnd InterruptibleCall::take_interruption_if_any() noexcept {
  if (interrupted_) {
    interrupted_ = false;
    detail::forget_timeout(*core_, this);
  }
  return WaitEnd::kDone;
}

void note_signal_delivered(bool sa_restart) noexcept {
  Hub* hub = Hub::existing();
  if (hub == nullptr) return;
  detail::Scheduler& s = hub->scheduler();
  const detail::GreenletCore* target = aimed.exchange(nullptr);
  if (target == nullptr) target = s.main_core();
  if (target == s.current()) return;  // running, not blocked in a call
  if (!sa_restart) pending_no_restart.store(true);
  pending_limit.store(last_sequence.load());
  pending_target.store(target);
  s.notify_signal();
}

void aim_next_signal_at(const detail::GreenletCore* core) noexcept { aimed.store(core); }

void install_signal_hook() noexcept { detail::set_signal_hook(&on_signal_turn); }

}  // namespace cogent::shim
