// Name resolution (getaddrinfo on the shared thread pool; literals without it) and
// TcpStream::connect(host, port), which tries each resolved address in turn.
#include <netdb.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cogent/cogent.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;
using cogent::net::SocketAddress;
using cogent::net::TcpListener;
using cogent::net::TcpStream;

namespace {

bool is_loopback(const SocketAddress& a) { return a.host() == "127.0.0.1" || a.host() == "::1"; }

bool has_duplicates(std::vector<SocketAddress> v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    for (std::size_t j = i + 1; j < v.size(); ++j) {
      if (v[i] == v[j]) return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("resolve of an address literal returns it as is", "[net][resolve]") {
  cogent::test::on_each_backend([] {
    const std::vector<SocketAddress> v4 = {SocketAddress::loopback(80)};
    CHECK(cogent::net::resolve("127.0.0.1", 80) == v4);
    CHECK(cogent::net::resolve("127.0.0.1", 80, AF_INET) == v4);
    const std::vector<SocketAddress> v6 = {SocketAddress::parse("::1", 443)};
    CHECK(cogent::net::resolve("::1", 443) == v6);
    // A literal of the other family is "no address", in getaddrinfo's own terms.
    try {
      cogent::net::resolve("127.0.0.1", 80, AF_INET6);
      FAIL("an IPv4 literal resolved as IPv6");
    } catch (const std::system_error& e) {
      CHECK(e.code().category() == cogent::net::resolve_category());
      CHECK(e.code().value() == EAI_NONAME);
    }
    auto task = []() -> cogent::Task<std::vector<SocketAddress>> {
      co_return co_await cogent::net::async_resolve("10.0.0.1", 8080);
    };
    const std::vector<SocketAddress> ten = {SocketAddress::parse("10.0.0.1", 8080)};
    CHECK(cogent::spawn(task()).get() == ten);
  });
}

TEST_CASE("resolve of localhost gives loopback addresses with the port", "[net][resolve]") {
  cogent::test::on_each_backend([] {
    const auto all = cogent::net::resolve("localhost", 8080);
    REQUIRE_FALSE(all.empty());
    for (const auto& a : all) {
      CHECK(is_loopback(a));
      CHECK(a.port() == 8080);
    }
    CHECK_FALSE(has_duplicates(all));
    for (const auto& a : cogent::net::resolve("localhost", 1, AF_INET)) {
      CHECK(a.family() == AF_INET);
      CHECK(a.to_string() == "127.0.0.1:1");
    }
    // Task face, and many greenlets resolving at once all get the same answer.
    auto task = []() -> cogent::Task<std::vector<SocketAddress>> {
      co_return co_await cogent::net::async_resolve("localhost", 8080);
    };
    CHECK(cogent::spawn(task()).get() == all);
    std::vector<cogent::Greenlet<std::vector<SocketAddress>>> many;
    for (int i = 0; i < 16; ++i) {
      many.push_back(cogent::spawn([] { return cogent::net::resolve("localhost", 8080); }));
    }
    for (auto& g : many) CHECK(g.get() == all);
  });
}

TEST_CASE("resolve errors: bad arguments and unknown names", "[net][resolve]") {
  cogent::test::on_each_backend([] {
    CHECK_THROWS_AS(cogent::net::resolve("", 80), std::invalid_argument);
    CHECK_THROWS_AS(cogent::net::resolve("localhost", 80, AF_UNIX), std::invalid_argument);
    try {
      cogent::net::resolve("no-such-host.invalid", 80);
      FAIL("resolved a name under .invalid");
    } catch (const std::system_error& e) {
      // NXDOMAIN, or no resolver reachable on this machine: either way the resolver's words.
      CHECK(e.code().category() == cogent::net::resolve_category());
      const int code = e.code().value();
      CHECK((code == EAI_NONAME || code == EAI_AGAIN || code == EAI_FAIL || code == EAI_NODATA));
      CHECK(std::string(e.what()).find("no-such-host.invalid") != std::string::npos);
    }
    CHECK(cogent::net::resolve_category().name() == std::string("getaddrinfo"));
    CHECK(cogent::net::resolve_category().message(EAI_NONAME) == ::gai_strerror(EAI_NONAME));
  });
}

TEST_CASE("connect by host name reaches a loopback listener", "[net][resolve]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const std::uint16_t port = listener.local_address().port();
    auto accepted = cogent::spawn([&] { return listener.accept(); });
    // If localhost also resolves to ::1, nothing listens there: connect goes on to 127.0.0.1.
    TcpStream c = TcpStream::connect("localhost", port);
    TcpStream s = std::move(accepted.get());
    CHECK(c.peer_address() == SocketAddress::loopback(port));
    c.write_all("by name");
    char buf[7];
    s.read_exact(buf, sizeof buf);
    CHECK(std::string(buf, 7) == "by name");

    TcpStream c2 = TcpStream::connect("127.0.0.1", port);
    TcpStream s2 = listener.accept();
    CHECK(s2.peer_address() == c2.local_address());

    // Every address refused: the last refusal is what the caller sees. (A listener never
    // accepted on, so that nothing of it outlives its close.)
    auto unused = TcpListener::bind(SocketAddress::loopback(0));
    const std::uint16_t closed_port = unused.local_address().port();
    unused.close();
    try {
      TcpStream::connect("localhost", closed_port);
      FAIL("connected to a closed port by name");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ECONNREFUSED);
    }
  });
}
