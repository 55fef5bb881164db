// A socket address: IPv4, IPv6 or a Unix-domain path, as the kernel takes it.
//
//   auto a = cogent::net::SocketAddress::parse("127.0.0.1", 8080);
//   auto u = cogent::net::SocketAddress::unix_path("/tmp/app.sock");
//   a.to_string();   // "127.0.0.1:8080"
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace cogent::net {

class SocketAddress {
 public:
  /// An empty address (family AF_UNSPEC).
  SocketAddress() noexcept = default;

  /// An IPv4 or IPv6 literal ("10.0.0.1", "::1"); std::invalid_argument for anything else.
  static SocketAddress parse(std::string_view ip, std::uint16_t port);
  /// 127.0.0.1:port.
  static SocketAddress loopback(std::uint16_t port) noexcept;
  /// A Unix-domain path; std::invalid_argument when it does not fit sockaddr_un (108 bytes).
  static SocketAddress unix_path(std::string_view path);
  /// Copies a kernel address; std::invalid_argument when `size` is too large.
  static SocketAddress from_native(const sockaddr* addr, socklen_t size);

  int family() const noexcept { return storage_.ss_family; }
  /// The port (IPv4/IPv6), else 0.
  std::uint16_t port() const noexcept;
  /// The address without the port ("127.0.0.1", "::1"), the path for Unix sockets.
  std::string host() const;
  /// "127.0.0.1:80", "[::1]:80", "unix:/path".
  std::string to_string() const;

  const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* native() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return size_; }
  /// For calls that fill the address in (accept, recvfrom): the capacity, then the length.
  socklen_t* size_slot() noexcept {
    size_ = sizeof storage_;
    return &size_;
  }

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

}  // namespace cogent::net
