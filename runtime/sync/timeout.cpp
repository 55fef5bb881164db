#include "cogent/timeout.hpp"

#include <stdexcept>

namespace cogent {

Timeout::Timeout(TimePoint deadline) : core_(detail::current_core()) {
  if (core_ == nullptr) {
    throw std::logic_error(
        "cogent::Timeout needs a greenlet or task to interrupt; inside the hub (a link callback "
        "or posted function) nothing blocks");
  }
  core_->retain();
  timer_.owner = this;
  timer_.on_fire = &Timeout::on_fire;
  detail::arm_timer(timer_, deadline);
}

Timeout::~Timeout() {
  cancel();
  core_->release();
}

void Timeout::cancel() noexcept {
  detail::disarm_timer(timer_);
  detail::forget_timeout(*core_, this);
}

void Timeout::on_fire(detail::TimerNode* node) {
  Timeout* t = static_cast<Timer*>(node)->owner;
  t->expired_ = true;
  detail::fire_timeout(*t->core_, t);
}

}  // namespace cogent
