// asio_echo: the peer for cogent's C++20 task echo server, a TCP echo server on Boost.Asio with
// C++20 coroutines written the way Asio's own example (cpp20/coroutines/echo_server.cpp) does it:
// an acceptor coroutine that co_spawns one coroutine per connection, async_read_some then
// async_write, all on one io_context run by one thread.
//
//   asio_echo [--host 127.0.0.1] [--port N]    (N = 0: any free port)
//
// Prints `listening on N` once it listens. SIGINT or SIGTERM (an asio::signal_set) stops the
// io_context and ends it with status 0.

#include <signal.h>

#include <array>
#include <boost/asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "echo_peer_options.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t kBufferSize = 64 * 1024;

asio::awaitable<void> echo(tcp::socket socket) {
  // In the coroutine frame, so one allocation per connection holds the buffer too.
  std::array<char, kBufferSize> data;
  try {
    for (;;) {
      const std::size_t n =
          co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
    }
  } catch (const std::exception&) {
    // EOF or a reset: this connection is over; the socket's destructor closes it.
  }
}

asio::awaitable<void> listener(tcp::acceptor acceptor) {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    // as_tuple rather than an exception: a failed accept (ECONNABORTED, EMFILE) must not end
    // the listener.
    auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (error) {
      if (error != asio::error::connection_aborted) {
        std::fprintf(stderr, "asio_echo: accept: %s\n", error.message().c_str());
      }
      continue;
    }
    socket.set_option(tcp::no_delay(true), error);
    asio::co_spawn(executor, echo(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const echo_peer::Options options = echo_peer::parse_options("asio_echo", argc, argv);
  echo_peer::raise_fd_limit();
  ::signal(SIGPIPE, SIG_IGN);

  try {
    asio::io_context io(1);  // one thread runs it: Asio may skip some locking
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { io.stop(); });

    // The constructor opens, sets SO_REUSEADDR, binds and listens with SOMAXCONN.
    tcp::acceptor acceptor(
        io, {asio::ip::make_address(options.host), static_cast<unsigned short>(options.port)});
    std::printf("listening on %d\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    asio::co_spawn(io, listener(std::move(acceptor)), asio::detached);

    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
