#include "shim/cooperative.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "cogent/detail/core.hpp"
#include "cogent/hub.hpp"

namespace cogent::shim {
namespace {

// initial-exec: read on every interposed call; the preload library is loaded at start-up, so its
// thread-locals live in the static TLS block.
[[gnu::tls_model("initial-exec")]] thread_local int tls_depth = 0;

enum class Role : unsigned char { kUnknown, kHub, kOther };
[[gnu::tls_model("initial-exec")]] thread_local Role tls_role = Role::kUnknown;
// The hub has existed on this thread: once it is gone again the thread is ending (its
// thread-locals are being destroyed) and no new hub may be made.
[[gnu::tls_model("initial-exec")]] thread_local bool tls_hub_seen = false;

std::atomic<pid_t> hub_thread{0};

bool on_hub_thread() noexcept {
  if (tls_role == Role::kUnknown) [[unlikely]] {
    const auto self = static_cast<pid_t>(::syscall(SYS_gettid));
    pid_t expected = 0;
    const bool claimed = hub_thread.compare_exchange_strong(expected, self);
    tls_role = claimed || expected == self ? Role::kHub : Role::kOther;
  }
  return tls_role == Role::kHub;
}

bool read_green_threads() noexcept {
  const char* mode = std::getenv("COGENT_THREADS");
  return mode == nullptr || std::strcmp(mode, "native") != 0;
}

}  // namespace

bool green_threads() noexcept {
  static const bool green = read_green_threads();
  return green;
}

bool cooperative() noexcept {
  if (tls_depth != 0 || !green_threads() || !on_hub_thread()) return false;
  // No hub yet: the main greenlet, whose first cooperative call makes it. Or no hub any more:
  // the thread is ending, and must not get a new one.
  if (Hub::existing() == nullptr) return !tls_hub_seen;
  // Null inside the hub fiber (link callbacks, posted functions); a C++20 task cannot block.
  const detail::GreenletCore* core = detail::current_core();
  return core != nullptr && !core->stackless();
}

RuntimeScope::RuntimeScope() noexcept : saved_depth_(tls_depth) { tls_depth = saved_depth_ + 1; }

RuntimeScope::~RuntimeScope() {
  tls_depth = saved_depth_;
  // The runtime code just run may have made this thread's hub.
  if (!tls_hub_seen && Hub::existing() != nullptr) tls_hub_seen = true;
}

bool inside_runtime() noexcept { return tls_depth != 0; }

int enter_program() noexcept {
  const int saved = tls_depth;
  tls_depth = 0;
  return saved;
}

void leave_program(int saved_depth) noexcept { tls_depth = saved_depth; }

}  // namespace cogent::shim
