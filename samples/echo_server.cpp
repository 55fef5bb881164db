// A TCP echo server: every byte a client sends comes back. One C++20 task per connection
// (--mode task, the default) or one greenlet per connection (--mode greenlet): the same loop,
// written once with co_await and once in blocking style.
//
//   echo_server --port N [--mode task|greenlet] [--backend uring|epoll] [--host 127.0.0.1]

#include <cstddef>
#include <memory>

#include <cogent/cogent.hpp>

#include "server_common.hpp"

namespace {

using cogent::net::TcpStream;

// On the heap, not the greenlet's stack: that is 64 KiB in all.
constexpr std::size_t kBufferSize = 64 * 1024;

void echo(TcpStream stream) {
  const auto buffer = std::make_unique_for_overwrite<char[]>(kBufferSize);
  while (const std::size_t n = stream.read(buffer.get(), kBufferSize)) {
    stream.write_all(buffer.get(), n);
  }
}

cogent::Task<> async_echo(TcpStream stream) {
  const auto buffer = std::make_unique_for_overwrite<char[]>(kBufferSize);
  while (const std::size_t n = co_await stream.async_read(buffer.get(), kBufferSize)) {
    co_await stream.async_write_all(buffer.get(), n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return sample::run_server("echo_server", argc, argv, {.serve = echo, .async_serve = async_echo});
}
