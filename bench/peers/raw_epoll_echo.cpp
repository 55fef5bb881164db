// raw_epoll_echo: the peer for cogent's echo servers, a TCP echo server written directly on
// epoll the way one would without a framework. One thread, level-triggered, nonblocking sockets.
//
//   raw_epoll_echo [--host 127.0.0.1] [--port N]    (N = 0: any free port)
//
// Prints `listening on N` once it listens. A readable connection is read and each chunk written
// straight back; when a write comes up short the rest waits in the connection's buffer, the
// connection waits for EPOLLOUT instead of EPOLLIN, and reading resumes once it is sent. SIGINT or
// SIGTERM (through a signalfd in the epoll set) ends it with status 0.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
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

constexpr std::size_t kBufferSize = 64 * 1024;
constexpr int kMaxEvents = 1024;

struct Connection {
  int fd = -1;
  std::size_t length = 0;  // bytes read, being written back
  std::size_t sent = 0;
  bool waiting = false;  // for EPOLLOUT, instead of EPOLLIN: a write came up short
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
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }

  int run(const char* host, int port) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
      fail("epoll_create1", errno);
      return 1;
    }
    if (!setup_signals() || !setup_listener(host, port)) return 1;
    epoll_event events[kMaxEvents];
    for (;;) {
      const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("epoll_wait", errno);
        return 1;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == signal_fd_) return 0;
        if (fd == listen_fd_) {
          accept_all();
          continue;
        }
        Connection& c = *connections_[fd];
        if (c.waiting) {
          write_back(c);
        } else {
          read_and_echo(c);
        }
      }
    }
  }

 private:
  static bool fail(const char* call, int err) {
    std::fprintf(stderr, "raw_epoll_echo: %s: %s\n", call, std::strerror(err));
    return false;
  }

  bool watch(int op, int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, op, fd, &ev) == 0) return true;
    fail("epoll_ctl", errno);
    return false;
  }

  bool setup_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return fail("sigprocmask", errno);
    signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC);
    if (signal_fd_ < 0) return fail("signalfd", errno);
    return watch(EPOLL_CTL_ADD, signal_fd_, EPOLLIN);
  }

  bool setup_listener(const char* host, int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host, &address.sin_addr) != 1) return fail(host, EINVAL);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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
    if (!watch(EPOLL_CTL_ADD, listen_fd_, EPOLLIN)) return false;
    std::printf("listening on %d\n", ntohs(address.sin_port));
    std::fflush(stdout);
    return true;
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        // EAGAIN: the queue is empty. ECONNABORTED: the peer reset a queued connection. Anything
        // else (EMFILE...) is worth a line; level-triggered, the listener is reported again.
        if (errno == ECONNABORTED || errno == EINTR) continue;
        if (errno != EAGAIN) fail("accept4", errno);
        return;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (!watch(EPOLL_CTL_ADD, fd, EPOLLIN)) {
        ::close(fd);
        continue;
      }
      if (static_cast<std::size_t>(fd) >= connections_.size()) connections_.resize(fd + 1024);
      auto c = std::make_unique_for_overwrite<Connection>();  // the buffer needs no zeroing
      c->fd = fd;
      connections_[fd] = std::move(c);
    }
  }

  void read_and_echo(Connection& c) {
    for (;;) {
      const ssize_t n = ::read(c.fd, c.buffer, kBufferSize);
      if (n == 0) return close_connection(c);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) close_connection(c);
        return;
      }
      c.length = static_cast<std::size_t>(n);
      c.sent = 0;
      if (!write_back(c)) return;  // closed, or waiting for EPOLLOUT
      // Level-triggered: a short read means the socket was drained, and data arriving later is
      // reported again; reading on to EAGAIN would cost one more syscall per message.
      if (static_cast<std::size_t>(n) < kBufferSize) return;
    }
  }

  // Writes what is left of the buffer. True when all of it went; false when the connection was
  // closed or now waits for EPOLLOUT.
  bool write_back(Connection& c) {
    while (c.sent < c.length) {
      const ssize_t n = ::send(c.fd, c.buffer + c.sent, c.length - c.sent, MSG_NOSIGNAL);
      if (n >= 0) {
        c.sent += static_cast<std::size_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        close_connection(c);
        return false;
      }
      if (!c.waiting && !watch(EPOLL_CTL_MOD, c.fd, EPOLLOUT)) {
        close_connection(c);
        return false;
      }
      c.waiting = true;
      return false;
    }
    if (c.waiting) {
      c.waiting = false;
      if (!watch(EPOLL_CTL_MOD, c.fd, EPOLLIN)) {
        close_connection(c);
        return false;
      }
    }
    return true;
  }

  void close_connection(Connection& c) {
    const int fd = c.fd;
    ::close(fd);  // also leaves the epoll set
    connections_[fd].reset();
  }

  int epoll_fd_ = -1;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
  std::vector<std::unique_ptr<Connection>> connections_;  // by descriptor
};

}  // namespace

int main(int argc, char** argv) {
  const echo_peer::Options options = echo_peer::parse_options("raw_epoll_echo", argc, argv);
  echo_peer::raise_fd_limit();
  EchoServer server;
  return server.run(options.host.c_str(), options.port);
}
