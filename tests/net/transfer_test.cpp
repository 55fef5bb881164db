// Byte-exact transfers over every kind of socket cogent has: TCP on IPv4 and IPv6, Unix-domain
// streams, UDP datagrams; vectored I/O. Each runs on both backends, with greenlets and with tasks.
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cogent/cogent.hpp>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "support/backend_fixture.hpp"
#include "support/byte_pattern.hpp"
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

namespace {

constexpr std::size_t kBigTransfer = std::size_t{64} << 20;

// Write and read sizes cycle through these, so chunks straddle every kind of boundary: single
// bytes, odd sizes, more than the socket buffer holds.
constexpr std::array<std::size_t, 7> kWriteSizes = {1 << 20, 7, 65536, 1, 200000, 4096, 333333};
constexpr std::array<std::size_t, 5> kReadSizes = {65536, 1, 12293, 1 << 20, 17};
constexpr std::size_t kMaxChunk = 1 << 20;

/// What a receiver saw: bytes in order, and where the first wrong one was (or total if none).
struct Received {
  std::uint64_t bytes = 0;
  std::uint64_t first_bad = UINT64_MAX;
  bool matched(std::uint64_t expected) const {
    return bytes == expected && first_bad == UINT64_MAX;
  }
};

void note(Received& r, const BytePattern& p, const char* buf, std::size_t n) {
  const std::size_t ok = p.mismatch(r.bytes, buf, n);
  if (ok != n && r.first_bad == UINT64_MAX) r.first_bad = r.bytes + ok;
  r.bytes += n;
}

// Greenlet face: the whole stream, then a half-close so the peer's reader sees its end.
void send_pattern(StreamSocket& s, std::uint64_t seed, std::size_t total) {
  const BytePattern p(seed);
  std::vector<char> buf(kMaxChunk);
  std::size_t off = 0;
  for (std::size_t i = 0; off < total; ++i) {
    const std::size_t n = std::min(kWriteSizes[i % kWriteSizes.size()], total - off);
    p.fill(off, buf.data(), n);
    s.write_all(buf.data(), n);
    off += n;
  }
  s.shutdown(SHUT_WR);
}

Received receive_pattern(StreamSocket& s, std::uint64_t seed, std::size_t total) {
  const BytePattern p(seed);
  std::vector<char> buf(kMaxChunk);
  Received r;
  // Bounded: every read moves at least one byte or ends the stream; a few spare turns let an
  // over-long stream show up as bytes > total instead of a hang.
  for (std::size_t i = 0; r.bytes <= total; ++i) {
    const std::size_t n = s.read(buf.data(), kReadSizes[i % kReadSizes.size()]);
    if (n == 0) break;
    note(r, p, buf.data(), n);
  }
  return r;
}

// Task face of the same two.
cogent::Task<> async_send_pattern(StreamSocket& s, std::uint64_t seed, std::size_t total) {
  const BytePattern p(seed);
  std::vector<char> buf(kMaxChunk);
  std::size_t off = 0;
  for (std::size_t i = 0; off < total; ++i) {
    const std::size_t n = std::min(kWriteSizes[i % kWriteSizes.size()], total - off);
    p.fill(off, buf.data(), n);
    co_await s.async_write_all(buf.data(), n);
    off += n;
  }
  s.shutdown(SHUT_WR);
}

cogent::Task<Received> async_receive_pattern(StreamSocket& s, std::uint64_t seed,
                                             std::size_t total) {
  const BytePattern p(seed);
  std::vector<char> buf(kMaxChunk);
  Received r;
  for (std::size_t i = 0; r.bytes <= total; ++i) {
    const std::size_t n = co_await s.async_read(buf.data(), kReadSizes[i % kReadSizes.size()]);
    if (n == 0) break;
    note(r, p, buf.data(), n);
  }
  co_return r;
}

/// Both directions at once on one connection, each side reading in one greenlet while it writes
/// in another: returns {what the client received, what the server received}.
std::pair<Received, Received> duplex_with_greenlets(StreamSocket& client, StreamSocket& server,
                                                    std::size_t total) {
  constexpr std::uint64_t kUp = 1, kDown = 2;
  auto up_writer = cogent::spawn([&] { send_pattern(client, kUp, total); });
  auto down_writer = cogent::spawn([&] { send_pattern(server, kDown, total); });
  auto up_reader = cogent::spawn([&] { return receive_pattern(server, kUp, total); });
  auto down_reader = cogent::spawn([&] { return receive_pattern(client, kDown, total); });
  // Join all four before taking a result, so that none outlives the streams if one failed.
  up_writer.join();
  down_writer.join();
  up_reader.join();
  down_reader.join();
  up_writer.get();
  down_writer.get();
  return {down_reader.get(), up_reader.get()};
}

std::pair<Received, Received> duplex_with_tasks(StreamSocket& client, StreamSocket& server,
                                                std::size_t total) {
  constexpr std::uint64_t kUp = 1, kDown = 2;
  auto up_writer = cogent::spawn(async_send_pattern(client, kUp, total));
  auto down_writer = cogent::spawn(async_send_pattern(server, kDown, total));
  auto up_reader = cogent::spawn(async_receive_pattern(server, kUp, total));
  auto down_reader = cogent::spawn(async_receive_pattern(client, kDown, total));
  // Join all four before taking a result, so that none outlives the streams if one failed.
  up_writer.join();
  down_writer.join();
  up_reader.join();
  down_reader.join();
  up_writer.get();
  down_writer.get();
  return {down_reader.get(), up_reader.get()};
}

/// A private directory for Unix-domain socket files, removed with what is in it.
class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/cogent-net-XXXXXX";
    if (::mkdtemp(templ) == nullptr) throw std::system_error(errno, std::generic_category());
    path_ = templ;
  }
  ~TempDir() {
    for (const std::string& f : files_) ::unlink(f.c_str());
    ::rmdir(path_.c_str());
  }
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

/// Binds a TCP listener on ::1, or says why this machine cannot.
bool bind_ipv6_loopback(TcpListener& out) {
  try {
    out = TcpListener::bind(SocketAddress::parse("::1", 0));
    return true;
  } catch (const std::system_error& e) {
    if (e.code().value() != EADDRNOTAVAIL && e.code().value() != EAFNOSUPPORT) throw;
    WARN("IPv6 loopback unavailable (" << e.what() << "); skipped");
    return false;
  }
}

}  // namespace

TEST_CASE("64 MiB each way at once over TCP arrive byte for byte, with greenlets",
          "[net][transfer]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    auto accepted = cogent::spawn([&] { return listener.accept(); });
    TcpStream client = TcpStream::connect(SocketAddress::loopback(listener.local_address().port()));
    TcpStream server = std::move(accepted.get());
    const auto [at_client, at_server] = duplex_with_greenlets(client, server, kBigTransfer);
    CHECK(at_client.bytes == kBigTransfer);
    CHECK(at_client.first_bad == UINT64_MAX);
    CHECK(at_server.bytes == kBigTransfer);
    CHECK(at_server.first_bad == UINT64_MAX);
  });
}

TEST_CASE("64 MiB each way at once over TCP arrive byte for byte, with tasks", "[net][transfer]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const std::uint16_t port = listener.local_address().port();
    auto accept_task = [&]() -> cogent::Task<TcpStream> {
      co_return co_await listener.async_accept();
    };
    auto accepted = cogent::spawn(accept_task());
    auto connected = cogent::spawn(TcpStream::async_connect(SocketAddress::loopback(port)));
    TcpStream client = std::move(connected.get());
    TcpStream server = std::move(accepted.get());
    const auto [at_client, at_server] = duplex_with_tasks(client, server, kBigTransfer);
    CHECK(at_client.bytes == kBigTransfer);
    CHECK(at_client.first_bad == UINT64_MAX);
    CHECK(at_server.bytes == kBigTransfer);
    CHECK(at_server.first_bad == UINT64_MAX);
  });
}

namespace {

void vectored_round_trip(StreamSocket& a, StreamSocket& b) {
  const BytePattern p(11);
  const std::string head = "alpha", middle = p.bytes(0, 3000), tail = "omega";
  const std::string all = head + middle + tail;
  std::array<iovec, 4> out = {{{const_cast<char*>(head.data()), head.size()},
                               {nullptr, 0},  // an empty buffer in the middle is skipped
                               {const_cast<char*>(middle.data()), middle.size()},
                               {const_cast<char*>(tail.data()), tail.size()}}};
  // An empty socket buffer takes 3010 bytes whole.
  CHECK(a.writev(out) == all.size());

  std::string got1(7, '\0'), got2(1000, '\0'), got3(all.size() - 1007 + 4, '\0');
  std::array<iovec, 3> in = {
      {{got1.data(), got1.size()}, {got2.data(), got2.size()}, {got3.data(), got3.size()}}};
  // readv returns what is there (here all of it), filling the buffers in order.
  CHECK(b.readv(in) == all.size());
  CHECK(got1 + got2 + got3.substr(0, all.size() - 1007) == all);

  // Task face, the other way round, with the reader waiting before the bytes exist.
  auto reader = [&]() -> cogent::Task<std::string> {
    std::string got;
    // Bounded: each readv moves at least one byte or ends the stream.
    while (got.size() < all.size()) {
      std::string x(3, '\0'), y(5000, '\0');
      std::array<iovec, 2> iov = {{{x.data(), x.size()}, {y.data(), y.size()}}};
      const std::size_t k = co_await a.async_readv(iov);
      if (k == 0) break;
      got += x.substr(0, std::min<std::size_t>(k, 3));
      if (k > 3) got += y.substr(0, k - 3);
    }
    co_return got;
  };
  auto writer = [&]() -> cogent::Task<std::size_t> {
    co_await cogent::async_sleep(2ms);
    co_return co_await b.async_writev(out);
  };
  auto r = cogent::spawn(reader());
  auto w = cogent::spawn(writer());
  CHECK(w.get() == all.size());
  CHECK(r.get() == all);

  // End of stream is a 0 from readv as from read.
  b.close();
  char c;
  std::array<iovec, 1> one = {{{&c, 1}}};
  CHECK(a.readv(one) == 0);
}

}  // namespace

TEST_CASE("writev gathers and readv scatters the exact bytes, both faces", "[net][transfer]") {
  cogent::test::on_each_backend([] {
    auto [a, b] = UnixStream::pair();
    vectored_round_trip(a, b);
    auto [c, d] = cogent::test::tcp_pair();
    vectored_round_trip(c, d);
  });
}

TEST_CASE("readv/writev refuse more buffers than IOV_MAX", "[net][transfer]") {
  cogent::test::on_each_backend([] {
    auto [a, b] = UnixStream::pair();
    char c = 'x';
    std::vector<iovec> many(1025, iovec{&c, 1});
    CHECK_THROWS_AS(a.writev(many), std::invalid_argument);
    CHECK_THROWS_AS(b.readv(many), std::invalid_argument);
    std::vector<iovec> max(1024, iovec{&c, 1});
    CHECK(a.writev(max) == 1024);
  });
}

TEST_CASE("UDP: exact datagrams and sender addresses, greenlet face", "[net][udp]") {
  cogent::test::on_each_backend([] {
    UdpSocket a = UdpSocket::bind(SocketAddress::loopback(0));
    UdpSocket b = UdpSocket::bind(SocketAddress::loopback(0));
    const SocketAddress a_addr = a.local_address(), b_addr = b.local_address();
    CHECK(a_addr.host() == "127.0.0.1");
    CHECK(a_addr.port() != 0);
    const std::string payload = BytePattern(21).bytes(0, 512);

    // The receiver is already waiting when the datagram is sent.
    auto receiver = cogent::spawn([&] {
      std::string buf(2048, '\0');
      SocketAddress from;
      const std::size_t n = b.recv_from(buf.data(), buf.size(), from);
      buf.resize(n);
      return std::make_pair(buf, from);
    });
    cogent::sleep(1ms);
    CHECK(a.send_to(payload.data(), payload.size(), b_addr) == 512);
    const auto [got, from] = receiver.get();
    CHECK(got == payload);
    CHECK(from == a_addr);
    CHECK(from.to_string() == "127.0.0.1:" + std::to_string(a_addr.port()));

    // A datagram larger than the buffer is cut to it; the rest of it is gone, not left for the
    // next call, which gets the next datagram.
    CHECK(a.send_to(payload.data(), 100, b_addr) == 100);
    CHECK(a.send_to("xyz", 3, b_addr) == 3);
    CHECK(a.send_to("", 0, b_addr) == 0);
    char small[10];
    SocketAddress from2;
    CHECK(b.recv_from(small, sizeof small, from2) == 10);
    CHECK(std::string(small, 10) == payload.substr(0, 10));
    char big[100];
    CHECK(b.recv_from(big, sizeof big, from2) == 3);
    CHECK(std::string(big, 3) == "xyz");
    CHECK(from2 == a_addr);
    // An empty datagram is a datagram: 0 bytes, with its sender.
    SocketAddress from3;
    CHECK(b.recv_from(big, sizeof big, from3) == 0);
    CHECK(from3 == a_addr);

    // Replies go back to the address recv_from reported.
    CHECK(b.send_to("back", 4, from3) == 4);
    SocketAddress from4;
    CHECK(a.recv_from(big, sizeof big, from4) == 4);
    CHECK(std::string(big, 4) == "back");
    CHECK(from4 == b_addr);
  });
}

TEST_CASE("UDP: task face, and an unbound socket gets an address on first send", "[net][udp]") {
  cogent::test::on_each_backend([] {
    UdpSocket server = UdpSocket::bind(SocketAddress::loopback(0));
    UdpSocket client = UdpSocket::open(AF_INET);
    const SocketAddress server_addr = server.local_address();
    auto echo = [&]() -> cogent::Task<SocketAddress> {
      char buf[1500];
      SocketAddress from;
      const std::size_t n = co_await server.async_recv_from(buf, sizeof buf, from);
      co_await server.async_send_to(buf, n, from);
      co_return from;
    };
    auto ask = [&]() -> cogent::Task<std::string> {
      const std::string msg = BytePattern(5).bytes(0, 1400);
      const std::size_t sent = co_await client.async_send_to(msg.data(), msg.size(), server_addr);
      if (sent != msg.size()) co_return "short send";
      std::string buf(1500, '\0');
      SocketAddress from;
      const std::size_t n = co_await client.async_recv_from(buf.data(), buf.size(), from);
      buf.resize(n);
      if (!(from == server_addr)) co_return "reply from " + from.to_string();
      co_return buf == msg ? "ok" : "wrong bytes";
    };
    auto e = cogent::spawn(echo());
    CHECK(cogent::spawn(ask()).get() == "ok");
    // The kernel bound the client to the wildcard address and a port, which the server saw
    // with the loopback address the datagram came from.
    const SocketAddress client_seen = e.get();
    CHECK(client.local_address().to_string() == "0.0.0.0:" + std::to_string(client_seen.port()));
    CHECK(client_seen.to_string() == "127.0.0.1:" + std::to_string(client_seen.port()));
    CHECK(client_seen.port() != 0);
  });
}

TEST_CASE("UDP: a datagram too large for IPv4 is EMSGSIZE", "[net][udp]") {
  cogent::test::on_each_backend([] {
    UdpSocket a = UdpSocket::bind(SocketAddress::loopback(0));
    const std::string huge(70000, 'x');
    try {
      a.send_to(huge.data(), huge.size(), a.local_address());
      FAIL("a 70000-byte datagram was sent");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EMSGSIZE);
    }
    // The socket is fine afterwards.
    CHECK(a.send_to("ok", 2, a.local_address()) == 2);
    char buf[4];
    SocketAddress from;
    CHECK(a.recv_from(buf, sizeof buf, from) == 2);
  });
}

TEST_CASE("Unix-domain listener and connect carry bytes both ways", "[net][unix]") {
  cogent::test::on_each_backend([] {
    TempDir dir;
    const std::string path = dir.file("echo.sock");
    UnixListener listener = UnixListener::bind(path);
    CHECK(listener.local_address().family() == AF_UNIX);
    CHECK(listener.local_address().to_string() == "unix:" + path);
    // The path is taken now; a second bind says so.
    try {
      UnixListener::bind(path);
      FAIL("bound the same path twice");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EADDRINUSE);
    }

    constexpr std::size_t kBytes = 1 << 20;
    auto server = cogent::spawn([&] {
      UnixStream s = listener.accept();
      const Received up = receive_pattern(s, 31, kBytes);
      send_pattern(s, 32, kBytes);
      return up;
    });
    UnixStream c = UnixStream::connect(path);
    send_pattern(c, 31, kBytes);
    const Received down = receive_pattern(c, 32, kBytes);
    const Received up = server.get();
    CHECK(up.matched(kBytes));
    CHECK(down.matched(kBytes));

    // Task face.
    auto accept_and_echo = [&]() -> cogent::Task<> {
      UnixStream s = co_await listener.async_accept();
      char buf[6];
      co_await s.async_read_exact(buf, sizeof buf);
      co_await s.async_write_all(buf, sizeof buf);
    };
    auto connect_and_ask = [&]() -> cogent::Task<std::string> {
      UnixStream s = co_await UnixStream::async_connect(path);
      co_await s.async_write_all("unix!!");
      char buf[6];
      co_await s.async_read_exact(buf, sizeof buf);
      co_return std::string(buf, sizeof buf);
    };
    auto srv = cogent::spawn(accept_and_echo());
    CHECK(cogent::spawn(connect_and_ask()).get() == "unix!!");
    srv.get();

    // Nobody listening at a path that does not exist: ENOENT. (A closed listener's path is
    // failure_test's business.)
    try {
      UnixStream::connect(dir.file("missing.sock"));
      FAIL("connected to a missing path");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ENOENT);
    }
  });
}

TEST_CASE("UnixStream::pair is a connected stream both ways", "[net][unix]") {
  cogent::test::on_each_backend([] {
    auto [a, b] = UnixStream::pair();
    constexpr std::size_t kBytes = 3 << 20;
    const auto [at_a, at_b] = duplex_with_greenlets(a, b, kBytes);
    CHECK(at_a.matched(kBytes));
    CHECK(at_b.matched(kBytes));

    auto [c, d] = UnixStream::pair();
    const auto [at_c, at_d] = duplex_with_tasks(c, d, kBytes);
    CHECK(at_c.matched(kBytes));
    CHECK(at_d.matched(kBytes));
  });
}

TEST_CASE("IPv6 loopback: TCP and UDP on ::1", "[net][ipv6]") {
  cogent::test::on_each_backend([] {
    TcpListener listener;
    if (!bind_ipv6_loopback(listener)) return;
    const SocketAddress at = listener.local_address();
    CHECK(at.family() == AF_INET6);
    CHECK(at.host() == "::1");
    CHECK(at.to_string() == "[::1]:" + std::to_string(at.port()));

    constexpr std::size_t kBytes = 4 << 20;
    auto accepted = cogent::spawn([&] { return listener.accept(); });
    TcpStream client = TcpStream::connect(SocketAddress::parse("::1", at.port()));
    TcpStream server = std::move(accepted.get());
    CHECK(server.peer_address() == client.local_address());
    CHECK(client.peer_address() == at);
    CHECK(server.peer_address().host() == "::1");
    const auto [at_client, at_server] = duplex_with_greenlets(client, server, kBytes);
    CHECK(at_client.matched(kBytes));
    CHECK(at_server.matched(kBytes));

    UdpSocket u1 = UdpSocket::bind(SocketAddress::parse("::1", 0));
    UdpSocket u2 = UdpSocket::bind(SocketAddress::parse("::1", 0));
    CHECK(u1.send_to("six", 3, u2.local_address()) == 3);
    char buf[8];
    SocketAddress from;
    CHECK(u2.recv_from(buf, sizeof buf, from) == 3);
    CHECK(std::string(buf, 3) == "six");
    CHECK(from == u1.local_address());
    CHECK(from.family() == AF_INET6);
  });
}
