// Name resolution (getaddrinfo), run on cogent::ThreadPool::shared() so that only the calling
// greenlet waits; numeric addresses are converted without it. Failures are std::system_error in
// resolve_category() (the EAI_* codes, worded by gai_strerror).
//
//   for (auto& a : cogent::net::resolve("localhost", 80)) ...
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cogent/net/address.hpp"
#include "cogent/task.hpp"

namespace cogent::net {

/// The error category of getaddrinfo's EAI_* codes.
const std::error_category& resolve_category() noexcept;

/// The addresses of `host` for TCP (`family`: AF_UNSPEC, AF_INET or AF_INET6), in the resolver's
/// order, duplicates removed. Never empty: no address is an error.
std::vector<SocketAddress> resolve(std::string_view host, std::uint16_t port,
                                   int family = AF_UNSPEC);
Task<std::vector<SocketAddress>> async_resolve(std::string host, std::uint16_t port,
                                               int family = AF_UNSPEC);

}  // namespace cogent::net
