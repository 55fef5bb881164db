#include "cogent/lock.hpp"

#include <stdexcept>
#include <string>

#include "cogent/detail/permits.hpp"

namespace cogent {
namespace detail {

void Permits::give_slow() noexcept {
  if (sharing_ == Sharing::kReentrant && --depth_ > 0) return;
  if (ParkedOperation* next = waiters_.pop_front()) {
    holder_ = next->waiter();  // handed over: the count stays at zero
    depth_ = 1;
    next->serve();
    return;
  }
  ++count_;
  holder_ = nullptr;
  depth_ = 0;
}

std::string Permits::name() const { return primitive_name(kind_, name_, this); }

void AcquireOperation::start() {
  if (permits_.try_take(waiter())) {
    finish();
    return;
  }
  park(permits_.waiters());
}

}  // namespace detail

void Semaphore::release() {
  if (permits_.waiting() == 0 && permits_.count() >= bound_) {
    throw std::logic_error("cogent::" + std::string(permits_.kind()) + "::release: " +
                           permits_.name() + " released more times than it was acquired");
  }
  permits_.give();
}

void Lock::throw_not_locked() const {
  throw std::logic_error("cogent::Lock::release: " + permits_.name() + " is not locked");
}

std::uint64_t Lock::holder_id() const noexcept {
  const detail::GreenletCore* h = permits_.holder();
  return h != nullptr ? h->id() : 0;
}

void RLock::release() {
  if (!owned()) {
    throw std::logic_error("cogent::RLock::release: " + permits_.name() +
                           (locked() ? " is held by another greenlet" : " is not locked"));
  }
  permits_.give();
}

}  // namespace cogent
