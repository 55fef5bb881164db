#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;
using cogent::net::SocketAddress;
using cogent::net::TcpListener;
using cogent::net::TcpStream;

TEST_CASE("connections queued before accept are all handed out, in order", "[net][accept]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const auto port = listener.local_address().port();
    // The first accept arms the listener; then five clients connect while nobody accepts.
    auto first = cogent::spawn([&] { return listener.accept(); });
    std::vector<TcpStream> clients;
    for (int i = 0; i < 6; ++i)
      clients.push_back(TcpStream::connect(SocketAddress::loopback(port)));
    TcpStream s0 = std::move(first.get());
    for (int i = 0; i < 6; ++i) {
      const char tag = static_cast<char>('a' + i);
      clients[static_cast<std::size_t>(i)].write_all(std::string(1, tag));
    }
    std::string tags(6, '?');
    s0.read_exact(&tags[0], 1);
    for (std::size_t i = 1; i < 6; ++i) {
      TcpStream s = listener.accept();
      s.read_exact(&tags[i], 1);
    }
    CHECK(tags == "abcdef");
  });
}

TEST_CASE("closing a listener with unclaimed connections leaks nothing", "[net][accept]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const auto port = listener.local_address().port();
    auto first = cogent::spawn([&] { return listener.accept(); });
    std::vector<TcpStream> clients;
    for (int i = 0; i < 4; ++i)
      clients.push_back(TcpStream::connect(SocketAddress::loopback(port)));
    first.get();
    cogent::sleep(5ms);  // let the standing request pick the rest up
    listener.close();
    // The peers of the unclaimed connections see them closed: an end of stream when the ring had
    // accepted them, a reset when they were still in the kernel's backlog.
    for (std::size_t i = 1; i < clients.size(); ++i) {
      char c;
      int outcome = 0;
      try {
        outcome = static_cast<int>(clients[i].read(&c, 1));
      } catch (const std::system_error& e) {
        outcome = -e.code().value();
      }
      CHECK((outcome == 0 || outcome == -ECONNRESET));
    }
  });
}

TEST_CASE("a listener nobody accepts on does not hide a deadlock", "[net][accept]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const auto port = listener.local_address().port();
    auto first = cogent::spawn([&] { return listener.accept(); });
    auto client = TcpStream::connect(SocketAddress::loopback(port));
    first.get();  // the listener now has its standing request (on io_uring), with no waiter
    cogent::Greenlet<void> a, b;
    a = cogent::spawn([&] { b.join(); });
    b = cogent::spawn([&] { a.join(); });
    CHECK_THROWS_AS(cogent::joinall(std::vector{a, b}), cogent::LoopExit);
    cogent::killall(std::vector{a, b});
  });
}
