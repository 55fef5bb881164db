#include <atomic>
#include <string>

#include "cogent/error.hpp"
#include "cogent/greenlet.hpp"
#include "hub/scheduler.hpp"

namespace cogent::detail {
namespace {
std::atomic<std::uint64_t> next_greenlet_id{1};  // 0 is every thread's main greenlet
}

GreenletCore::GreenletCore(bool stackless) noexcept
    : id_(next_greenlet_id.fetch_add(1, std::memory_order_relaxed)), stackless_(stackless) {}

GreenletCore::~GreenletCore() = default;

void GreenletCore::request_kill() noexcept {
  if (dead()) return;
  Scheduler& s = current_scheduler();
  if (state_ == State::kNew) {
    // Never ran: it never will. It dies now, with GreenletExit as its outcome.
    discard_body();
    error_ = std::make_exception_ptr(GreenletExit());
    s.finalize(this);
    release();  // the hub's reference
    return;
  }
  kill_pending_ = true;
  if (blocked_on_ != nullptr && !blocked_on_->finished()) blocked_on_->cancel();
}

void GreenletCore::watch_death(DeathWatch& w) noexcept {
  w.prev = nullptr;
  w.next = watchers_;
  if (watchers_) watchers_->prev = &w;
  watchers_ = &w;
}

void GreenletCore::unwatch_death(DeathWatch& w) noexcept {
  if (w.prev) {
    w.prev->next = w.next;
  } else {
    watchers_ = w.next;
  }
  if (w.next) w.next->prev = w.prev;
  w.prev = w.next = nullptr;
}

void GreenletCore::add_link(std::function<void()> cb) {
  if (dead()) {
    current_scheduler().call_soon(std::move(cb));
    return;
  }
  if (!links_) links_ = std::make_unique<std::vector<std::function<void()>>>();
  links_->push_back(std::move(cb));
}

void JoinOperation::start() {
  if (target_.dead()) {
    finish();
    return;
  }
  target_.watch_death(*this);
  watching_ = true;
}

void JoinOperation::cancel() noexcept {
  if (watching_) {
    target_.unwatch_death(*this);
    watching_ = false;
  }
  finish_interrupted();
}

std::string JoinOperation::describe() const { return "greenlet " + std::to_string(target_.id()); }

void JoinOperation::on_death(GreenletCore&) noexcept {
  watching_ = false;
  finish();
}

JoinAllOperation::JoinAllOperation(std::vector<GreenletCore*> cores) : cores_(std::move(cores)) {
  watches_.resize(cores_.size());
  order_.reserve(cores_.size());
}

void JoinAllOperation::start() {
  for (std::size_t i = 0; i < cores_.size(); ++i) {
    if (cores_[i]->dead()) {
      order_.push_back(i);
      continue;
    }
    Watch& w = watches_[i];
    w.owner = this;
    w.index = i;
    w.active = true;
    cores_[i]->watch_death(w);
    ++pending_;
  }
  if (pending_ == 0) finish();
}

void JoinAllOperation::Watch::on_death(GreenletCore&) noexcept {
  active = false;
  owner->order_.push_back(index);
  if (--owner->pending_ == 0) owner->finish();
}

void JoinAllOperation::stop_watching() noexcept {
  for (std::size_t i = 0; i < watches_.size(); ++i) {
    if (watches_[i].active) {
      cores_[i]->unwatch_death(watches_[i]);
      watches_[i].active = false;
    }
  }
  pending_ = 0;
}

void JoinAllOperation::cancel() noexcept {
  stop_watching();
  finish_interrupted();
}

std::string JoinAllOperation::describe() const {
  std::string s = "all of " + std::to_string(pending_) + " greenlets (";
  std::size_t shown = 0;
  for (std::size_t i = 0; i < watches_.size() && shown < 8; ++i) {
    if (!watches_[i].active) continue;
    s += shown++ ? ", " : "";
    s += std::to_string(cores_[i]->id());
  }
  if (pending_ > shown) s += ", ...";
  return s + ")";
}

}  // namespace cogent::detail
