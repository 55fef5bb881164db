#include "cogent/net/socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "cogent/detail/io_operation.hpp"

namespace cogent::net {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), "cogent: " + what);
}

}  // namespace

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close_quietly();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Socket::close() {
  if (fd_ < 0) return;
  const int fd = std::exchange(fd_, -1);
  // EINTR still closed the descriptor on Linux: nothing to retry.
  if (int rc = detail::close_fd(fd); rc < 0 && rc != -EINTR) {
    throw_errno(-rc, "close fd " + std::to_string(fd));
  }
}

void Socket::close_quietly() noexcept {
  if (fd_ >= 0) detail::close_fd(std::exchange(fd_, -1));
}

int Socket::open_socket(int family, int type) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(errno, "socket");
  return fd;
}

int Socket::adopt_fd(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw_errno(errno, "adopt fd " + std::to_string(fd));
  }
  return fd;
}

int Socket::checked_fd(const char* api) const {
  if (fd_ < 0) throw_errno(EBADF, std::string(api) + " on a closed socket");
  return fd_;
}

SocketAddress Socket::local_address() const {
  SocketAddress a;
  if (::getsockname(checked_fd("getsockname"), a.native(), a.size_slot()) < 0) {
    throw_errno(errno, "getsockname");
  }
  return a;
}

void Socket::set_option(int level, int name, int value) {
  if (::setsockopt(checked_fd("setsockopt"), level, name, &value, sizeof value) < 0) {
    throw_errno(errno, "setsockopt");
  }
}

int Socket::option(int level, int name) const {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(checked_fd("getsockopt"), level, name, &value, &len) < 0) {
    throw_errno(errno, "getsockopt");
  }
  return value;
}

}  // namespace cogent::net
