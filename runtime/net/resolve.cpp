#include "cogent/net/resolve.hpp"

#include <netdb.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "cogent/net/stream.hpp"
#include "cogent/thread_pool.hpp"

namespace cogent::net {
namespace {

class ResolveCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

/// A literal needs no resolver (and no thread): the common case of "127.0.0.1" or "::1".
bool parse_literal(const std::string& host, std::uint16_t port, int family,
                   std::vector<SocketAddress>& out) {
  try {
    SocketAddress a = SocketAddress::parse(host, port);
    if (family == AF_UNSPEC || family == a.family()) out.push_back(a);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

/// Runs on a pool thread.
std::vector<SocketAddress> lookup(const std::string& host, std::uint16_t port, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    const int code = rc == EAI_SYSTEM ? errno : rc;
    const auto& category = rc == EAI_SYSTEM ? std::generic_category() : resolve_category();
    throw std::system_error(code, category, "cogent: resolve \"" + host + "\"");
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, &::freeaddrinfo);
  std::vector<SocketAddress> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    SocketAddress a = SocketAddress::from_native(ai->ai_addr, ai->ai_addrlen);
    bool seen = false;
    for (const SocketAddress& b : out) seen = seen || a == b;
    if (!seen) out.push_back(a);
  }
  return out;
}

void validate(const std::string& host, int family) {
  if (host.empty()) throw std::invalid_argument("cogent: resolve of an empty host name");
  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
    throw std::invalid_argument("cogent: resolve family must be AF_UNSPEC, AF_INET or AF_INET6");
  }
}

std::vector<SocketAddress> non_empty(std::vector<SocketAddress> out, const std::string& host) {
  if (out.empty()) {
    throw std::system_error(EAI_NONAME, resolve_category(),
                            "cogent: resolve \"" + host + "\": no address of that family");
  }
  return out;
}

}  // namespace

const std::error_category& resolve_category() noexcept {
  static const ResolveCategory category;
  return category;
}

std::vector<SocketAddress> resolve(std::string_view host_view, std::uint16_t port, int family) {
  std::string host(host_view);
  validate(host, family);
  std::vector<SocketAddress> out;
  if (!parse_literal(host, port, family, out)) {
    out = ThreadPool::shared().submit(lookup, host, port, family);
  }
  return non_empty(std::move(out), host);
}

Task<std::vector<SocketAddress>> async_resolve(std::string host, std::uint16_t port, int family) {
  validate(host, family);
  std::vector<SocketAddress> out;
  if (!parse_literal(host, port, family, out)) {
    out = co_await ThreadPool::shared().async_submit(lookup, host, port, family);
  }
  co_return non_empty(std::move(out), host);
}

TcpStream TcpStream::connect(std::string_view host, std::uint16_t port) {
  std::exception_ptr last;
  for (const SocketAddress& a : resolve(host, port)) {
    try {
      return connect(a);
    } catch (const std::system_error&) {
      last = std::current_exception();
    }
  }
  std::rethrow_exception(last);
}

}  // namespace cogent::net
