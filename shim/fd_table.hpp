// The program's descriptors as the shim sees them: what each one is — a socket or a pipe, whose
// blocking calls cooperate, or anything else (regular file, tty, device, eventfd...), whose calls
// pass straight through — and the program's own view of it: O_NONBLOCK as it set it, and its
// SO_RCVTIMEO / SO_SNDTIMEO. The creation calls the shim interposes (socket, socketpair, pipe,
// pipe2, accept, dup, fcntl F_DUPFD...) make entries; a descriptor made elsewhere (inherited,
// opened with open(), made inside libc) is classified with fstat on first use; close, dup2, dup3,
// close_range, closefrom and fclose forget entries.
//
// Flags and socket options belong to the open file description, which several descriptors may
// reach (dup, fork, inheritance). An entry whose description may be reached in a way the shim
// does not follow is marked `shared`: a call that would wait then asks the kernel (F_GETFL,
// SO_RCVTIMEO...) instead of trusting the entry. Duplicates, descriptors classified on first use
// and every descriptor after a fork are shared.
//
// Lock-free: any thread, and a signal handler, may read and update it (the entries are atomics,
// their storage is mmap'ed in chunks and never freed).
//
//   FdInfo info = fd_info(fd);                 // classifies an unknown descriptor
//   if (info.kind == FdKind::kSocket && !info.nonblocking) ...
#pragma once

#include <cstdint>

namespace cogent::shim {

enum class FdKind : std::uint8_t { kUnknown, kOther, kSocket, kPipe };

/// SO_RCVTIMEO / SO_SNDTIMEO as the kernel applies them, in nanoseconds.
inline constexpr std::int64_t kNoTimeout = 0;     // {0, 0}: wait for ever
inline constexpr std::int64_t kImmediately = -1;  // a negative tv_sec: the kernel never waits

struct FdInfo {
  FdKind kind = FdKind::kUnknown;
  std::uint8_t socket_type = 0;  // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET... (sockets)
  bool nonblocking = false;      // O_NONBLOCK, as the program set it (unless `shared`)
  bool shared = false;           // ask the kernel before relying on the flags and timeouts
  std::int64_t receive_timeout = kNoTimeout;  // unless `shared`
  std::int64_t send_timeout = kNoTimeout;
};

/// The entry of `fd`, classified with fstat first when unknown. A descriptor that is not open
/// (or negative) reads as kOther and is not remembered.
FdInfo fd_info(int fd) noexcept;

/// `fd` was just made by the program (socket, pipe, accept...): a fresh description.
void fd_created(int fd, FdKind kind, int socket_type, bool nonblocking) noexcept;
/// `to` was just made a duplicate of `from` (dup, dup2, dup3, F_DUPFD): both are now shared.
void fd_duplicated(int from, int to) noexcept;
/// `fd` is being closed: its entry is forgotten.
void fd_forget(int fd) noexcept;
/// Every descriptor in [first, last] is being closed.
void fd_forget_range(unsigned first, unsigned last) noexcept;

/// The program set or cleared O_NONBLOCK on `fd` (fcntl F_SETFL, ioctl FIONBIO).
void fd_set_nonblocking(int fd, bool nonblocking) noexcept;
/// The program set SO_RCVTIMEO (`receive`) or SO_SNDTIMEO on `fd`.
void fd_set_timeout(int fd, bool receive, std::int64_t timeout) noexcept;

/// The timeout a struct timeval given to SO_RCVTIMEO / SO_SNDTIMEO stands for, as the kernel
/// reads it (sock_set_timeout): negative seconds never wait, {0, 0} waits for ever.
std::int64_t timeout_of(std::int64_t seconds, std::int64_t microseconds) noexcept;

}  // namespace cogent::shim
