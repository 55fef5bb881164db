#include "support/tcp_pair.hpp"

#include <cogent/greenlet.hpp>
#include <cogent/net/listener.hpp>

namespace cogent::test {

std::pair<net::TcpStream, net::TcpStream> tcp_pair() {
  auto listener = net::TcpListener::bind(net::SocketAddress::loopback(0));
  auto accepted = spawn([&] { return listener.accept(); });
  net::TcpStream client =
      net::TcpStream::connect(net::SocketAddress::loopback(listener.local_address().port()));
  net::TcpStream server = std::move(accepted.get());
  return {std::move(client), std::move(server)};
}

}  // namespace cogent::test
