// raw_uring_echo: the peer for cogent's echo servers, a TCP echo server written directly on
// liburing the way one would without a framework. One thread, one ring.
//
//   raw_uring_echo [--host 127.0.0.1] [--port N]    (N = 0: any free port)
//
// Prints `listening on N` once it listens. Each connection owns one buffer and has exactly one
// request in flight: a recv, then a send of what it received (resubmitted until all of it is
// sent), then a recv again. One io_uring_submit_and_wait per loop turn. SIGINT or SIGTERM (read
// from a signalfd through the ring) ends it with status 0.

#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "echo_peer_options.hpp"

namespace {

constexpr unsigned kRingEntries = 4096;
constexpr std::size_t kBufferSize = 64 * 1024;

// user_data: the descriptor in the high bits, the operation in the low byte. Each connection has
// at most one request in flight and is closed only when its request completes, so a completion
// never finds its descriptor reused.
enum Op : std::uint64_t { kAccept, kSignal, kRecv, kSend };

std::uint64_t tag(int fd, Op op) { return (static_cast<std::uint64_t>(fd) << 8) | op; }
int tag_fd(std::uint64_t user_data) { return static_cast<int>(user_data >> 8); }
Op tag_op(std::uint64_t user_data) { return static_cast<Op>(user_data & 0xff); }

struct Connection {
  int fd = -1;
  std::size_t length = 0;  // bytes received, being sent back
  std::size_t sent = 0;
  unsigned char buffer[kBufferSize];
};

class EchoServer {
 public:
  ~EchoServer() {
    for (auto& c : connections_) {
      if (c) ::close(c->fd);
    }
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (ring_ready_) io_uring_queue_exit(&ring_);
  }

  int run(const char* host, int port) {
    if (!setup_ring() || !setup_signals() || !setup_listener(host, port)) return 1;
    arm_signal();
    arm_accept();
    while (!stopping_) {
      const int rc = io_uring_submit_and_wait(&ring_, 1);
      if (rc < 0 && rc != -EINTR) {
        fail("io_uring_submit_and_wait", -rc);
        return 1;
      }
      io_uring_cqe* cqe;
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        on_completion(cqe->user_data, cqe->res, cqe->flags);
      }
      io_uring_cq_advance(&ring_, seen);
    }
    return 0;
  }

 private:
  static bool fail(const char* call, int err) {
    std::fprintf(stderr, "raw_uring_echo: %s: %s\n", call, std::strerror(err));
    return false;
  }

  bool setup_ring() {
    // Strongest setup first. EINVAL means "flag unknown to this kernel"; anything else is final.
    static constexpr unsigned kFlagSets[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,  // 6.1
        IORING_SETUP_COOP_TASKRUN,                                // 5.19
        0,
    };
    int rc = -EINVAL;
    for (unsigned flags : kFlagSets) {
      io_uring_params p{};
      p.flags = flags;
      rc = io_uring_queue_init_params(kRingEntries, &ring_, &p);
      if (rc != -EINVAL) break;
    }
    if (rc < 0) return fail("io_uring_queue_init_params", -rc);
    ring_ready_ = true;
    return true;
  }

  bool setup_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return fail("sigprocmask", errno);
    signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC);
    if (signal_fd_ < 0) return fail("signalfd", errno);
    return true;
  }

  bool setup_listener(const char* host, int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host, &address.sin_addr) != 1) return fail(host, EINVAL);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return fail("socket", errno);
    const int one = 1;
    if (::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      return fail("setsockopt(SO_REUSEADDR)", errno);
    }
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      return fail("bind", errno);
    }
    if (::listen(listen_fd_, SOMAXCONN) != 0) return fail("listen", errno);
    socklen_t length = sizeof address;
    if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return fail("getsockname", errno);
    }
    std::printf("listening on %d\n", ntohs(address.sin_port));
    std::fflush(stdout);
    return true;
  }

  // The SQ holds kRingEntries; with more connections than that a turn can run out of entries,
  // and then what is queued goes to the kernel first.
  io_uring_sqe* get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    if (sqe == nullptr) {
      fail("io_uring_get_sqe", EBUSY);
      std::abort();
    }
    return sqe;
  }

  void arm_signal() {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_read(sqe, signal_fd_, &signal_info_, sizeof signal_info_, 0);
    io_uring_sqe_set_data64(sqe, tag(signal_fd_, kSignal));
  }

  void arm_accept() {
    io_uring_sqe* sqe = get_sqe();
    if (multishot_accept_) {
      io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    } else {
      io_uring_prep_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }
    io_uring_sqe_set_data64(sqe, tag(listen_fd_, kAccept));
  }

  void arm_recv(Connection& c) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_recv(sqe, c.fd, c.buffer, kBufferSize, 0);
    io_uring_sqe_set_data64(sqe, tag(c.fd, kRecv));
  }

  void arm_send(Connection& c) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_send(sqe, c.fd, c.buffer + c.sent, c.length - c.sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, tag(c.fd, kSend));
  }

  void on_completion(std::uint64_t user_data, int res, unsigned flags) {
    const int fd = tag_fd(user_data);
    switch (tag_op(user_data)) {
      case kSignal:
        stopping_ = true;
        break;
      case kAccept:
        on_accept(res, flags);
        break;
      case kRecv:
        on_recv(*connections_[fd], res);
        break;
      case kSend:
        on_send(*connections_[fd], res);
        break;
    }
  }

  void on_accept(int res, unsigned flags) {
    if (res == -EINVAL && multishot_accept_) {
      multishot_accept_ = false;  // before 5.19: no multishot accept
      return arm_accept();
    }
    // A multishot accept ends (no IORING_CQE_F_MORE) on errors and when the kernel gives up on
    // it, e.g. on overflow of the completion queue: arm it again.
    if (!multishot_accept_ || !(flags & IORING_CQE_F_MORE)) arm_accept();
    if (res < 0) {
      // The peer may reset a connection still in the accept queue; running out of descriptors
      // is worth a line, not an exit.
      if (res != -ECONNABORTED && res != -EINTR) fail("accept", -res);
      return;
    }
    const int one = 1;
    ::setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (static_cast<std::size_t>(res) >= connections_.size()) connections_.resize(res + 1024);
    auto c = std::make_unique_for_overwrite<Connection>();  // the buffer needs no zeroing
    c->fd = res;
    arm_recv(*c);
    connections_[res] = std::move(c);
  }

  void on_recv(Connection& c, int res) {
    if (res == -EINTR || res == -EAGAIN) return arm_recv(c);
    if (res <= 0) return close_connection(c);  // EOF, or the connection failed
    c.length = static_cast<std::size_t>(res);
    c.sent = 0;
    arm_send(c);
  }

  void on_send(Connection& c, int res) {
    if (res == -EINTR || res == -EAGAIN) return arm_send(c);
    if (res < 0) return close_connection(c);
    c.sent += static_cast<std::size_t>(res);
    if (c.sent < c.length) return arm_send(c);  // a short send: the rest, from where it stopped
    arm_recv(c);
  }

  void close_connection(Connection& c) {
    const int fd = c.fd;
    ::close(fd);
    connections_[fd].reset();
  }

  io_uring ring_{};
  bool ring_ready_ = false;
  bool multishot_accept_ = true;
  bool stopping_ = false;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
  signalfd_siginfo signal_info_{};
  std::vector<std::unique_ptr<Connection>> connections_;  // by descriptor
};

}  // namespace

int main(int argc, char** argv) {
  const echo_peer::Options options = echo_peer::parse_options("raw_uring_echo", argc, argv);
  echo_peer::raise_fd_limit();
  EchoServer server;
  return server.run(options.host.c_str(), options.port);
}
