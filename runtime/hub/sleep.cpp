#include "cogent/sleep.hpp"

#include "hub/scheduler.hpp"

namespace cogent::detail {

void SleepOperation::start() {
  if (until_ == TimePoint::min() || until_ <= Clock::now()) {
    finish();  // a yield: back of the ready queue, behind everyone already runnable
    return;
  }
  timer_.op = this;
  timer_.on_fire = &SleepOperation::on_timer;
  arm_timer(timer_, until_);
}

void SleepOperation::on_timer(TimerNode* node) { static_cast<Timer*>(node)->op->finish(); }

void SleepOperation::cancel() noexcept {
  disarm_timer(timer_);
  finish_interrupted();
}

std::string SleepOperation::describe() const { return "sleep"; }

}  // namespace cogent::detail
