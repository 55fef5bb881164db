#include "cogent/hub.hpp"

#include <memory>
#include <stdexcept>

#include "hub/scheduler.hpp"

namespace cogent {
namespace {

// initial-exec: the hub is looked up on every switch; the default TLS model of a shared library
// costs a __tls_get_addr call each time.
[[gnu::tls_model("initial-exec")]] thread_local detail::Scheduler* tls_scheduler = nullptr;

struct HubHolder {
  std::unique_ptr<Hub> hub;
  ~HubHolder() {
    if (hub == nullptr) return;
    // Leftover greenlets still run while the hub winds down, so everything must be intact.
    detail::Scheduler& scheduler = hub->scheduler();
    scheduler.shutdown();
    tls_scheduler = nullptr;
    // The thread is ending from inside a greenlet (exit() called by one) or the hub's own fiber:
    // this runs on one of the stacks the scheduler would unmap. The hub goes with the process.
    if (scheduler.current() != scheduler.main_core()) {
      static_cast<void>(hub.release());
      return;
    }
    hub.reset();
  }
};
thread_local HubHolder tls_hub;

}  // namespace

Hub::Hub(const HubOptions& options)
    : scheduler_(std::make_unique<detail::Scheduler>(options.backend)) {}
Hub::~Hub() = default;

Hub& Hub::create(const HubOptions& options) {
  if (tls_hub.hub != nullptr) throw std::logic_error("cogent::Hub::create: this thread has a hub");
  tls_hub.hub.reset(new Hub(options));
  tls_scheduler = tls_hub.hub->scheduler_.get();
  return *tls_hub.hub;
}

Hub& Hub::current() {
  if (tls_hub.hub == nullptr) [[unlikely]] {
    return create(HubOptions{});
  }
  return *tls_hub.hub;
}

Hub* Hub::existing() noexcept { return tls_scheduler ? tls_hub.hub.get() : nullptr; }

std::string_view Hub::backend_name() const noexcept { return scheduler_->backend().name(); }
void Hub::post(std::function<void()> fn) { scheduler_->post(std::move(fn)); }
std::size_t Hub::live_greenlets() const noexcept { return scheduler_->live().size(); }
std::size_t Hub::live_stacks() const noexcept { return scheduler_->live_stacks(); }

namespace detail {

Scheduler& current_scheduler() {
  if (tls_scheduler != nullptr) [[likely]] {
    return *tls_scheduler;
  }
  return Hub::current().scheduler();
}

GreenletCore* current_core() noexcept { return tls_scheduler ? tls_scheduler->current() : nullptr; }

GreenletCore* running_core() { return current_scheduler().current(); }

void start_core(GreenletCore* core, TimePoint when) { current_scheduler().start(core, when); }
void switch_to_hub() { current_scheduler().switch_to_hub(); }
void call_soon(std::function<void()> fn) { current_scheduler().call_soon(std::move(fn)); }

}  // namespace detail
}  // namespace cogent
