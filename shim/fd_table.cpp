// See fd_table.hpp.
#include "shim/fd_table.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <limits>

namespace cogent::shim {
namespace {

// One descriptor. `word` holds the kind and the flags; the timeouts are read only when the word
// says the entry is known and not shared, and are written before the word (release/acquire).
struct Slot {
  std::atomic<std::uint32_t> word;
  std::atomic<std::int64_t> receive_timeout;
  std::atomic<std::int64_t> send_timeout;
};

constexpr std::uint32_t kKindMask = 0x3;
constexpr unsigned kTypeShift = 2;  // four bits: SOCK_PACKET (10) is the largest type
constexpr std::uint32_t kTypeMask = 0xf << kTypeShift;
constexpr std::uint32_t kNonblocking = 1u << 6;
constexpr std::uint32_t kShared = 1u << 7;

// Descriptors up to 2^20 (the kernel's default fs.nr_open) have entries; larger ones are
// classified on every call, as shared.
constexpr std::size_t kChunkSlots = 1024;
constexpr std::size_t kChunks = 1024;

constinit std::atomic<Slot*> chunks[kChunks] = {};

std::uint32_t encode(FdKind kind, int socket_type, bool nonblocking, bool shared) noexcept {
  return static_cast<std::uint32_t>(kind) |
         ((static_cast<std::uint32_t>(socket_type) << kTypeShift) & kTypeMask) |
         (nonblocking ? kNonblocking : 0) | (shared ? kShared : 0);
}

FdKind kind_of(std::uint32_t word) noexcept { return static_cast<FdKind>(word & kKindMask); }

// The slot of `fd`, null when it has none; with `make`, its chunk is mapped if needed (mmap is
// async-signal-safe, malloc is not). Null when out of range or out of memory.
Slot* slot_of(int fd, bool make) noexcept {
  if (fd < 0) return nullptr;
  const auto index = static_cast<std::size_t>(fd);
  const std::size_t chunk = index / kChunkSlots;
  if (chunk >= kChunks) return nullptr;
  Slot* base = chunks[chunk].load(std::memory_order_acquire);
  if (base == nullptr) {
    if (!make) return nullptr;
    void* mem = ::mmap(nullptr, kChunkSlots * sizeof(Slot), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    auto* fresh = static_cast<Slot*>(mem);  // zero-filled: every slot unknown
    if (chunks[chunk].compare_exchange_strong(base, fresh, std::memory_order_acq_rel)) {
      base = fresh;
    } else {
      ::munmap(mem, kChunkSlots * sizeof(Slot));  // another thread mapped it first
    }
  }
  return base + index % kChunkSlots;
}

void store(Slot& s, std::uint32_t word, std::int64_t receive, std::int64_t send) noexcept {
  s.receive_timeout.store(receive, std::memory_order_relaxed);
  s.send_timeout.store(send, std::memory_order_relaxed);
  s.word.store(word, std::memory_order_release);
}

// What fstat and SO_TYPE say `fd` is. Its description comes from elsewhere: shared.
FdInfo classify(int fd) noexcept {
  FdInfo info;
  const int saved_errno = errno;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    errno = saved_errno;
    info.kind = FdKind::kOther;
    return info;
  }
  info.shared = true;
  if (S_ISSOCK(st.st_mode)) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0) {
      info.kind = FdKind::kSocket;
      info.socket_type = static_cast<std::uint8_t>(type);
    } else {
      info.kind = FdKind::kOther;
    }
  } else if (S_ISFIFO(st.st_mode)) {
    info.kind = FdKind::kPipe;
  } else {
    info.kind = FdKind::kOther;
  }
  errno = saved_errno;
  return info;
}

// Every known entry, in both processes after fork(): the other process may now change the
// descriptions behind them.
void mark_all_shared() noexcept {
  for (auto& chunk : chunks) {
    Slot* base = chunk.load(std::memory_order_acquire);
    if (base == nullptr) continue;
    for (std::size_t i = 0; i < kChunkSlots; ++i) {
      if (kind_of(base[i].word.load(std::memory_order_relaxed)) != FdKind::kUnknown) {
        base[i].word.fetch_or(kShared, std::memory_order_relaxed);
      }
    }
  }
}

[[gnu::constructor]] void watch_forks() {
  ::pthread_atfork(nullptr, mark_all_shared, mark_all_shared);
}

}  // namespace

FdInfo fd_info(int fd) noexcept {
  Slot* s = slot_of(fd, false);
  const std::uint32_t word = s != nullptr ? s->word.load(std::memory_order_acquire) : 0;
  if (kind_of(word) == FdKind::kUnknown) {
    const FdInfo info = classify(fd);
    // A descriptor that is not open is not remembered: it may be opened by a call not seen here.
    if (info.kind == FdKind::kOther && !info.shared) return info;
    if (Slot* made = s != nullptr ? s : slot_of(fd, true)) {
      store(*made, encode(info.kind, info.socket_type, false, true), kNoTimeout, kNoTimeout);
    }
    return info;
  }
  FdInfo info;
  info.kind = kind_of(word);
  info.socket_type = static_cast<std::uint8_t>((word & kTypeMask) >> kTypeShift);
  info.nonblocking = (word & kNonblocking) != 0;
  info.shared = (word & kShared) != 0;
  info.receive_timeout = s->receive_timeout.load(std::memory_order_relaxed);
  info.send_timeout = s->send_timeout.load(std::memory_order_relaxed);
  return info;
}

void fd_created(int fd, FdKind kind, int socket_type, bool nonblocking) noexcept {
  if (Slot* s = slot_of(fd, true)) {
    store(*s, encode(kind, socket_type, nonblocking, false), kNoTimeout, kNoTimeout);
  }
}

void fd_duplicated(int from, int to) noexcept {
  Slot* source = slot_of(from, false);
  Slot* target = slot_of(to, true);
  if (target == nullptr) return;
  std::uint32_t word = source != nullptr ? source->word.load(std::memory_order_acquire) : 0;
  if (kind_of(word) == FdKind::kUnknown) {
    target->word.store(0, std::memory_order_release);  // classified on first use, as shared
    return;
  }
  source->word.fetch_or(kShared, std::memory_order_relaxed);
  store(*target, word | kShared, source->receive_timeout.load(std::memory_order_relaxed),
        source->send_timeout.load(std::memory_order_relaxed));
}

void fd_forget(int fd) noexcept {
  if (Slot* s = slot_of(fd, false)) s->word.store(0, std::memory_order_release);
}

void fd_forget_range(unsigned first, unsigned last) noexcept {
  const std::size_t end = std::min<std::size_t>(std::size_t{last} + 1, kChunks * kChunkSlots);
  for (std::size_t fd = first; fd < end;) {
    Slot* base = chunks[fd / kChunkSlots].load(std::memory_order_acquire);
    const std::size_t chunk_end = std::min(end, (fd / kChunkSlots + 1) * kChunkSlots);
    if (base != nullptr) {
      for (std::size_t i = fd; i < chunk_end; ++i) {
        base[i % kChunkSlots].word.store(0, std::memory_order_release);
      }
    }
    fd = chunk_end;
  }
}

void fd_set_nonblocking(int fd, bool nonblocking) noexcept {
  Slot* s = slot_of(fd, false);
  if (s == nullptr) return;
  if (nonblocking) {
    s->word.fetch_or(kNonblocking, std::memory_order_release);
  } else {
    s->word.fetch_and(~kNonblocking, std::memory_order_release);
  }
}

void fd_set_timeout(int fd, bool receive, std::int64_t timeout) noexcept {
  Slot* s = slot_of(fd, false);
  if (s == nullptr) return;
  (receive ? s->receive_timeout : s->send_timeout).store(timeout, std::memory_order_relaxed);
}

std::int64_t timeout_of(std::int64_t seconds, std::int64_t microseconds) noexcept {
  if (seconds < 0) return kImmediately;
  if (seconds == 0 && microseconds == 0) return kNoTimeout;
  constexpr std::int64_t kNanos = 1'000'000'000;
  // Beyond what nanoseconds hold the kernel's timeout is centuries: for ever, in practice.
  if (seconds >= std::numeric_limits<std::int64_t>::max() / kNanos - 1) return kNoTimeout;
  return seconds * kNanos + microseconds * 1000;
}

}  // namespace cogent::shim
