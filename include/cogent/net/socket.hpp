// What every cogent socket is: one owned, non-blocking descriptor. Closing it (close() or the
// destructor) first fails, with EBADF, any operation of this hub still waiting on it, so a
// greenlet blocked in read() wakes instead of hanging.
#pragma once

#include <utility>

#include "cogent/net/address.hpp"

namespace cogent::net {

class Socket {
 public:
  Socket() noexcept = default;
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept;
  ~Socket() { close_quietly(); }

  int fd() const noexcept { return fd_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return is_open(); }

  /// Closes the descriptor (waking its waiters with EBADF). Idempotent; a close error from the
  /// kernel is reported as std::system_error after the descriptor is gone anyway.
  void close();
  /// Gives the descriptor up without closing it.
  int release() noexcept { return std::exchange(fd_, -1); }

  SocketAddress local_address() const;
  /// setsockopt / getsockopt for int-valued options; std::system_error on failure.
  void set_option(int level, int name, int value);
  int option(int level, int name) const;

 protected:
  explicit Socket(int fd) noexcept : fd_(fd) {}
  /// A new non-blocking, close-on-exec socket; std::system_error on failure.
  static int open_socket(int family, int type);
  /// Makes an adopted descriptor non-blocking; std::system_error for a bad one.
  static int adopt_fd(int fd);
  int checked_fd(const char* api) const;

 private:
  void close_quietly() noexcept;
  int fd_ = -1;
};

}  // namespace cogent::net
