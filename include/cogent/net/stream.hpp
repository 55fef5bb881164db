// Stream sockets: TCP (IPv4, IPv6) and Unix-domain. Blocking names for greenlets, async_ names
// for tasks; each call is tried at once and suspends only when the socket is not ready. A peer
// reset is std::system_error with ECONNRESET or EPIPE (never SIGPIPE); a wait cut short by
// close() from another greenlet is EBADF; a cogent::Timeout in scope interrupts any of them.
//
//   auto s = cogent::net::TcpStream::connect(SocketAddress::loopback(port), 2s);
//   s.write_all("ping", 4);
//   char buf[4];
//   s.read_exact(buf, 4);
//   std::size_t n = co_await s.async_read(buf, sizeof buf);    // in a task
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>

#include "cogent/clock.hpp"
#include "cogent/detail/io_operation.hpp"
#include "cogent/net/socket.hpp"
#include "cogent/task.hpp"

namespace cogent::net {

class StreamSocket : public Socket {
 public:
  StreamSocket() noexcept = default;

  /// Reads what is available, at least one byte; 0 at end of stream.
  std::size_t read(void* buf, std::size_t len);
  /// Reads exactly `len` bytes; cogent::EndOfStream when the peer closes first.
  void read_exact(void* buf, std::size_t len);
  /// Writes some of the bytes (at least one); returns how many.
  std::size_t write(const void* buf, std::size_t len);
  /// Writes every byte.
  void write_all(const void* buf, std::size_t len);
  void write_all(std::string_view bytes) { write_all(bytes.data(), bytes.size()); }
  std::size_t readv(std::span<const iovec> iov);
  std::size_t writev(std::span<const iovec> iov);

  detail::IoAwaiter<detail::CountOutcome> async_read(void* buf, std::size_t len);
  detail::IoAwaiter<detail::ExactOutcome> async_read_exact(void* buf, std::size_t len);
  detail::IoAwaiter<detail::CountOutcome> async_write(const void* buf, std::size_t len);
  detail::IoAwaiter<detail::ExactOutcome> async_write_all(const void* buf, std::size_t len);
  detail::IoAwaiter<detail::ExactOutcome> async_write_all(std::string_view bytes) {
    return async_write_all(bytes.data(), bytes.size());
  }
  detail::IoAwaiter<detail::CountOutcome> async_readv(std::span<const iovec> iov);
  detail::IoAwaiter<detail::CountOutcome> async_writev(std::span<const iovec> iov);

  /// shutdown(2): SHUT_RD, SHUT_WR (half-close: the peer reads end of stream) or SHUT_RDWR.
  void shutdown(int how);
  SocketAddress peer_address() const;

 protected:
  using Socket::Socket;
  static constexpr std::size_t kMaxIov = 1024;  // IOV_MAX on Linux

 private:
  bool read_waited_ = false;  // the last read had to wait: on io_uring, go to the ring directly
};

class TcpStream : public StreamSocket {
 public:
  TcpStream() noexcept = default;
  /// Takes ownership of a connected TCP socket (made non-blocking).
  static TcpStream adopt(int fd) { return TcpStream(adopt_fd(fd)); }

  /// Connects to `peer`; std::system_error (ECONNREFUSED...) on failure.
  static TcpStream connect(const SocketAddress& peer);
  /// As connect(peer), giving up with cogent::TimeoutError after `timeout`.
  template <class Rep, class Period>
  static TcpStream connect(const SocketAddress& peer, std::chrono::duration<Rep, Period> timeout) {
    return connect_until(peer, deadline_after(timeout));
  }
  /// Resolves `host` (cogent::net::resolve) and connects to the first address that accepts.
  static TcpStream connect(std::string_view host, std::uint16_t port);
  static TcpStream connect_until(const SocketAddress& peer, TimePoint deadline);

  static Task<TcpStream> async_connect(SocketAddress peer);
  template <class Rep, class Period>
  static Task<TcpStream> async_connect(SocketAddress peer,
                                       std::chrono::duration<Rep, Period> timeout) {
    return async_connect_until(peer, deadline_after(timeout));
  }
  static Task<TcpStream> async_connect_until(SocketAddress peer, TimePoint deadline);

  /// TCP_NODELAY: send small writes at once instead of coalescing them (Nagle).
  void set_nodelay(bool on);
  bool nodelay() const;

 private:
  friend class TcpListener;
  template <class Stream>
  friend struct AcceptOutcome;
  explicit TcpStream(int fd) noexcept : StreamSocket(fd) {}
};

class UnixStream : public StreamSocket {
 public:
  UnixStream() noexcept = default;
  static UnixStream adopt(int fd) { return UnixStream(adopt_fd(fd)); }
  /// Connects to the Unix-domain socket at `path`.
  static UnixStream connect(std::string_view path);
  static Task<UnixStream> async_connect(std::string path);
  /// A connected pair (socketpair(2)).
  static std::pair<UnixStream, UnixStream> pair();

 private:
  friend class UnixListener;
  template <class Stream>
  friend struct AcceptOutcome;
  explicit UnixStream(int fd) noexcept : StreamSocket(fd) {}
};

}  // namespace cogent::net
