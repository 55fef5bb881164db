// A concurrent downloader, and the tiny web server it downloads from, in one thread. The server is
// a greenlet accepting on 127.0.0.1 (a free port) that answers GET /file/<i> with a made-up body
// of a known size after a 20 ms pause, one greenlet per connection. The downloader fetches M files
// through a cogent::Pool of N greenlets: N downloads are in flight at once, so M files take about
// M/N pauses instead of M. Each body is checked against the size and checksum it must have.
//
//   downloader [--files M] [--jobs N]        (defaults 40 and 8)

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <cogent/cogent.hpp>
#include <cogent/pool.hpp>

using namespace std::chrono_literals;
using cogent::net::SocketAddress;
using cogent::net::TcpListener;
using cogent::net::TcpStream;

namespace {

// ---- what the files contain: both sides compute it -----------------------------------------

std::size_t file_size(int i) { return static_cast<std::size_t>(i * 7919 % 50 * 3000 + i); }

std::string file_body(int i) {
  std::string body(file_size(i), '\0');
  for (std::size_t j = 0; j < body.size(); ++j) body[j] = static_cast<char>('a' + (i + j) % 26);
  return body;
}

std::uint32_t checksum(std::string_view bytes) {  // FNV-1a
  std::uint32_t h = 2166136261u;
  for (unsigned char c : bytes) h = (h ^ c) * 16777619u;
  return h;
}

// Reads from `stream` until the blank line that ends an HTTP head; returns head and the bytes
// read past it.
std::pair<std::string, std::string> read_head(TcpStream& stream) {
  std::string data;
  char buf[4096];
  for (;;) {
    const std::size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) return {data.substr(0, end), data.substr(end + 4)};
    const std::size_t n = stream.read(buf, sizeof buf);
    if (n == 0) throw std::runtime_error("connection closed inside the HTTP head");
    data.append(buf, n);
  }
}

// ---- the server ----------------------------------------------------------------------------

void answer(TcpStream stream) {
  const std::string head = read_head(stream).first;  // "GET /file/7 HTTP/1.1\r\n..."
  int i = -1;
  if (head.starts_with("GET /file/")) {
    const char* digits = head.data() + 10;
    std::from_chars(digits, head.data() + head.size(), i);
  }
  cogent::sleep(20ms);  // a slow disk, a busy backend...
  if (i < 0) {
    stream.write_all("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  const std::string body = file_body(i);
  stream.write_all("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\nConnection: close\r\n\r\n");
  stream.write_all(body);
}

void serve(TcpListener& listener, std::vector<cogent::Greenlet<void>>& connections) {
  for (;;) connections.push_back(cogent::spawn(answer, listener.accept()));
}

// ---- the downloader ------------------------------------------------------------------------

struct Stats {
  int in_flight = 0;
  int max_in_flight = 0;
  int bad = 0;
};

// Counts the downloads in flight for as long as it lives.
struct InFlight {
  Stats& stats;
  explicit InFlight(Stats& s) : stats(s) {
    stats.max_in_flight = std::max(stats.max_in_flight, ++stats.in_flight);
  }
  ~InFlight() { --stats.in_flight; }
};

// Downloads /file/<i> and checks it; returns its size.
std::size_t fetch(std::uint16_t port, int i, Stats& stats) {
  std::string head, body;
  {
    InFlight counted(stats);
    auto stream = TcpStream::connect(SocketAddress::loopback(port), 5s);
    stream.write_all("GET /file/" + std::to_string(i) +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    std::tie(head, body) = read_head(stream);

    std::size_t length = 0;
    const std::size_t at = head.find("Content-Length: ");
    if (at != std::string::npos) {
      const char* digits = head.data() + at + 16;
      std::from_chars(digits, head.data() + head.size(), length);
    }
    if (body.size() < length) {  // the rest of the body
      const std::size_t have = body.size();
      body.resize(length);
      stream.read_exact(body.data() + have, length - have);
    }
  }

  const bool ok = head.starts_with("HTTP/1.1 200 ") && body.size() == file_size(i) &&
                  checksum(body) == checksum(file_body(i));
  if (!ok) {
    std::printf("file %d: bad (%zu bytes)\n", i, body.size());
    ++stats.bad;
  }
  return body.size();
}

}  // namespace

int main(int argc, char** argv) {
  int files = 40;
  int jobs = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    if (arg == "--files") files = std::atoi(argv[i + 1]);
    if (arg == "--jobs") jobs = std::atoi(argv[i + 1]);
  }
  if (argc % 2 == 0 || files <= 0 || jobs <= 0) {
    std::fprintf(stderr, "usage: downloader [--files M] [--jobs N]\n");
    return 2;
  }

  try {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const std::uint16_t port = listener.local_address().port();
    std::vector<cogent::Greenlet<void>> connections;
    auto server = cogent::spawn(serve, std::ref(listener), std::ref(connections));

    const auto start = cogent::Clock::now();
    Stats stats;
    cogent::Pool pool(static_cast<std::size_t>(jobs));
    // f(i) for every i, each in a greenlet of the pool, `jobs` at a time; the sizes come back in
    // input order.
    const std::vector<std::size_t> sizes =
        pool.map([&](int i) { return fetch(port, i, stats); }, std::views::iota(0, files));
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(cogent::Clock::now() - start);
    const std::size_t bytes = std::accumulate(sizes.begin(), sizes.end(), std::size_t{0});

    server.kill();
    cogent::joinall(connections);

    std::printf("fetched %zu files, %zu bytes, %s\n", sizes.size(), bytes,
                stats.bad == 0 ? "all checksums ok" : "SOME CHECKSUMS BAD");
    std::printf("max concurrency observed: %d (pool of %d)\n", stats.max_in_flight, jobs);
    std::printf("took %lld ms; one at a time would take at least %d ms\n",
                static_cast<long long>(elapsed.count()), files * 20);
    return stats.bad == 0 && stats.max_in_flight <= jobs ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "downloader: %s\n", e.what());
    return 1;
  }
}
