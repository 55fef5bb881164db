// The hub: one per OS thread, created on first use. It owns the thread's event loop (io_uring or
// epoll), its timers and its ready queue, and runs in a greenlet of its own; the thread's original
// stack is the main greenlet, so blocking-style calls work straight from main().
//
//   cogent::Hub& hub = cogent::Hub::current();
//   std::thread([&] { hub.post([] { /* runs on hub's thread */ }); }).join();
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace cogent {
namespace detail {
class Scheduler;
}

/// How a hub is built. Empty fields take their defaults (and the COGENT_* environment).
struct HubOptions {
  /// "uring", "epoll", or empty for the default (COGENT_BACKEND, else io_uring when allowed).
  std::string_view backend = {};
};

class Hub {
 public:
  /// This thread's hub, created on first use.
  static Hub& current();
  /// Creates this thread's hub with `options`; std::logic_error if the thread already has one.
  static Hub& create(const HubOptions& options);
  /// This thread's hub if it exists already, else null.
  static Hub* existing() noexcept;

  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;
  ~Hub();

  /// "uring" or "epoll".
  std::string_view backend_name() const noexcept;
  /// Runs `fn` in this hub's loop on a coming turn. Thread-safe: the way other OS threads hand
  /// work to this hub. `fn` runs inside the hub, so it must not block (spawn a greenlet for that).
  void post(std::function<void()> fn);

  /// Greenlets and tasks spawned on this hub that have not finished yet.
  std::size_t live_greenlets() const noexcept;
  /// Greenlet stacks currently handed out (a leak check: 0 once every greenlet finished).
  std::size_t live_stacks() const noexcept;

  detail::Scheduler& scheduler() noexcept { return *scheduler_; }

 private:
  explicit Hub(const HubOptions& options);
  std::unique_ptr<detail::Scheduler> scheduler_;
};

}  // namespace cogent
