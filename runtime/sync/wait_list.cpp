#include <cstdio>
#include <string>

#include "cogent/detail/parked.hpp"

namespace cogent::detail {

void ParkedOperation::unlink() noexcept { list_->erase(*this); }

void ParkedOperation::park(WaitList& list) noexcept { list.push_back(*this); }

void ParkedOperation::cancel() noexcept {
  if (list_ != nullptr) list_->erase(*this);
  finish_interrupted();
}

WaitList::~WaitList() {
  // A primitive destroyed with waiters still parked: they can never be served. Unlinking them
  // keeps their own destruction safe; the hub reports them through LoopExit.
  while (head_ != nullptr) erase(*head_);
}

void WaitList::push_back(ParkedOperation& op) noexcept {
  op.list_ = this;
  op.next_ = nullptr;
  op.prev_ = tail_;
  if (tail_ != nullptr) {
    tail_->next_ = &op;
  } else {
    head_ = &op;
  }
  tail_ = &op;
  ++size_;
}

void WaitList::erase(ParkedOperation& op) noexcept {
  if (op.prev_ != nullptr) {
    op.prev_->next_ = op.next_;
  } else {
    head_ = op.next_;
  }
  if (op.next_ != nullptr) {
    op.next_->prev_ = op.prev_;
  } else {
    tail_ = op.prev_;
  }
  op.prev_ = op.next_ = nullptr;
  op.list_ = nullptr;
  --size_;
}

ParkedOperation* WaitList::pop_front() noexcept {
  ParkedOperation* op = head_;
  if (op != nullptr) erase(*op);
  return op;
}

void WaitList::finish_all() noexcept {
  while (ParkedOperation* op = pop_front()) op->serve();
}

std::size_t WaitList::finish_first(std::size_t n) noexcept {
  std::size_t done = 0;
  for (; done < n; ++done) {
    ParkedOperation* op = pop_front();
    if (op == nullptr) break;
    op->serve();
  }
  return done;
}

std::string primitive_name(const char* kind, const std::string& name, const void* address) {
  if (!name.empty()) return std::string(kind) + " " + name;
  char buf[32];
  std::snprintf(buf, sizeof buf, " %p", address);
  return kind + std::string(buf);
}

}  // namespace cogent::detail
