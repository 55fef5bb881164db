// What sockets do when the network or the caller misbehaves: tiny buffers that force partial
// transfers, resets, half-closes, early ends, refused connections, closed sockets, bad addresses.
// (Closing a socket others wait on: close_test.cpp.)
// Exact errno values throughout; writes to a dead peer run in a child, where a SIGPIPE would be
// seen as the child's death instead of killing the test runner.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cogent/cogent.hpp>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "support/backend_fixture.hpp"
#include "support/byte_pattern.hpp"
#include "support/child_backend.hpp"
#include "support/system_error_of.hpp"
#include "support/tcp_pair.hpp"

using namespace std::chrono_literals;
using cogent::net::SocketAddress;
using cogent::net::StreamSocket;
using cogent::net::TcpListener;
using cogent::net::TcpStream;
using cogent::net::UdpSocket;
using cogent::net::UnixListener;
using cogent::net::UnixStream;
using cogent::test::BytePattern;

using cogent::test::system_error_of;

namespace {

constexpr int kTinyBuffer = 4096;  // the kernel doubles it: SO_*BUF then reads 8192
constexpr std::size_t kMiB = 1 << 20;

/// A TCP connection whose four buffers are tiny, set before the connection exists: on the
/// client socket before connect, on the listener before the SYN arrives (accepted sockets
/// inherit the listener's buffers).
std::pair<TcpStream, TcpStream> tiny_buffer_pair() {
  auto listener = TcpListener::bind(SocketAddress::loopback(0));
  listener.set_option(SOL_SOCKET, SO_RCVBUF, kTinyBuffer);
  listener.set_option(SOL_SOCKET, SO_SNDBUF, kTinyBuffer);
  const SocketAddress addr = SocketAddress::loopback(listener.local_address().port());
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kTinyBuffer, sizeof kTinyBuffer) == 0);
  REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kTinyBuffer, sizeof kTinyBuffer) == 0);
  // A blocking connect to a loopback listener completes in the kernel without an accept().
  if (::connect(fd, addr.native(), addr.size()) != 0) {
    ::close(fd);
    FAIL("connect: " << std::strerror(errno));
  }
  TcpStream client = TcpStream::adopt(fd);
  TcpStream server = listener.accept();
  return {std::move(client), std::move(server)};
}

/// Closes `s` with SO_LINGER {1, 0}: the kernel sends a reset instead of a FIN.
void reset(StreamSocket& s) {
  const linger abort_close{1, 0};
  REQUIRE(::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close) == 0);
  s.close();
}

/// A loopback port with no listener: bound by a listener that is closed again (never accepted
/// on, so nothing of it outlives close()).
std::uint16_t unused_port() {
  auto l = TcpListener::bind(SocketAddress::loopback(0));
  const std::uint16_t port = l.local_address().port();
  l.close();
  return port;
}

struct ReadStats {
  std::size_t bytes = 0, reads = 0, largest = 0;
  bool matched = true;
};

}  // namespace

TEST_CASE("tiny socket buffers: writes and reads are partial, write_all delivers 1 MiB exactly",
          "[net][failure]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = tiny_buffer_pair();
    CHECK(client.option(SOL_SOCKET, SO_SNDBUF) == 2 * kTinyBuffer);
    CHECK(client.option(SOL_SOCKET, SO_RCVBUF) == 2 * kTinyBuffer);
    CHECK(server.option(SOL_SOCKET, SO_SNDBUF) == 2 * kTinyBuffer);
    CHECK(server.option(SOL_SOCKET, SO_RCVBUF) == 2 * kTinyBuffer);

    const BytePattern p(41);
    const std::string data = p.bytes(0, kMiB);
    // Nobody reads yet: one write takes what fits and says how much.
    const std::size_t first = client.write(data.data(), data.size());
    CHECK(first > 0);
    CHECK(first < data.size());

    auto reader = cogent::spawn([&] {
      ReadStats st;
      std::vector<char> buf(64 * 1024);
      while (st.bytes < kMiB + 1) {  // bounded: each read moves a byte or ends the stream
        const std::size_t n = server.read(buf.data(), buf.size());
        if (n == 0) break;
        st.matched = st.matched && p.mismatch(st.bytes, buf.data(), n) == n;
        st.bytes += n;
        ++st.reads;
        st.largest = std::max(st.largest, n);
      }
      return st;
    });
    client.write_all(data.data() + first, data.size() - first);
    client.shutdown(SHUT_WR);
    const ReadStats st = reader.get();
    CHECK(st.bytes == kMiB);
    CHECK(st.matched);
    // Every read got less than it asked for: the receive buffer never holds 64 KiB.
    CHECK(st.largest < 64 * 1024);
    CHECK(st.reads > 16);

    // The other way, with read_exact gathering 1 MiB from many partial reads.
    auto writer = cogent::spawn([&] { server.write_all(data); });
    std::string back(kMiB, '\0');
    client.read_exact(back.data(), back.size());
    writer.get();
    CHECK(back == data);
  });
}

TEST_CASE("tiny socket buffers, task face: async_write is partial, the exact forms are whole",
          "[net][failure]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = tiny_buffer_pair();
    const std::string data = BytePattern(43).bytes(0, kMiB);
    auto send = [&]() -> cogent::Task<std::size_t> {
      const std::size_t first = co_await client.async_write(data.data(), data.size());
      co_await client.async_write_all(data.data() + first, data.size() - first);
      co_return first;
    };
    auto receive = [&]() -> cogent::Task<std::string> {
      co_await cogent::async_sleep(5ms);  // let the writer fill the buffers first
      std::string got(kMiB, '\0');
      co_await server.async_read_exact(got.data(), got.size());
      co_return got;
    };
    auto r = cogent::spawn(receive());
    auto s = cogent::spawn(send());
    const std::size_t first = s.get();
    CHECK(first > 0);
    CHECK(first < kMiB);
    CHECK(r.get() == data);
  });
}

TEST_CASE("a peer reset fails a waiting read and a later read with ECONNRESET",
          "[net][failure][reset]") {
  cogent::test::on_each_backend([] {
    // Greenlet waiting in read when the reset comes.
    {
      auto [client, server] = cogent::test::tcp_pair();
      auto reader = cogent::spawn([&] {
        char b[8];
        return system_error_of([&] { client.read(b, sizeof b); });
      });
      cogent::sleep(5ms);
      CHECK_FALSE(reader.ready());
      reset(server);
      CHECK(reader.get() == ECONNRESET);
    }
    // Reset already arrived when read is called.
    {
      auto [client, server] = cogent::test::tcp_pair();
      reset(server);
      cogent::sleep(1ms);
      char b[8];
      CHECK(system_error_of([&] { client.read(b, sizeof b); }) == ECONNRESET);
      // The error is reported once; after it the stream reads as ended.
      CHECK(client.read(b, sizeof b) == 0);
    }
    // Task waiting in async_read_exact.
    {
      auto [client, server] = cogent::test::tcp_pair();
      auto reader = [&]() -> cogent::Task<int> {
        char b[8];
        try {
          co_await client.async_read_exact(b, sizeof b);
        } catch (const std::system_error& e) {
          co_return e.code().value();
        }
        co_return 0;
      };
      auto t = cogent::spawn(reader());
      cogent::sleep(5ms);
      server.write_all("abc");  // part of what it waits for, then the reset
      cogent::sleep(1ms);
      reset(server);
      CHECK(t.get() == ECONNRESET);
    }
  });
}

TEST_CASE("writes to a reset peer fail with ECONNRESET or EPIPE, and raise no SIGPIPE",
          "[net][failure][reset]") {
  cogent::test::in_child_on_each_backend([] {
    auto is_reset = [](int e) { return e == ECONNRESET || e == EPIPE; };
    const std::string msg(1000, 'm');
    {
      auto [client, server] = cogent::test::tcp_pair();
      reset(server);
      cogent::sleep(1ms);
      const int first = system_error_of([&] { client.write(msg.data(), msg.size()); });
      CHILD_CHECK(is_reset(first));
      const int second = system_error_of([&] { client.write(msg.data(), msg.size()); });
      CHILD_CHECK(second == EPIPE);
      const int third = system_error_of([&] { client.write_all(msg); });
      CHILD_CHECK(third == EPIPE);
    }
    {
      auto [client, server] = cogent::test::tcp_pair();
      reset(server);
      cogent::sleep(1ms);
      CHILD_CHECK(is_reset(system_error_of([&] { client.write_all(msg); })));
    }
    {
      // A writer blocked on a full buffer when the reset comes.
      auto [client, server] = cogent::test::tcp_pair();
      auto writer = cogent::spawn([&] {
        const std::string big(16 << 20, 'w');
        return system_error_of([&] { client.write_all(big); });
      });
      cogent::sleep(10ms);
      CHILD_CHECK(!writer.ready());
      reset(server);
      CHILD_CHECK(is_reset(writer.get()));
    }
    {
      // Task face.
      auto [client, server] = cogent::test::tcp_pair();
      reset(server);
      cogent::sleep(1ms);
      auto t = [&]() -> cogent::Task<std::pair<int, int>> {
        int a = 0, b = 0;
        try {
          co_await client.async_write(msg.data(), msg.size());
        } catch (const std::system_error& e) {
          a = e.code().value();
        }
        try {
          co_await client.async_write_all(msg.data(), msg.size());
        } catch (const std::system_error& e) {
          b = e.code().value();
        }
        co_return std::make_pair(a, b);
      };
      const auto [a, b] = cogent::spawn(t()).get();
      CHILD_CHECK(is_reset(a));
      CHILD_CHECK(b == EPIPE);
    }
    {
      // A Unix-domain peer that is gone: EPIPE.
      auto [a, b] = UnixStream::pair();
      b.close();
      CHILD_CHECK(system_error_of([&] { a.write_all(msg); }) == EPIPE);
    }
  });
}

TEST_CASE("writev to a reset peer fails with ECONNRESET or EPIPE, and raises no SIGPIPE",
          "[net][failure][reset]") {
  cogent::test::in_child_on_each_backend([] {
    auto is_reset = [](int e) { return e == ECONNRESET || e == EPIPE; };
    std::string part(500, 'v');
    std::array<iovec, 2> iov = {{{part.data(), part.size()}, {part.data(), part.size()}}};
    {
      auto [client, server] = cogent::test::tcp_pair();
      reset(server);
      cogent::sleep(1ms);
      CHILD_CHECK(is_reset(system_error_of([&] { client.writev(iov); })));
      CHILD_CHECK(system_error_of([&] { client.writev(iov); }) == EPIPE);
    }
    {
      auto [client, server] = cogent::test::tcp_pair();
      reset(server);
      cogent::sleep(1ms);
      auto t = [&]() -> cogent::Task<int> {
        try {
          co_await client.async_writev(iov);
        } catch (const std::system_error& e) {
          co_return e.code().value();
        }
        co_return 0;
      };
      CHILD_CHECK(is_reset(cogent::spawn(t()).get()));
    }
    {
      auto [a, b] = UnixStream::pair();
      b.close();
      CHILD_CHECK(system_error_of([&] { a.writev(iov); }) == EPIPE);
    }
  });
}

TEST_CASE("half-close: the peer reads the end, then still writes back", "[net][failure]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    client.write_all("request");
    client.shutdown(SHUT_WR);
    char buf[16];
    server.read_exact(buf, 7);
    CHECK(std::string(buf, 7) == "request");
    CHECK(server.read(buf, sizeof buf) == 0);
    CHECK(server.read(buf, sizeof buf) == 0);  // and stays ended
    server.write_all("response");
    server.close();
    client.read_exact(buf, 8);
    CHECK(std::string(buf, 8) == "response");
    CHECK(client.read(buf, sizeof buf) == 0);
    // Writing after one's own SHUT_WR is EPIPE (MSG_NOSIGNAL: no signal).
    CHECK(system_error_of([&] { client.write_all("more"); }) == EPIPE);

    // Task face, with the reader already waiting when the FIN arrives.
    auto [c2, s2] = cogent::test::tcp_pair();
    auto reader = [&]() -> cogent::Task<std::string> {
      std::string got;
      char b[4];
      for (int i = 0; i < 16; ++i) {  // bounded
        const std::size_t n = co_await s2.async_read(b, sizeof b);
        if (n == 0) break;
        got.append(b, n);
      }
      co_await s2.async_write_all("got " + std::to_string(got.size()));
      co_return got;
    };
    auto t = cogent::spawn(reader());
    cogent::sleep(2ms);
    c2.write_all("half-closed");
    c2.shutdown(SHUT_WR);
    CHECK(t.get() == "half-closed");
    char b[8];
    c2.read_exact(b, 6);
    CHECK(std::string(b, 6) == "got 11");
  });
}

TEST_CASE("read_exact when the peer closes early is EndOfStream", "[net][failure]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    server.write_all("abc");
    server.close();
    char buf[10];
    try {
      client.read_exact(buf, sizeof buf);
      FAIL("read_exact returned with 3 of 10 bytes");
    } catch (const cogent::EndOfStream& e) {
      CHECK(std::string(e.what()).find("3 of 10") != std::string::npos);
    }

    // Task face, waiting when the close comes; and a stream that ends with nothing at all.
    auto [c2, s2] = cogent::test::tcp_pair();
    auto reader = [&]() -> cogent::Task<int> {
      char b[10];
      int ends = 0;
      try {
        co_await c2.async_read_exact(b, sizeof b);
      } catch (const cogent::EndOfStream&) {
        ++ends;
      }
      try {
        co_await c2.async_read_exact(b, 1);
      } catch (const cogent::EndOfStream&) {
        ++ends;
      }
      co_return ends;
    };
    auto t = cogent::spawn(reader());
    cogent::sleep(2ms);
    s2.write_all("1234");
    s2.close();
    CHECK(t.get() == 2);
    // EndOfStream is a cogent::Error, not a std::system_error.
    CHECK_THROWS_AS(c2.read_exact(buf, 1), cogent::Error);
  });
}

TEST_CASE("connect to a port nobody listens on is ECONNREFUSED", "[net][failure]") {
  cogent::test::on_each_backend([] {
    const SocketAddress nobody = SocketAddress::loopback(unused_port());
    CHECK(system_error_of([&] { TcpStream::connect(nobody); }) == ECONNREFUSED);
    // A timeout does not turn a refusal into a TimeoutError.
    CHECK(system_error_of([&] { TcpStream::connect(nobody, 1s); }) == ECONNREFUSED);
    auto task = [&]() -> cogent::Task<int> {
      try {
        co_await TcpStream::async_connect(nobody);
      } catch (const std::system_error& e) {
        co_return e.code().value();
      }
      co_return 0;
    };
    CHECK(cogent::spawn(task()).get() == ECONNREFUSED);
  });
}

TEST_CASE("operations on an empty or closed socket are EBADF", "[net][failure][ebadf]") {
  cogent::test::on_each_backend([] {
    char buf[4];
    std::array<iovec, 1> iov = {{{buf, sizeof buf}}};
    auto every_stream_call_is_ebadf = [&](TcpStream& s) {
      CHECK_FALSE(s.is_open());
      CHECK(s.fd() == -1);
      CHECK(system_error_of([&] { s.read(buf, 1); }) == EBADF);
      CHECK(system_error_of([&] { s.read_exact(buf, 1); }) == EBADF);
      CHECK(system_error_of([&] { s.write(buf, 1); }) == EBADF);
      CHECK(system_error_of([&] { s.write_all(buf, 1); }) == EBADF);
      CHECK(system_error_of([&] { s.readv(iov); }) == EBADF);
      CHECK(system_error_of([&] { s.writev(iov); }) == EBADF);
      CHECK(system_error_of([&] { s.shutdown(SHUT_WR); }) == EBADF);
      CHECK(system_error_of([&] { s.peer_address(); }) == EBADF);
      CHECK(system_error_of([&] { s.local_address(); }) == EBADF);
      CHECK(system_error_of([&] { s.set_option(SOL_SOCKET, SO_KEEPALIVE, 1); }) == EBADF);
      CHECK(system_error_of([&] { s.option(SOL_SOCKET, SO_KEEPALIVE); }) == EBADF);
      CHECK(system_error_of([&] { s.set_nodelay(true); }) == EBADF);
      s.close();  // idempotent, no error
    };
    TcpStream empty;
    every_stream_call_is_ebadf(empty);

    auto [client, server] = cogent::test::tcp_pair();
    client.close();
    every_stream_call_is_ebadf(client);
    TcpStream moved_to = std::move(server);
    every_stream_call_is_ebadf(server);  // moved-from
    CHECK(moved_to.is_open());

    TcpListener listener;
    CHECK(system_error_of([&] { listener.accept(); }) == EBADF);
    UdpSocket udp;
    SocketAddress from;
    CHECK(system_error_of([&] { udp.send_to(buf, 1, SocketAddress::loopback(9)); }) == EBADF);
    CHECK(system_error_of([&] { udp.recv_from(buf, 1, from); }) == EBADF);
    UnixStream unix_empty;
    CHECK(system_error_of([&] { unix_empty.read(buf, 1); }) == EBADF);

    // Task face: the error comes out of the co_await.
    auto task = [&]() -> cogent::Task<std::vector<int>> {
      std::vector<int> errs;
      try {
        co_await empty.async_read(buf, 1);
      } catch (const std::system_error& e) {
        errs.push_back(e.code().value());
      }
      try {
        co_await empty.async_write_all(buf, 1);
      } catch (const std::system_error& e) {
        errs.push_back(e.code().value());
      }
      try {
        co_await listener.async_accept();
      } catch (const std::system_error& e) {
        errs.push_back(e.code().value());
      }
      try {
        co_await udp.async_recv_from(buf, 1, from);
      } catch (const std::system_error& e) {
        errs.push_back(e.code().value());
      }
      co_return errs;
    };
    const std::vector<int> expected = {EBADF, EBADF, EBADF, EBADF};
    CHECK(cogent::spawn(task()).get() == expected);
  });
}

TEST_CASE("bad addresses are std::invalid_argument", "[net][failure][address]") {
  CHECK_THROWS_AS(SocketAddress::parse("nope", 80), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::parse("256.0.0.1", 80), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::parse("", 80), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::parse("::1::2", 80), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::parse("127.0.0.1:80", 80), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::unix_path(std::string(108, 'p')), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::unix_path(std::string(300, 'p')), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::unix_path(""), std::invalid_argument);
  CHECK(SocketAddress::unix_path(std::string(107, 'p')).host() == std::string(107, 'p'));
  sockaddr_storage big{};
  CHECK_THROWS_AS(SocketAddress::from_native(reinterpret_cast<sockaddr*>(&big), sizeof big + 1),
                  std::invalid_argument);

  // What parses prints back as it came.
  CHECK(SocketAddress::parse("10.1.2.3", 8080).to_string() == "10.1.2.3:8080");
  CHECK(SocketAddress::parse("::1", 443).to_string() == "[::1]:443");
  CHECK(SocketAddress::parse("::1", 443).family() == AF_INET6);
  CHECK(SocketAddress::loopback(7) == SocketAddress::parse("127.0.0.1", 7));
  CHECK(SocketAddress::unix_path("/run/x.sock").to_string() == "unix:/run/x.sock");
  CHECK(SocketAddress().family() == AF_UNSPEC);
  CHECK(SocketAddress().to_string() == "(unspecified)");

  cogent::test::on_each_backend([] {
    // A TCP listener on a Unix path, or a connect to nowhere, is refused before any syscall.
    CHECK_THROWS_AS(TcpListener::bind(SocketAddress::unix_path("/tmp/x.sock")),
                    std::invalid_argument);
    CHECK_THROWS_AS(TcpStream::connect(SocketAddress()), std::invalid_argument);
    CHECK_THROWS_AS(UnixListener::bind(std::string(200, 'p')), std::invalid_argument);
    CHECK_THROWS_AS(UnixStream::connect(std::string(200, 'p')), std::invalid_argument);
  });
}
