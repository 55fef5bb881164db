// Every blocking socket call can be cut short: by a cogent::Timeout in scope, by the call's own
// timeout, and by kill(). The call ends promptly with the documented error (nothing it already
// received is lost), its greenlet's destructors run, and no descriptor is left behind. (Cutting a
// wait short by closing the socket: close_test.cpp.)
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
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
using cogent::net::ListenOptions;
using cogent::net::SocketAddress;
using cogent::net::TcpListener;
using cogent::net::TcpStream;

using cogent::test::system_error_of;

namespace {

/// Generous bound for "promptly": far above any scheduling delay, far below a hang.
constexpr auto kPrompt = 1s;

/// A listener that never accepts and whose accept queue is full, so the kernel drops the SYN of
/// any further connect (tcp_conn_request: "sk_acceptq_is_full ... goto drop"): that connect is
/// never answered and hangs until given up. With backlog 0 the queue holds one connection.
class SilentListener {
 public:
  SilentListener() {
    ListenOptions options;
    options.backlog = 0;
    listener_ = TcpListener::bind(SocketAddress::loopback(0), options);
    address_ = SocketAddress::loopback(listener_.local_address().port());
    // Connect until one hangs: that proves the queue is full. Bounded, in case it never does.
    for (int i = 0; i < 8 && !full_; ++i) {
      try {
        fillers_.push_back(TcpStream::connect(address_, 100ms));
      } catch (const cogent::TimeoutError&) {
        full_ = true;
      }
    }
  }
  const SocketAddress& address() const { return address_; }
  /// The queue is full: a new connect hangs.
  bool full() const { return full_; }
  std::size_t fillers() const { return fillers_.size(); }

 private:
  TcpListener listener_;
  SocketAddress address_;
  std::vector<TcpStream> fillers_;
  bool full_ = false;
};

/// 0 to 2 ms in 50 µs steps, spread over the rounds of a race: some rounds the data wins, some
/// the deadline, and some both land in the same loop turn.
std::chrono::microseconds jitter(int round) {
  return std::chrono::microseconds((round * 37 % 41) * 50);
}

struct Unwound {
  bool& flag;
  ~Unwound() { flag = true; }
};

}  // namespace

TEST_CASE("a Timeout interrupts accept, and the listener accepts afterwards", "[net][cancel]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const auto port = listener.local_address().port();
    const auto start = Clock::now();
    {
      cogent::Timeout t(30ms);
      try {
        listener.accept();
        FAIL("accept returned with nobody connecting");
      } catch (const cogent::TimeoutError& e) {
        CHECK(e.source() == &t);
      }
      CHECK(t.expired());
    }
    CHECK(Clock::now() - start >= 30ms);
    CHECK(Clock::now() - start < kPrompt);

    // Task face, also under a Timeout.
    auto timed_accept = [&]() -> cogent::Task<bool> {
      cogent::Timeout t(20ms);
      try {
        co_await listener.async_accept();
      } catch (const cogent::TimeoutError& e) {
        co_return e.source() == &t;
      }
      co_return false;
    };
    CHECK(cogent::spawn(timed_accept()).get());

    // Nothing of the interrupted accepts lingers: the next connection is accepted normally.
    TcpStream c = TcpStream::connect(SocketAddress::loopback(port));
    TcpStream s = listener.accept();
    c.write_all("after");
    char buf[5];
    s.read_exact(buf, 5);
    CHECK(std::string(buf, 5) == "after");
  });
}

TEST_CASE("a Timeout interrupts read, and the next read gets the data sent later",
          "[net][cancel]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    char buf[16];
    const auto start = Clock::now();
    {
      cogent::Timeout t(30ms);
      try {
        server.read(buf, sizeof buf);
        FAIL("read returned with nothing sent");
      } catch (const cogent::TimeoutError& e) {
        CHECK(e.source() == &t);
      }
    }
    CHECK(Clock::now() - start >= 30ms);
    CHECK(Clock::now() - start < kPrompt);
    client.write_all("later");
    CHECK(server.read(buf, sizeof buf) == 5);
    CHECK(std::string(buf, 5) == "later");

    // The same through read_exact, and through the task face.
    {
      cogent::Timeout t(20ms);
      CHECK_THROWS_AS(server.read_exact(buf, 4), cogent::TimeoutError);
    }
    auto timed_read = [&]() -> cogent::Task<std::string> {
      char b[16];
      try {
        cogent::Timeout t(20ms);
        co_await server.async_read(b, sizeof b);
        co_return "read returned";
      } catch (const cogent::TimeoutError&) {
      }
      // Interrupted, the socket still works: this read waits for the bytes below.
      const std::size_t n = co_await server.async_read(b, sizeof b);
      co_return std::string(b, n);
    };
    auto reader = cogent::spawn(timed_read());
    cogent::sleep(40ms);
    client.write_all("still here");
    CHECK(reader.get() == "still here");
  });
}

TEST_CASE("a connect nobody answers hangs until a Timeout or its own timeout", "[net][cancel]") {
  cogent::test::on_each_backend([] {
    SilentListener silent;
    INFO("connects before the listener's queue was full: " << silent.fillers());
    REQUIRE(silent.full());

    // A Timeout in scope.
    auto start = Clock::now();
    {
      cogent::Timeout t(50ms);
      try {
        TcpStream::connect(silent.address());
        FAIL("connect to a full listener succeeded");
      } catch (const cogent::TimeoutError& e) {
        CHECK(e.source() == &t);
      }
    }
    CHECK(Clock::now() - start >= 50ms);
    CHECK(Clock::now() - start < kPrompt);

    // The call's own timeout: a TimeoutError from no Timeout object.
    start = Clock::now();
    try {
      TcpStream::connect(silent.address(), 50ms);
      FAIL("connect to a full listener succeeded");
    } catch (const cogent::TimeoutError& e) {
      CHECK(e.source() == nullptr);
    }
    CHECK(Clock::now() - start >= 50ms);
    CHECK(Clock::now() - start < kPrompt);

    // Task face: own timeout, and a Timeout around async_connect.
    auto own = [&]() -> cogent::Task<bool> {
      try {
        co_await TcpStream::async_connect(silent.address(), 50ms);
      } catch (const cogent::TimeoutError& e) {
        co_return e.source() == nullptr;
      }
      co_return false;
    };
    CHECK(cogent::spawn(own()).get());
    auto scoped = [&]() -> cogent::Task<bool> {
      cogent::Timeout t(50ms);
      try {
        co_await TcpStream::async_connect(silent.address());
      } catch (const cogent::TimeoutError& e) {
        co_return e.source() == &t;
      }
      co_return false;
    };
    CHECK(cogent::spawn(scoped()).get());

    // Connecting elsewhere is unaffected.
    auto [c, s] = cogent::test::tcp_pair();
    c.write_all("x");
    char b;
    CHECK(s.read(&b, 1) == 1);
  });
}

TEST_CASE("a connect timeout that does not expire changes nothing", "[net][cancel]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const auto addr = SocketAddress::loopback(listener.local_address().port());
    TcpStream c = TcpStream::connect(addr, 2s);
    TcpStream s = listener.accept();
    // Well past the connect's deadline, the connection is still fine.
    cogent::sleep(10ms);
    {
      cogent::Timeout t(2s);
      c.write_all("ok");
      char buf[2];
      s.read_exact(buf, 2);
      CHECK(std::string(buf, 2) == "ok");
    }
    auto task = [&]() -> cogent::Task<> {
      TcpStream c2 = co_await TcpStream::async_connect(addr, 2s);
      co_await c2.async_write_all("t");
    };
    cogent::spawn(task()).get();
    TcpStream s2 = listener.accept();
    char b;
    CHECK(s2.read(&b, 1) == 1);
    CHECK(b == 't');
  });
}

TEST_CASE("a Timeout interrupts sleep in a greenlet and in a task", "[net][cancel]") {
  cogent::test::on_each_backend([] {
    {
      cogent::Timeout t(20ms);
      try {
        cogent::sleep(10s);
        FAIL("slept through the Timeout");
      } catch (const cogent::TimeoutError& e) {
        CHECK(e.source() == &t);
      }
    }
    auto task = []() -> cogent::Task<bool> {
      cogent::Timeout t(20ms);
      try {
        co_await cogent::async_sleep(10s);
      } catch (const cogent::TimeoutError& e) {
        co_return e.source() == &t;
      }
      co_return false;
    };
    CHECK(cogent::spawn(task()).get());
  });
}

TEST_CASE("kill of a greenlet blocked in read unwinds it and closes what it owned",
          "[net][cancel][kill]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    bool unwound = false;
    bool read_returned = false;
    auto g = cogent::spawn(
        [&](TcpStream s) {
          Unwound guard{unwound};
          char buf[8];
          s.read(buf, sizeof buf);
          read_returned = true;
        },
        std::move(server));
    cogent::sleep(5ms);  // it is parked in read now
    CHECK_FALSE(g.ready());
    const auto start = Clock::now();
    g.kill();
    CHECK(Clock::now() - start < kPrompt);
    CHECK(g.ready());
    CHECK_THROWS_AS(g.get(), cogent::GreenletExit);
    CHECK(unwound);
    CHECK_FALSE(read_returned);
    // Its stream was destroyed on the way out: the peer reads the end of the stream.
    char b;
    CHECK(client.read(&b, 1) == 0);
  });
}

TEST_CASE("kill of a task blocked in async_read ends it the same way", "[net][cancel][kill]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    bool unwound = false;
    auto reader = [&](TcpStream s) -> cogent::Task<int> {
      Unwound guard{unwound};
      char buf[8];
      co_await s.async_read(buf, sizeof buf);
      co_return 1;
    };
    auto t = cogent::spawn(reader(std::move(server)));
    cogent::sleep(5ms);
    CHECK_FALSE(t.ready());
    t.kill();
    CHECK(t.ready());
    CHECK_THROWS_AS(t.get(), cogent::GreenletExit);
    CHECK(unwound);
    char b;
    CHECK(client.read(&b, 1) == 0);

    // Killed from another task, with async_kill.
    auto [c2, s2] = cogent::test::tcp_pair();
    bool unwound2 = false;
    auto reader2 = [&](TcpStream s) -> cogent::Task<> {
      Unwound guard{unwound2};
      char buf[8];
      co_await s.async_read_exact(buf, sizeof buf);
    };
    auto victim = cogent::spawn(reader2(std::move(s2)));
    auto killer = [&]() -> cogent::Task<bool> {
      co_await cogent::async_sleep(5ms);
      co_await victim.async_kill();
      co_return victim.ready();
    };
    CHECK(cogent::spawn(killer()).get());
    CHECK(unwound2);
    CHECK_THROWS_AS(victim.get(), cogent::GreenletExit);
    CHECK(c2.read(&b, 1) == 0);
  });
}

TEST_CASE("kill of a greenlet blocked in connect or accept leaves no descriptor behind",
          "[net][cancel][kill]") {
  cogent::test::on_each_backend([] {
    SilentListener silent;
    REQUIRE(silent.full());
    auto connecting = cogent::spawn([&] { return TcpStream::connect(silent.address()); });
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    auto accepting = cogent::spawn([&] { return listener.accept(); });
    cogent::sleep(5ms);
    CHECK_FALSE(connecting.ready());
    CHECK_FALSE(accepting.ready());
    connecting.kill();
    accepting.kill();
    CHECK_THROWS_AS(connecting.get(), cogent::GreenletExit);
    CHECK_THROWS_AS(accepting.get(), cogent::GreenletExit);
    // (the fixture checks that the connecting socket was closed)
  });
}

TEST_CASE("kill of a greenlet blocked writing to a full socket", "[net][cancel][kill]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    bool unwound = false;
    auto writer = cogent::spawn(
        [&](TcpStream s) {
          Unwound guard{unwound};
          const std::string big(16 << 20, 'w');  // far more than the buffers hold
          s.write_all(big);
        },
        std::move(client));
    cogent::sleep(10ms);
    CHECK_FALSE(writer.ready());
    writer.kill();
    CHECK_THROWS_AS(writer.get(), cogent::GreenletExit);
    CHECK(unwound);
    // The reader drains what was written, then sees the end of the stream. Bounded by the size.
    std::vector<char> buf(1 << 20);
    std::size_t total = 0;
    for (int i = 0; i < 100000; ++i) {
      const std::size_t n = server.read(buf.data(), buf.size());
      if (n == 0) break;
      total += n;
    }
    CHECK(total > 0);
    CHECK(total < (std::size_t{16} << 20));
    CHECK(server.read(buf.data(), 1) == 0);
  });
}

TEST_CASE("a Timeout interrupts write_all, recv_from and a Unix accept", "[net][cancel]") {
  cogent::test::on_each_backend([] {
    // A write blocked on a full socket.
    auto [client, server] = cogent::test::tcp_pair();
    const std::string big(16 << 20, 'w');
    {
      cogent::Timeout t(30ms);
      try {
        client.write_all(big);
        FAIL("16 MiB fitted in the socket buffers");
      } catch (const cogent::TimeoutError& e) {
        CHECK(e.source() == &t);
      }
    }
    // A datagram socket with nothing to receive; afterwards it still receives.
    auto u = cogent::net::UdpSocket::bind(SocketAddress::loopback(0));
    char buf[8];
    SocketAddress from;
    {
      cogent::Timeout t(20ms);
      CHECK_THROWS_AS(u.recv_from(buf, sizeof buf, from), cogent::TimeoutError);
    }
    auto task = [&]() -> cogent::Task<bool> {
      cogent::Timeout t(20ms);
      try {
        co_await u.async_recv_from(buf, sizeof buf, from);
      } catch (const cogent::TimeoutError& e) {
        co_return e.source() == &t;
      }
      co_return false;
    };
    CHECK(cogent::spawn(task()).get());
    CHECK(u.send_to("u", 1, u.local_address()) == 1);
    CHECK(u.recv_from(buf, sizeof buf, from) == 1);

    // A Unix-domain accept.
    char dir[] = "/tmp/cogent-net-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/t.sock";
    {
      auto l = cogent::net::UnixListener::bind(path);
      cogent::Timeout t(20ms);
      CHECK_THROWS_AS(l.accept(), cogent::TimeoutError);
    }
    ::unlink(path.c_str());
    ::rmdir(dir);
  });
}

TEST_CASE("a Timeout racing with arriving bytes loses none of them", "[net][cancel][race]") {
  cogent::test::on_each_backend([] {
    auto [client, server] = cogent::test::tcp_pair();
    // Each round one byte is sent 0 to 2 ms after a read with a 1 ms Timeout begins. A byte the
    // read took is returned by it; one it did not take must still be in the socket, where a
    // second read finds it (bounded by a long Timeout), so every round starts empty.
    std::string sent, got;
    int interrupted = 0;
    for (int i = 0; i < 200; ++i) {
      const char ch = static_cast<char>('a' + i % 26);
      sent += ch;
      auto w = cogent::spawn_later(jitter(i), [&client, ch] { client.write_all(&ch, 1); });
      char b[4];
      try {
        cogent::Timeout t(1ms);
        got.append(b, server.read(b, sizeof b));
      } catch (const cogent::TimeoutError&) {
        ++interrupted;
        w.join();
        cogent::Timeout t(2s);
        got.append(b, server.read(b, sizeof b));
      }
      w.join();
    }
    INFO("reads interrupted: " << interrupted << " of 200");  // shown with -s
    CHECK(got == sent);

    // The same with a task.
    auto rounds = [&]() -> cogent::Task<std::pair<std::string, int>> {
      std::string out;
      int cut = 0;
      for (int i = 0; i < 200; ++i) {
        const char ch = static_cast<char>('A' + i % 26);
        auto w = cogent::spawn_later(jitter(i), [&server, ch] { server.write_all(&ch, 1); });
        char b[4];
        bool timed_out = false;
        try {
          cogent::Timeout t(1ms);
          out.append(b, co_await client.async_read(b, sizeof b));
        } catch (const cogent::TimeoutError&) {
          timed_out = true;
        }
        co_await w;
        if (timed_out) {
          ++cut;
          cogent::Timeout t(2s);
          out.append(b, co_await client.async_read(b, sizeof b));
        }
      }
      co_return std::make_pair(out, cut);
    };
    std::string sent2;
    for (int i = 0; i < 200; ++i) sent2 += static_cast<char>('A' + i % 26);
    const auto [got2, cut] = cogent::spawn(rounds()).get();
    INFO("async reads interrupted: " << cut << " of 200");
    CHECK(got2 == sent2);
  });
}

TEST_CASE("a Timeout racing with arriving connections loses none of them", "[net][cancel][race]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const auto addr = SocketAddress::loopback(listener.local_address().port());
    std::vector<TcpStream> clients, accepted;
    for (int i = 0; i < 100; ++i) {
      auto c = cogent::spawn_later(jitter(i), [&] { clients.push_back(TcpStream::connect(addr)); });
      try {
        cogent::Timeout t(1ms);
        accepted.push_back(listener.accept());
      } catch (const cogent::TimeoutError&) {
      }
      c.join();
    }
    {
      cogent::Timeout t(5s);
      while (accepted.size() < clients.size()) accepted.push_back(listener.accept());
    }
    CHECK(clients.size() == 100);
    CHECK(accepted.size() == 100);
    // Each accepted stream is one of the clients: a byte from each arrives on exactly one.
    for (std::size_t i = 0; i < clients.size(); ++i) {
      const char tag = static_cast<char>(i);
      clients[i].write_all(&tag, 1);
    }
    std::vector<int> seen(100, 0);
    for (auto& s : accepted) {
      char tag;
      s.read_exact(&tag, 1);
      ++seen[static_cast<unsigned char>(tag)];
    }
    CHECK(std::count(seen.begin(), seen.end(), 1) == 100);
  });
}
