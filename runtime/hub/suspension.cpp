#include <stdexcept>
#include <string>
#include <utility>

#include "cogent/detail/core.hpp"
#include "cogent/error.hpp"
#include "hub/scheduler.hpp"

namespace cogent::detail {

void Operation::finish() noexcept {
  if (finished_) return;
  finished_ = true;
  if (waiter_ != nullptr) current_scheduler().schedule(waiter_);
}

void arm_timer(TimerNode& node, TimePoint deadline) {
  current_scheduler().timers().push(node, deadline);
}

void disarm_timer(TimerNode& node) noexcept {
  if (node.armed()) current_scheduler().timers().erase(node);
}

void throw_empty_handle(const char* api) {
  throw std::logic_error(std::string("cogent: ") + api + " on an empty Greenlet handle");
}

void throw_blocking_in_task(const char* api) {
  throw std::logic_error(std::string("cogent::") + api +
                         " blocks the thread's hub when called from a C++20 task; use co_await "
                         "cogent::async_" +
                         api + " instead");
}

Suspension::~Suspension() {
  if (self_ == nullptr) return;
  // Left without end(): the coroutine frame holding us is being destroyed while suspended.
  disarm_timer(timer_);
  if (!op_.finished()) op_.cancel();
  op_.waiter_ = nullptr;
  self_->blocked_on_ = nullptr;
}

void Suspension::begin_blocking(const char* api) {
  GreenletCore* self = current_scheduler().current();
  if (self == nullptr) {
    throw std::logic_error(std::string("cogent::") + api +
                           " would block inside the hub (a link callback or posted function); "
                           "spawn a greenlet to block");
  }
  if (self->stackless()) throw_blocking_in_task(api);
  begin(self);
}

void Suspension::begin_async(std::coroutine_handle<> resume_point) {
  GreenletCore* self = current_scheduler().current();
  if (self == nullptr || !self->stackless()) {
    throw std::logic_error(
        "cogent: async_ operations are awaited from a cogent::Task running on the hub; in a "
        "greenlet use the blocking form");
  }
  self->resume_point_ = resume_point;
  begin(self);
}

void Suspension::begin(GreenletCore* self) {
  if (self->kill_pending_) {
    // Killed after its last wait had already done its work (a lock granted, an item handed over).
    self->kill_pending_ = false;
    throw GreenletExit();
  }
  if (self->fired_timeout_ != nullptr) {
    // A Timeout expired after this greenlet's last wait had already done its work.
    throw TimeoutError(static_cast<const Timeout*>(std::exchange(self->fired_timeout_, nullptr)));
  }
  self_ = self;
  op_.waiter_ = self;
  self->blocked_on_ = &op_;
  self->state_ = GreenletCore::State::kSuspended;
  try {
    op_.start();
  } catch (...) {
    op_.waiter_ = nullptr;
    self->blocked_on_ = nullptr;
    self->state_ = GreenletCore::State::kRunning;
    self_ = nullptr;
    throw;
  }
  if (deadline_ != TimePoint::max() && !op_.finished()) {
    timer_.owner = this;
    timer_.on_fire = &Suspension::on_deadline;
    arm_timer(timer_, deadline_);
  }
}

void Suspension::on_deadline(TimerNode* node) {
  Suspension* s = static_cast<DeadlineTimer*>(node)->owner;
  s->deadline_hit_ = true;
  if (!s->op_.finished()) s->op_.cancel();
}

WakeReason Suspension::end() {
  GreenletCore* self = std::exchange(self_, nullptr);
  disarm_timer(timer_);
  self->blocked_on_ = nullptr;
  op_.waiter_ = nullptr;
  if (self->loop_exit_pending_) {
    self->loop_exit_pending_ = false;
    throw LoopExit(current_scheduler().take_loop_exit_message());
  }
  // A kill or Timeout that came after the operation had done its work does not undo it: the
  // lock stays acquired, the item received, the bytes read; the error comes from the next wait.
  if (self->kill_pending_ && op_.interrupted()) {
    self->kill_pending_ = false;
    throw GreenletExit();
  }
  if (self->fired_timeout_ != nullptr && op_.interrupted()) {
    throw TimeoutError(static_cast<const Timeout*>(std::exchange(self->fired_timeout_, nullptr)));
  }
  return deadline_hit_ ? WakeReason::kDeadline : WakeReason::kFinished;
}

void fire_timeout(GreenletCore& core, const void* timeout) noexcept {
  if (core.dead()) return;
  if (core.fired_timeout_ == nullptr) core.fired_timeout_ = timeout;  // the first expiry wins
  if (core.blocked_on_ != nullptr && !core.blocked_on_->finished()) core.blocked_on_->cancel();
}

void forget_timeout(GreenletCore& core, const void* timeout) noexcept {
  if (core.fired_timeout_ == timeout) core.fired_timeout_ = nullptr;
}

WakeReason block_on(Operation& op, TimePoint deadline, const char* api) {
  Suspension s(op, deadline);
  s.begin_blocking(api);
  current_scheduler().switch_to_hub();
  return s.end();
}

}  // namespace cogent::detail
