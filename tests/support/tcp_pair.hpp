// A connected pair of TCP streams over 127.0.0.1, for tests that need two ends of a real TCP
// connection. Call from a greenlet (main() included): it accepts while it connects.
//
//   auto [client, server] = cogent::test::tcp_pair();
#pragma once

#include <cogent/net/stream.hpp>
#include <utility>

namespace cogent::test {

/// {the connecting end, the accepted end}; the listener is gone when this returns.
std::pair<net::TcpStream, net::TcpStream> tcp_pair();

}  // namespace cogent::test
