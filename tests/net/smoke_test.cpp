#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <string>

#include "support/backend_fixture.hpp"

using namespace std::chrono_literals;
using cogent::net::SocketAddress;
using cogent::net::TcpListener;
using cogent::net::TcpStream;

TEST_CASE("smoke: greenlet echo over loopback", "[net]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const auto port = listener.local_address().port();
    auto server = cogent::spawn([&] {
      TcpStream s = listener.accept();
      char buf[5];
      s.read_exact(buf, 5);
      s.write_all(buf, 5);
    });
    TcpStream c = TcpStream::connect(SocketAddress::loopback(port));
    c.write_all("hello");
    char back[5];
    c.read_exact(back, 5);
    CHECK(std::string(back, 5) == "hello");
    server.get();
  });
}

TEST_CASE("smoke: task echo over loopback", "[net]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const auto port = listener.local_address().port();
    auto server = [&]() -> cogent::Task<> {
      TcpStream s = co_await listener.async_accept();
      char buf[5];
      co_await s.async_read_exact(buf, 5);
      co_await s.async_write_all(buf, 5);
    };
    auto client = [&]() -> cogent::Task<std::string> {
      TcpStream c = co_await TcpStream::async_connect(SocketAddress::loopback(port));
      co_await c.async_write_all("world");
      char back[5];
      co_await c.async_read_exact(back, 5);
      co_return std::string(back, 5);
    };
    auto s = cogent::spawn(server());
    CHECK(cogent::spawn(client()).get() == "world");
    s.get();
  });
}
