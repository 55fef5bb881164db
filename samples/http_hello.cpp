// A minimal HTTP/1.1 keep-alive server that answers every request with "Hello, World!", enough
// for wrk or ab to load it. Requests are cut out of a per-connection buffer, so several
// pipelined in one read and one split across reads both work; a Content-Length body is skipped.
// One C++20 task per connection (--mode task, the default) or one greenlet (--mode greenlet).
//
//   http_hello --port N [--mode task|greenlet] [--backend uring|epoll] [--host 127.0.0.1]
//   curl http://127.0.0.1:N/

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <cogent/cogent.hpp>

#include "server_common.hpp"

namespace {

using cogent::net::TcpStream;

constexpr std::string_view kHello =
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
constexpr std::string_view kHelloThenClose =
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    "\r\nHello, World!";
constexpr std::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

constexpr std::size_t kReadSize = 16 * 1024;
constexpr std::size_t kMaxHead = 16 * 1024;  // request line and headers

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(
      a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Request {
  bool valid = false;
  bool keep_alive = true;
  std::size_t body_size = 0;
};

// Reads what this server cares about in a request head (up to, without, the blank line).
Request parse_head(std::string_view head) {
  Request request;
  const std::size_t line_end = std::min(head.find("\r\n"), head.size());
  const std::string_view line = head.substr(0, line_end);
  const std::size_t space = line.rfind(' ');
  if (space == std::string_view::npos || line.find(' ') == space) return request;
  const std::string_view version = line.substr(space + 1);
  if (version == "HTTP/1.0") {
    request.keep_alive = false;  // 1.0 closes unless the client asks otherwise
  } else if (version != "HTTP/1.1") {
    return request;
  }

  for (std::size_t at = line_end; at < head.size();) {
    const std::size_t start = at + 2;  // past the CRLF that ends the previous line
    const std::size_t end = std::min(head.find("\r\n", start), head.size());
    const std::string_view header = head.substr(start, end - start);
    at = end;
    const std::size_t colon = header.find(':');
    if (colon == std::string_view::npos) return request;
    const std::string_view name = header.substr(0, colon);
    const std::string_view value = trim(header.substr(colon + 1));
    if (equals_ignoring_case(name, "Content-Length")) {
      const auto [ptr, ec] =
          std::from_chars(value.data(), value.data() + value.size(), request.body_size);
      if (ec != std::errc() || ptr != value.data() + value.size()) return request;
    } else if (equals_ignoring_case(name, "Connection")) {
      if (equals_ignoring_case(value, "close")) request.keep_alive = false;
      if (equals_ignoring_case(value, "keep-alive")) request.keep_alive = true;
    } else if (equals_ignoring_case(name, "Transfer-Encoding")) {
      return request;  // a chunked body has no length up front: not supported here
    }
  }
  request.valid = true;
  return request;
}

// The bytes one connection received, cut into requests. Knows nothing of sockets, so the
// greenlet and the task below share it and differ only in how they read and write.
class HttpSession {
 public:
  /// Where the next read should land.
  std::span<char> read_space() {
    if (begin_ == end_) {
      begin_ = end_ = 0;
    } else if (begin_ > 0) {  // a partial request: move it to the front
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() - end_ < kReadSize) buffer_.resize(end_ + kReadSize);
    return {buffer_.data() + end_, buffer_.size() - end_};
  }

  /// `n` bytes landed in read_space(): appends the answer to every complete request to `out`.
  /// False when the connection must close once `out` is sent.
  bool received(std::size_t n, std::string& out) {
    end_ += n;
    for (;;) {
      const std::size_t skipped = std::min(body_left_, end_ - begin_);
      begin_ += skipped;
      body_left_ -= skipped;
      if (body_left_ > 0) return true;

      const std::string_view pending(buffer_.data() + begin_, end_ - begin_);
      const std::size_t head_size = pending.find("\r\n\r\n");
      if (head_size == std::string_view::npos) {
        if (pending.size() <= kMaxHead) return true;  // wait for the rest
        out += kBadRequest;
        return false;
      }
      const Request request = parse_head(pending.substr(0, head_size));
      if (!request.valid) {
        out += kBadRequest;
        return false;
      }
      out += request.keep_alive ? kHello : kHelloThenClose;
      if (!request.keep_alive) return false;
      begin_ += head_size + 4;
      body_left_ = request.body_size;
    }
  }

 private:
  std::vector<char> buffer_;
  std::size_t begin_ = 0;      // the first byte not parsed yet
  std::size_t end_ = 0;        // one past the last byte received
  std::size_t body_left_ = 0;  // body bytes of the last request still to skip
};

void serve(TcpStream stream) {
  HttpSession session;
  std::string answers;
  for (;;) {
    const std::span<char> space = session.read_space();
    const std::size_t n = stream.read(space.data(), space.size());
    if (n == 0) return;
    const bool keep_alive = session.received(n, answers);
    if (!answers.empty()) {  // empty while a request is still partial
      stream.write_all(answers);
      answers.clear();
    }
    if (!keep_alive) return;
  }
}

cogent::Task<> async_serve(TcpStream stream) {
  HttpSession session;
  std::string answers;
  for (;;) {
    const std::span<char> space = session.read_space();
    const std::size_t n = co_await stream.async_read(space.data(), space.size());
    if (n == 0) co_return;
    const bool keep_alive = session.received(n, answers);
    if (!answers.empty()) {  // empty while a request is still partial
      co_await stream.async_write_all(answers);
      answers.clear();
    }
    if (!keep_alive) co_return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  return sample::run_server("http_hello", argc, argv, {.serve = serve, .async_serve = async_serve});
}
