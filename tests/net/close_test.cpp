// Closing a socket is how one greenlet stops another's wait on it: every operation of the hub
// still waiting on the descriptor ends at once with EBADF, and the socket is gone when close()
// returns: its peer sees the end of the stream, a listener's port is free and refuses new
// connections, even before the hub's next loop turn. The descriptor number is then free for reuse.
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cogent/cogent.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "support/backend_fixture.hpp"
#include "support/system_error_of.hpp"
#include "support/tcp_pair.hpp"

using namespace std::chrono_literals;
using cogent::Clock;
using cogent::net::SocketAddress;
using cogent::net::TcpListener;
using cogent::net::TcpStream;
using cogent::net::UnixListener;
using cogent::net::UnixStream;

using cogent::test::system_error_of;

namespace {

/// Generous bound for "promptly": far above any scheduling delay, far below a hang.
constexpr auto kPrompt = 1s;

}  // namespace

TEST_CASE("close from another greenlet wakes a read with EBADF", "[net][cancel][close]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    auto reader = cogent::spawn([&] {
      char buf[8];
      const auto start = Clock::now();
      const int err = system_error_of([&] { server.read(buf, sizeof buf); });
      return std::make_pair(err, Clock::now() - start);
    });
    cogent::sleep(5ms);
    CHECK_FALSE(reader.ready());
    server.close();
    CHECK_FALSE(server.is_open());
    const auto [err, waited] = reader.get();
    CHECK(err == EBADF);
    CHECK(waited < kPrompt);
    // The peer sees the connection closed.
    char b;
    CHECK(client.read(&b, 1) == 0);
  });
}

TEST_CASE("close from a greenlet wakes a task in async_read with EBADF", "[net][cancel][close]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    auto reader = [&]() -> cogent::Task<int> {
      char buf[8];
      try {
        co_await server.async_read_exact(buf, sizeof buf);
      } catch (const std::system_error& e) {
        co_return e.code().value();
      }
      co_return 0;
    };
    auto t = cogent::spawn(reader());
    cogent::sleep(5ms);
    CHECK_FALSE(t.ready());
    const auto start = Clock::now();
    server.close();
    CHECK(t.get() == EBADF);
    CHECK(Clock::now() - start < kPrompt);
  });
}

TEST_CASE("close from another greenlet wakes an accept with EBADF", "[net][cancel][close]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    auto acceptor = cogent::spawn([&] { return system_error_of([&] { listener.accept(); }); });
    auto listener2 = TcpListener::bind(SocketAddress::loopback(0));
    auto task = [&]() -> cogent::Task<int> {
      try {
        co_await listener2.async_accept();
      } catch (const std::system_error& e) {
        co_return e.code().value();
      }
      co_return 0;
    };
    auto acceptor2 = cogent::spawn(task());
    cogent::sleep(5ms);
    CHECK_FALSE(acceptor.ready());
    CHECK_FALSE(acceptor2.ready());
    const auto start = Clock::now();
    listener.close();
    listener2.close();
    CHECK(acceptor.get() == EBADF);
    CHECK(acceptor2.get() == EBADF);
    CHECK(Clock::now() - start < kPrompt);
  });
}

TEST_CASE("close from another greenlet wakes a write blocked on a full socket with EBADF",
          "[net][cancel][close]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    auto writer = cogent::spawn([&] {
      const std::string big(16 << 20, 'w');
      return system_error_of([&] { client.write_all(big); });
    });
    cogent::sleep(10ms);
    CHECK_FALSE(writer.ready());
    const auto start = Clock::now();
    client.close();
    CHECK(writer.get() == EBADF);
    CHECK(Clock::now() - start < kPrompt);
  });
}

TEST_CASE("several greenlets waiting on one socket all wake when it closes",
          "[net][cancel][close]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    std::vector<cogent::Greenlet<int>> readers;
    for (int i = 0; i < 3; ++i) {
      readers.push_back(cogent::spawn([&] {
        char b;
        return system_error_of([&] { server.read(&b, 1); });
      }));
    }
    auto waiter = cogent::spawn([&] { return system_error_of([&] { server.write_all("x"); }); });
    cogent::sleep(5ms);
    CHECK(waiter.get() == 0);  // a write with room does not wait
    server.close();
    for (auto& r : readers) CHECK(r.get() == EBADF);
  });
}

TEST_CASE("close from another greenlet wakes recv_from with EBADF", "[net][cancel][close]") {
  cogent::test::on_each_backend([] {
    auto u = cogent::net::UdpSocket::bind(SocketAddress::loopback(0));
    auto receiver = cogent::spawn([&] {
      char buf[8];
      SocketAddress from;
      return system_error_of([&] { u.recv_from(buf, sizeof buf, from); });
    });
    cogent::sleep(5ms);
    CHECK_FALSE(receiver.ready());
    u.close();
    CHECK(receiver.get() == EBADF);
  });
}

TEST_CASE("a closed TCP listener refuses connections at once, also after it accepted",
          "[net][failure][close]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const SocketAddress addr = SocketAddress::loopback(listener.local_address().port());
    {
      TcpStream c = TcpStream::connect(addr);
      TcpStream s = listener.accept();
    }
    listener.close();
    // No loop turn between close() and connect(): the socket must already be gone.
    CHECK(system_error_of([&] { TcpStream::connect(addr); }) == ECONNREFUSED);
  });
}

TEST_CASE("a closed TCP listener's port can be bound again at once", "[net][failure][close]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const std::uint16_t port = listener.local_address().port();
    {
      TcpStream c = TcpStream::connect(SocketAddress::loopback(port));
      TcpStream s = listener.accept();
    }
    listener.close();
    TcpListener again;
    CHECK(system_error_of([&] { again = TcpListener::bind(SocketAddress::loopback(port)); }) == 0);
  });
}

TEST_CASE("a closed Unix listener refuses connections at once, also after it accepted",
          "[net][failure][close]") {
  cogent::test::on_each_backend([] {
    char dir[] = "/tmp/cogent-net-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/l.sock";
    {
      auto listener = UnixListener::bind(path);
      {
        UnixStream c = UnixStream::connect(path);
        UnixStream s = listener.accept();
      }
      listener.close();
      CHECK(system_error_of([&] { UnixStream::connect(path); }) == ECONNREFUSED);
    }
    ::unlink(path.c_str());
    ::rmdir(dir);
  });
}

TEST_CASE("closing a stream with a read pending ends the connection at once",
          "[net][failure][close]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    auto reader = cogent::spawn([&] {
      char b;
      return system_error_of([&] { server.read(&b, 1); });
    });
    cogent::sleep(5ms);  // the read is waiting (on io_uring: in the ring)
    server.close();
    // No loop turn in between: the peer sees the end of the stream already.
    char b;
    const ssize_t n = ::recv(client.fd(), &b, 1, MSG_DONTWAIT);
    CHECK(n == 0);
    CHECK(reader.get() == EBADF);
  });
}

TEST_CASE("a descriptor number reused at once after a close with waiters serves its new socket",
          "[net][cancel][close]") {
  cogent::test::on_each_backend([] {
    // Each round a read is waiting when its socket is closed; the next socket (opened before
    // the hub has turned) usually gets the same number, and must work as any other.
    int reused = 0;
    for (int i = 0; i < 30; ++i) {
      auto [client, server] = cogent::test::tcp_pair();
      const int old_fd = server.fd();
      auto reader = cogent::spawn([&] {
        char b;
        return system_error_of([&] { server.read(&b, 1); });
      });
      cogent::sleep(0s);  // it is waiting now
      server.close();
      auto [c2, s2] = cogent::test::tcp_pair();
      reused += (c2.fd() == old_fd || s2.fd() == old_fd) ? 1 : 0;
      auto reader2 = cogent::spawn([&] {
        char b[3];
        s2.read_exact(b, sizeof b);
        return std::string(b, sizeof b);
      });
      cogent::sleep(0s);
      c2.write_all("new");
      CHECK(reader2.get() == "new");
      CHECK(reader.get() == EBADF);
      char b;
      CHECK(client.read(&b, 1) == 0);
    }
    INFO("rounds where the number was reused: " << reused);
    CHECK(reused > 0);
  });
}
