#include "cogent/detail/local_storage.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cogent/hub.hpp"
#include "hub/scheduler.hpp"

namespace cogent::detail {

/// One greenlet's values in creation order. A handful at most, so lookups are linear.
class LocalStorage {
 public:
  struct Entry {
    std::uint64_t key;
    void* value;
    LocalDeleter destroy;
  };

  void* find(std::uint64_t key) const noexcept {
    const auto it = locate(key);
    return it != entries_.end() ? it->value : nullptr;
  }

  void add(std::uint64_t key, void* value, LocalDeleter destroy) {
    try {
      entries_.push_back({key, value, destroy});
    } catch (...) {
      destroy(value);
      throw;
    }
  }

  void erase(std::uint64_t key) noexcept {
    const auto it = locate(key);
    if (it == entries_.end()) return;
    const Entry e = *it;
    // Out of the list before its destructor runs, which may look locals up.
    entries_.erase(it);
    e.destroy(e.value);
  }

  void destroy_all() noexcept {
    closing_ = true;
    while (!entries_.empty()) {
      const Entry e = entries_.back();
      entries_.pop_back();
      e.destroy(e.value);
    }
  }

  /// Its values are being destroyed: none may be made any more.
  bool closing() const noexcept { return closing_; }

 private:
  std::vector<Entry>::const_iterator locate(std::uint64_t key) const noexcept {
    return std::find_if(entries_.begin(), entries_.end(),
                        [key](const Entry& e) { return e.key == key; });
  }

  std::vector<Entry> entries_;
  bool closing_ = false;
};

namespace {

std::atomic<std::uint64_t> next_key{1};

// The greenlet whose values this thread is destroying. A task dies on the hub's stack, where no
// greenlet is current, and a main greenlet's values may outlive the hub's hold on the thread; this
// points their value destructors back at their own greenlet's remaining values. (A stackful
// greenlet dies on its own stack, still current.)
thread_local GreenletCore* tls_closing = nullptr;

[[noreturn]] void throw_in_hub(const char* api) {
  throw std::logic_error(std::string(api) +
                         ": called inside the hub (a link callback or a posted function), where "
                         "no greenlet or task runs; local values belong to greenlets and tasks");
}

// The greenlet or task whose values `api` reaches; null on a thread without a hub (whose main
// greenlet has made no value yet).
GreenletCore* owner(const char* api) {
  if (GreenletCore* c = current_core()) return c;
  if (tls_closing != nullptr) return tls_closing;
  if (Hub::existing() != nullptr) throw_in_hub(api);
  return nullptr;
}

}  // namespace

std::uint64_t new_local_key() noexcept { return next_key.fetch_add(1, std::memory_order_relaxed); }

void* find_local(std::uint64_t key, const char* api) {
  GreenletCore* c = owner(api);
  return c != nullptr && c->locals != nullptr ? c->locals->find(key) : nullptr;
}

void* get_local(std::uint64_t key, const char* api, LocalMaker make, const void* self,
                LocalDeleter destroy) {
  GreenletCore* c = owner(api);
  if (c == nullptr) {
    c = current_scheduler().current();  // creates this thread's hub: we are its main greenlet
    if (c == nullptr) throw_in_hub(api);
  }
  if (c->locals != nullptr) {
    if (void* value = c->locals->find(key)) return value;
    if (c->locals->closing()) {
      throw std::logic_error(std::string(api) +
                             ": this greenlet's local values are being destroyed; one already "
                             "destroyed is not made again");
    }
  }
  void* value = make(self);
  // make() may have made other locals of this greenlet, and with them its storage.
  if (c->locals == nullptr) {
    try {
      c->locals = new LocalStorage;
    } catch (...) {
      destroy(value);
      throw;
    }
  }
  c->locals->add(key, value, destroy);
  return value;
}

void reset_local(std::uint64_t key, const char* api) {
  GreenletCore* c = owner(api);
  if (c != nullptr && c->locals != nullptr) c->locals->erase(key);
}

void destroy_locals(GreenletCore& core) noexcept {
  LocalStorage* storage = core.locals;
  if (storage == nullptr) return;
  GreenletCore* outer = std::exchange(tls_closing, &core);
  storage->destroy_all();
  tls_closing = outer;
  core.locals = nullptr;
  delete storage;
}

}  // namespace cogent::detail
