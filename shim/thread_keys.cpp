// pthread_key_* with a value per greenlet thread. Keys themselves are always real keys (so a key
// made anywhere, before the hub or on another OS thread, works everywhere and no two keys ever
// collide); the shim only remembers each key's destructor and generation, and keeps greenlet
// threads' values in their records. The main greenlet and other OS threads use the real values.
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>

#include "shim/cooperative.hpp"
#include "shim/real.hpp"
#include "shim/threads.hpp"

namespace cogent::shim {
namespace {

// A key's generation is odd while the key exists: +1 at create, +1 at delete (as in glibc).
struct KeySlot {
  std::atomic<std::uint64_t> seq{0};
  std::atomic<void (*)(void*)> destructor{nullptr};
};

KeySlot g_keys[PTHREAD_KEYS_MAX];

// pthread_key_create/delete may run on any OS thread: a real call and its bookkeeping go
// together, so that a key deleted and re-made elsewhere meanwhile cannot mix the two.
std::atomic_flag g_keys_busy = ATOMIC_FLAG_INIT;

class KeysLock {
 public:
  KeysLock() noexcept {
    while (g_keys_busy.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~KeysLock() { g_keys_busy.clear(std::memory_order_release); }
};

bool in_use(std::uint64_t seq) noexcept { return (seq & 1) != 0; }

}  // namespace

void run_key_destructors(ThreadRecord& record) {
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; ++round) {
    bool called = false;
    // By index: a destructor may set values, growing the vector.
    for (std::size_t k = 0; k < record.keys.size(); ++k) {
      const KeyValue v = record.keys[k];
      if (v.value == nullptr) continue;
      record.keys[k].value = nullptr;
      if (v.seq != g_keys[k].seq.load(std::memory_order_acquire)) continue;  // key deleted
      if (auto* destroy = g_keys[k].destructor.load(std::memory_order_acquire)) {
        destroy(v.value);
        called = true;
      }
    }
    if (!called) return;
  }
}

void run_main_key_destructors() {
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; ++round) {
    bool called = false;
    for (pthread_key_t k = 0; k < PTHREAD_KEYS_MAX; ++k) {
      if (!in_use(g_keys[k].seq.load(std::memory_order_acquire))) continue;
      auto* destroy = g_keys[k].destructor.load(std::memory_order_acquire);
      if (destroy == nullptr) continue;
      void* value = COGENT_REAL(pthread_getspecific)(k);
      if (value == nullptr) continue;
      COGENT_REAL(pthread_setspecific)(k, nullptr);
      destroy(value);
      called = true;
    }
    if (!called) return;
  }
}

}  // namespace cogent::shim

using cogent::shim::g_keys;
using cogent::shim::KeysLock;

extern "C" {

int pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) noexcept {
  if (!cogent::shim::green_threads()) return COGENT_REAL(pthread_key_create)(key, destructor);
  KeysLock lock;
  const int rc = COGENT_REAL(pthread_key_create)(key, destructor);
  if (rc == 0 && *key < PTHREAD_KEYS_MAX) {
    g_keys[*key].destructor.store(destructor, std::memory_order_release);
    auto& seq = g_keys[*key].seq;
    // Normally even (free) here; odd only if the key was made behind our back and then freed.
    seq.fetch_add(cogent::shim::in_use(seq.load()) ? 2 : 1, std::memory_order_acq_rel);
  }
  return rc;
}

int pthread_key_delete(pthread_key_t key) noexcept {
  if (!cogent::shim::green_threads()) return COGENT_REAL(pthread_key_delete)(key);
  KeysLock lock;
  const int rc = COGENT_REAL(pthread_key_delete)(key);
  if (rc == 0 && key < PTHREAD_KEYS_MAX && cogent::shim::in_use(g_keys[key].seq.load())) {
    g_keys[key].destructor.store(nullptr, std::memory_order_release);
    g_keys[key].seq.fetch_add(1, std::memory_order_acq_rel);
  }
  return rc;
}

void* pthread_getspecific(pthread_key_t key) noexcept {
  cogent::shim::ThreadRecord* r = cogent::shim::calling_thread_record();
  if (r == nullptr) return COGENT_REAL(pthread_getspecific)(key);
  if (key >= r->keys.size()) return nullptr;
  const cogent::shim::KeyValue v = r->keys[key];
  return v.seq == g_keys[key].seq.load(std::memory_order_acquire) ? v.value : nullptr;
}

int pthread_setspecific(pthread_key_t key, const void* value) noexcept {
  cogent::shim::ThreadRecord* r = cogent::shim::calling_thread_record();
  if (r == nullptr) return COGENT_REAL(pthread_setspecific)(key, value);
  if (key >= PTHREAD_KEYS_MAX) return EINVAL;
  const std::uint64_t seq = g_keys[key].seq.load(std::memory_order_acquire);
  if (!cogent::shim::in_use(seq)) return EINVAL;
  if (key >= r->keys.size()) {
    try {
      r->keys.resize(key + 1);
    } catch (const std::bad_alloc&) {
      return ENOMEM;
    }
  }
  r->keys[key] = {seq, const_cast<void*>(value)};
  return 0;
}

}  // extern "C"
