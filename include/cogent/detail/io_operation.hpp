// One socket or file operation with both faces, shared by cogent::net and cogent::fs. Not part of
// the public API.
//
// The fast path comes first: the call is tried without blocking, and only on EAGAIN does the
// caller suspend. On io_uring the operation is then submitted to the ring (the kernel retries it
// when the descriptor is ready; one submission per loop turn carries every pending one); on epoll
// the hub waits for readiness and retries the call itself. "Exact" operations (read_exact,
// write_all) keep going in the hub until the whole buffer is done, so a task pays for one
// suspension however many partial transfers it takes.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/core.hpp"
#include "cogent/detail/io_completion.hpp"

namespace cogent::detail {

enum class IoKind : std::uint8_t {
  kRecv,      // buf, len, flags (MSG_*)
  kSend,      // buf, len, flags (MSG_NOSIGNAL is always added)
  kRead,      // buf, len, offset (-1: the file position)
  kWrite,     // buf, len, offset
  kRecvv,     // socket: buf = iovec*, len = count (recvmsg)
  kSendv,     // socket: buf = iovec*, len = count (sendmsg, MSG_NOSIGNAL: never SIGPIPE)
  kRecvFrom,  // buf = msghdr*
  kSendTo,    // buf = msghdr*
  kAccept,    // buf = sockaddr*, addrlen, flags (SOCK_*)
  kConnect,   // buf = const sockaddr*, len = its length
  kFsync,     // flags: 0, or IORING_FSYNC_DATASYNC semantics when 1
  kOpenAt,    // buf = const char* path (relative to the working directory), flags, len = mode
  kAcceptMultishot,  // io_uring only: one request, a completion per connection; flags (SOCK_*)
};

struct IoRequest {
  IoKind kind;
  int fd;
  int flags = 0;
  void* buf = nullptr;
  std::size_t len = 0;
  std::int64_t offset = -1;
  socklen_t* addrlen = nullptr;
};

/// How a request starts. Trying the call at once costs a syscall, which is wasted when it would
/// block; on io_uring the ring can run it instead, inside the one io_uring_enter of the loop turn.
enum class IoStart : std::uint8_t {
  kTryFirst,     // try now on both backends (connect, accept, datagrams)
  kSubmitFirst,  // hand to the backend at once (regular files on io_uring)
  kRingFirst,    // io_uring: submit at once; epoll: try now (sends, which rarely block)
  kAdaptive,     // if this socket's last call had to wait: io_uring submits, epoll waits for
                 // readiness at once; otherwise try now (reads)
};

class IoOperation : public Operation, private IoCompletion {
 public:
  /// `api` names the call for errors and LoopExit reports ("recv", "accept"). `exact`: repeat
  /// until `len` bytes moved (or end of stream for reads).
  /// `waited_hint` (kAdaptive): the socket's memory of whether its last call had to wait.
  IoOperation(const char* api, const IoRequest& request, IoStart how, bool exact = false,
              bool* waited_hint = nullptr) noexcept
      : request_(request),
        total_(request.len),
        api_(api),
        waited_hint_(waited_hint),
        how_(how),
        exact_(exact) {}
  ~IoOperation();

  bool ready_now();
  void start() override;
  void cancel() noexcept override;
  std::string describe() const override;

  /// outcome() when the call's own deadline interrupted it.
  static constexpr long kDeadlinePassed = -(1L << 40);

  /// The outcome: bytes moved / the new descriptor / 0, or -errno; kDeadlinePassed when the
  /// call's own deadline interrupted it, -EBADF when its descriptor was closed under it.
  long outcome(WakeReason why) const noexcept;
  /// The bytes asked for (what an exact operation must move).
  std::size_t total() const noexcept { return total_; }
  /// Bytes moved so far by an exact operation (what a timeout or error left done).
  std::size_t done() const noexcept { return done_; }
  const char* api() const noexcept { return api_; }
  int fd() const noexcept { return request_.fd; }

  /// The descriptor is being closed: end with EBADF.
  void fail_closed() noexcept;

 private:
  friend class FdWaiters;
  friend class AcceptQueue;
  void complete(int result, std::uint32_t flags) noexcept override;
  /// Applies a result of the syscall or the kernel; false when the operation must go on.
  bool absorb(long result) noexcept;
  /// Runs the call (or collects connect's result) until it completes or would block.
  bool attempt() noexcept;
  /// io_uring accept: a connection the listener's multishot request already brought in.
  bool take_accepted() noexcept;
  void arm();
  void end() noexcept;

  IoRequest request_;
  std::size_t total_;
  const char* api_;
  bool* waited_hint_;
  IoStart how_;
  bool exact_;
  bool polling_ = false;          // waiting for readiness (epoll, or connect on either backend)
  bool connecting_ = false;       // connect said EINPROGRESS: readiness means "look at SO_ERROR"
  bool force_poll_ = false;       // the ring answered EAGAIN: fall back to readiness
  bool in_flight_ = false;        // the backend holds us
  bool cancelling_ = false;       // cancel() asked the backend: a partial completion ends us
  bool in_accept_queue_ = false;  // io_uring accept: waiting on the listener's multishot request
  bool closed_ = false;
  long result_ = 0;
  std::size_t done_ = 0;
  msghdr vector_msg_{};             // kRecvv/kSendv handed to the ring as recvmsg/sendmsg
  IoOperation* fd_prev_ = nullptr;  // the hub's per-descriptor list of waiters
  IoOperation* fd_next_ = nullptr;
  bool registered_ = false;
};

/// An IoOperation whose result is `Outcome::take(op, outcome)`: one class, both faces.
template <class Outcome>
class IoOp final : public IoOperation {
 public:
  using IoOperation::IoOperation;
  decltype(auto) result(WakeReason why) { return Outcome::take(*this, outcome(why)); }
};

/// Bytes moved (or a descriptor) as a size; errors thrown.
struct CountOutcome {
  static std::size_t take(const IoOperation& op, long outcome);
};
/// Every byte moved, or EndOfStream.
struct ExactOutcome {
  static void take(const IoOperation& op, long outcome);
};
/// Success or an exception (connect, fsync).
struct DoneOutcome {
  static void take(const IoOperation& op, long outcome);
};

template <class Outcome>
using IoAwaiter = OperationAwaiter<IoOp<Outcome>>;

/// The blocking face: runs `r` in the calling greenlet.
template <class Outcome>
decltype(auto) io_blocking(const char* api, const IoRequest& r, IoStart how, bool exact = false,
                           TimePoint deadline = TimePoint::max(), bool* waited_hint = nullptr) {
  return run_blocking<IoOp<Outcome>>(api, deadline, api, r, how, exact, waited_hint);
}

/// The awaitable face: `co_await io_async<...>(...)` in a task.
template <class Outcome>
IoAwaiter<Outcome> io_async(const char* api, const IoRequest& r, IoStart how, bool exact = false,
                            TimePoint deadline = TimePoint::max(), bool* waited_hint = nullptr) {
  return IoAwaiter<Outcome>(deadline, api, r, how, exact, waited_hint);
}

/// Performs `r` now without blocking: >= 0, or -errno (-EAGAIN when it would block).
long perform_now(const IoRequest& r) noexcept;

/// Closes `fd` after failing every operation of this hub still waiting on it with EBADF.
/// Returns ::close's result (0 or -errno).
int close_fd(int fd) noexcept;

/// Throws what a negative outcome means: TimeoutError for kDeadlinePassed, std::system_error
/// for the rest.
[[noreturn]] void throw_io_error(const IoOperation& op, long outcome);

}  // namespace cogent::detail
