// Multishot accept on io_uring: one standing request per listening descriptor hands every new
// connection to the greenlets waiting in accept(), or keeps it for the next caller. The standing
// request is dropped while too many connections wait unclaimed (the kernel's backlog then holds
// them, as it would without us) and after an error such as EMFILE, so a program that backs off
// is not woken again and again; the next accept() re-arms it.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cogent/detail/io_completion.hpp"

namespace cogent::detail {

class AcceptQueues;
class Backend;
class IoOperation;

class AcceptQueue final : private IoCompletion {
 public:
  AcceptQueue(AcceptQueues& owner, Backend& backend, int fd, int flags) noexcept
      : owner_(owner), backend_(backend), fd_(fd), flags_(flags) {}
  ~AcceptQueue();

  /// A connection accepted earlier, or -1.
  int take_ready() noexcept;
  /// Queues `op` for the next connection (or error), arming the standing request if needed.
  void wait(IoOperation& op);
  /// Takes `op` out of the queue; false if it was not waiting here.
  bool forget(IoOperation& op) noexcept;

  /// The descriptor is closing: cancel the standing request and close unclaimed connections.
  /// Returns true when the queue can be deleted now, false when it deletes itself on the
  /// request's last completion.
  bool retire() noexcept;
  /// Armed with nobody waiting: must not keep the hub from detecting a deadlock.
  bool idle() const noexcept { return armed_ && waiters_.empty(); }

 private:
  static constexpr std::size_t kMaxUnclaimed = 128;
  void complete(int result, std::uint32_t flags) noexcept override;
  void deliver(int result) noexcept;
  void arm() noexcept;

  AcceptQueues& owner_;
  Backend& backend_;
  int fd_;
  int flags_;
  bool armed_ = false;
  bool retired_ = false;
  bool accepted_once_ = false;
  std::deque<int> ready_;
  std::deque<IoOperation*> waiters_;
};

/// The hub's accept queues, one per listening descriptor that accept() was called on.
class AcceptQueues {
 public:
  explicit AcceptQueues(Backend& backend) noexcept : backend_(backend) {}
  ~AcceptQueues();
  AcceptQueue& of(int fd, int flags);
  AcceptQueue* find(int fd) noexcept;
  void close(int fd) noexcept;
  /// Standing requests nobody waits on (see AcceptQueue::idle).
  std::size_t idle() const noexcept;
  /// False once the kernel refused multishot accept.
  bool available() const noexcept { return available_; }
  void mark_unavailable() noexcept { available_ = false; }
  /// A retired queue's standing request ended: it can go.
  void reap(AcceptQueue* q) noexcept;

 private:
  Backend& backend_;
  bool available_ = true;
  std::unordered_map<int, std::unique_ptr<AcceptQueue>> queues_;
  std::vector<std::unique_ptr<AcceptQueue>> retiring_;
};

}  // namespace cogent::detail
