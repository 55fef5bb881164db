// A load and correctness client for echo_server: C connections, each in its own greenlet, send
// M messages of B bytes with a known pattern and check every echo byte for byte. Prints one
// summary line; exits 1 on any error or mismatch.
//
//   echo_client --port N [--host 127.0.0.1] [--connections C] [--messages M] [--size B]

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cogent/cogent.hpp>

namespace {

using namespace std::chrono_literals;
using cogent::net::SocketAddress;
using cogent::net::TcpStream;

struct Options {
  std::uint16_t port = 0;
  std::string host = "127.0.0.1";
  long connections = 100;
  long messages = 100;
  long size = 64;
};

// What one connection achieved; main() adds them up.
struct Outcome {
  long messages = 0;  // echoes received intact
  long long bytes = 0;
  std::string mismatch;  // the first corrupted echo, described
  std::string error;     // what ended the connection early
};

// Byte i of message m on connection c. 251 is prime, so a shifted or repeated block of any
// power-of-two size does not match by accident.
void fill_pattern(std::vector<char>& message, long connection, long m) {
  for (std::size_t i = 0; i < message.size(); ++i) {
    message[i] = static_cast<char>((connection * 13 + m * 7 + static_cast<long>(i)) % 251);
  }
}

// Reads the echoes of every message, in order, and checks them. Stops at the first mismatch.
void check_echoes(TcpStream& stream, const Options& options, long connection, Outcome& outcome) {
  std::vector<char> echo(static_cast<std::size_t>(options.size));
  std::vector<char> expected(echo.size());
  for (long m = 0; m < options.messages; ++m) {
    stream.read_exact(echo.data(), echo.size());
    fill_pattern(expected, connection, m);
    const auto [got, want] = std::ranges::mismatch(echo, expected);
    if (got != echo.end()) {
      outcome.mismatch = "connection " + std::to_string(connection) + ", message " +
                         std::to_string(m) + ": byte " + std::to_string(got - echo.begin()) +
                         " differs";
      return;
    }
    ++outcome.messages;
    outcome.bytes += options.size;
  }
}

// One connection. A second greenlet sends while this one reads: written in lockstep instead, a
// message larger than what the socket buffers hold would leave both ends blocked in write().
void run_connection(const SocketAddress& server, const Options& options, long connection,
                    Outcome& outcome) {
  try {
    TcpStream stream = TcpStream::connect(server, 5s);
    stream.set_nodelay(true);
    cogent::Greenlet<> sender = cogent::spawn([&] {
      std::vector<char> message(static_cast<std::size_t>(options.size));
      for (long m = 0; m < options.messages; ++m) {
        fill_pattern(message, connection, m);
        stream.write_all(message.data(), message.size());
      }
    });
    try {
      check_echoes(stream, options, connection, outcome);
    } catch (...) {
      sender.kill();  // it uses `stream`, which is about to go
      throw;
    }
    if (outcome.mismatch.empty()) {
      sender.get();  // every echo came back, so it has sent everything; rethrows its error
    } else {
      sender.kill();
    }
  } catch (const std::exception& e) {
    outcome.error = "connection " + std::to_string(connection) + ": " + e.what();
  }
}

std::optional<long> parse_number(std::string_view text, long min, long max) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: echo_client --port N [--host IP] [--connections C] [--messages M] "
               "[--size B]\n"
               "  C connections (default 100) each send M messages (100) of B bytes (64) to an "
               "echo server\n"
               "  and check every echo; exits 1 on any error or mismatch.\n");
}

std::optional<Options> parse_args(int argc, char** argv) {
  Options options;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "echo_client: %s needs a value\n", argv[i]);
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    std::optional<long> number;
    if (arg == "--host") {
      options.host = value;
      continue;
    }
    if (arg == "--port" && (number = parse_number(value, 1, 65535))) {
      options.port = static_cast<std::uint16_t>(*number);
      have_port = true;
    } else if (arg == "--connections" && (number = parse_number(value, 1, 1'000'000))) {
      options.connections = *number;
    } else if (arg == "--messages" && (number = parse_number(value, 0, 1'000'000'000))) {
      options.messages = *number;
    } else if (arg == "--size" && (number = parse_number(value, 1, 1L << 30))) {
      options.size = *number;
    } else {
      std::fprintf(stderr, "echo_client: bad option %s %s\n", argv[i - 1], argv[i]);
      return std::nullopt;
    }
  }
  if (!have_port) {
    std::fprintf(stderr, "echo_client: --port is required\n");
    return std::nullopt;
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> parsed = parse_args(argc, argv);
  if (!parsed) {
    usage(stderr);
    return 2;
  }
  const Options& options = *parsed;
  SocketAddress server;
  try {
    server = SocketAddress::parse(options.host, options.port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_client: --host %s: %s\n", options.host.c_str(), e.what());
    return 2;
  }

  std::vector<Outcome> outcomes(static_cast<std::size_t>(options.connections));
  std::vector<cogent::Greenlet<>> clients;
  clients.reserve(outcomes.size());
  const auto start = cogent::Clock::now();
  for (long c = 0; c < options.connections; ++c) {
    clients.push_back(cogent::spawn(run_connection, std::cref(server), std::cref(options), c,
                                    std::ref(outcomes[static_cast<std::size_t>(c)])));
  }
  cogent::joinall(clients);
  const double seconds = std::chrono::duration<double>(cogent::Clock::now() - start).count();

  Outcome total;
  long errors = 0;
  long mismatches = 0;
  for (const Outcome& o : outcomes) {
    total.messages += o.messages;
    total.bytes += o.bytes;
    if (!o.error.empty() && errors++ == 0) total.error = o.error;
    if (!o.mismatch.empty() && mismatches++ == 0) total.mismatch = o.mismatch;
  }
  std::printf(
      "echo_client: %ld connections, %ld of %lld messages echoed intact, %lld bytes, "
      "%.3f s (%.0f msg/s, %.1f MB/s), %ld mismatches, %ld errors\n",
      options.connections, total.messages,
      static_cast<long long>(options.connections) * options.messages, total.bytes, seconds,
      total.messages / seconds, total.bytes / seconds / 1e6, mismatches, errors);
  if (!total.mismatch.empty()) std::fprintf(stderr, "first mismatch: %s\n", total.mismatch.c_str());
  if (!total.error.empty()) std::fprintf(stderr, "first error: %s\n", total.error.c_str());
  return errors == 0 && mismatches == 0 ? 0 : 1;
}
