// What echo_server and http_hello share: option parsing, a clean exit on SIGINT/SIGTERM, an
// accept loop that survives running out of descriptors, and one greenlet or task per connection.
// A server supplies only what it does with one connection, in both styles:
//
//   void serve(cogent::net::TcpStream stream);                   // --mode greenlet
//   cogent::Task<> async_serve(cogent::net::TcpStream stream);   // --mode task
//   int main(int argc, char** argv) {
//     return sample::run_server("my_server", argc, argv, {serve, async_serve});
//   }
#pragma once

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <cogent/cogent.hpp>

namespace sample {

using cogent::net::TcpListener;
using cogent::net::TcpStream;

// ---- options ---------------------------------------------------------------------------------

enum class Mode { kTask, kGreenlet };

struct ServerOptions {
  std::uint16_t port = 0;
  std::string host = "127.0.0.1";
  Mode mode = Mode::kTask;
  std::string backend;  // empty: the hub's default
};

inline void server_usage(const char* program, std::FILE* to) {
  std::fprintf(to,
               "usage: %s --port N [--mode task|greenlet] [--backend uring|epoll] [--host IP]\n"
               "  --port 0 picks a free port; the server prints 'listening on N' once it "
               "accepts.\n"
               "  SIGINT or SIGTERM stops it (exit code 0).\n",
               program);
}

/// The options, or nullopt (after saying why on stderr) when the command line is wrong.
inline std::optional<ServerOptions> parse_server_options(const char* program, int argc,
                                                         char** argv) {
  ServerOptions options;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      server_usage(program, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value\n", program, argv[i]);
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    if (arg == "--port") {
      const auto [end, ec] =
          std::from_chars(value.data(), value.data() + value.size(), options.port);
      if (ec != std::errc() || end != value.data() + value.size()) {
        std::fprintf(stderr, "%s: --port wants 0..65535, not '%s'\n", program, argv[i]);
        return std::nullopt;
      }
      have_port = true;
    } else if (arg == "--mode" && (value == "task" || value == "greenlet")) {
      options.mode = value == "task" ? Mode::kTask : Mode::kGreenlet;
    } else if (arg == "--backend" && (value == "uring" || value == "epoll")) {
      options.backend = value;
    } else if (arg == "--host") {
      options.host = value;
    } else {
      std::fprintf(stderr, "%s: bad option %s %s\n", program, argv[i - 1], argv[i]);
      return std::nullopt;
    }
  }
  if (!have_port) {
    std::fprintf(stderr, "%s: --port is required\n", program);
    return std::nullopt;
  }
  return options;
}

// ---- shutdown on SIGINT / SIGTERM ------------------------------------------------------------

/// SIGINT and SIGTERM turned into a readable descriptor, so a greenlet can wait for them like for
/// any other I/O instead of running code in a signal handler.
class ShutdownSignals {
 public:
  /// Blocks the signals and opens the signalfd. Construct it before the hub and before any other
  /// thread exists: threads inherit the mask, and a thread that left the signals unblocked would
  /// take them with the default action (terminate) instead of the signalfd seeing them.
  ShutdownSignals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (::sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) {
      throw std::system_error(errno, std::system_category(), "sigprocmask");
    }
    fd_ = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::system_category(), "signalfd");
  }
  // The mask stays as it is: unblocking would deliver a second SIGTERM that arrived during
  // shutdown with its default action, and the exit code would no longer be 0.
  ~ShutdownSignals() { ::close(fd_); }
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  /// Blocks the calling greenlet until one of the signals arrives; returns its number.
  int wait() {
    for (;;) {
      cogent::wait_read(fd_);
      signalfd_siginfo info;
      const ssize_t n = ::read(fd_, &info, sizeof info);
      if (n == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        throw std::system_error(errno, std::system_category(), "read(signalfd)");
      }
    }
  }

 private:
  int fd_ = -1;
};

// ---- the connections -------------------------------------------------------------------------

/// The handles of the connection greenlets, so that shutdown can kill the ones still running.
/// Finished ones are dropped as new ones come, in batches, so the list stays near the number of
/// live connections.
class Connections {
 public:
  void add(cogent::Greenlet<> connection) {
    if (handles_.size() >= prune_at_) {
      std::erase_if(handles_, [](const cogent::Greenlet<>& g) { return g.ready(); });
      prune_at_ = std::max(kMinPruneAt, 2 * handles_.size());
    }
    handles_.push_back(std::move(connection));
  }

  /// Kills every connection still running and waits until all are gone.
  void kill_all() {
    cogent::killall(handles_);
    handles_.clear();
  }

 private:
  static constexpr std::size_t kMinPruneAt = 1024;
  std::vector<cogent::Greenlet<>> handles_;
  std::size_t prune_at_ = kMinPruneAt;
};

/// A connection ended by an I/O error. The peer resetting or vanishing is how many clients say
/// goodbye; anything else is worth a line on stderr, but never ends the server.
inline void report_connection_error(const std::system_error& e) {
  if (e.code() == std::errc::connection_reset || e.code() == std::errc::broken_pipe) return;
  std::fprintf(stderr, "connection: %s\n", e.what());
}

/// One connection in a greenlet: the server's `serve`, with the per-connection error handling.
inline void serve_connection(void (*serve)(TcpStream), TcpStream stream) {
  try {
    stream.set_nodelay(true);  // answers are small and must leave at once
    serve(std::move(stream));
  } catch (const std::system_error& e) {
    report_connection_error(e);
  }
}

/// The same, as a task.
inline cogent::Task<> async_serve_connection(cogent::Task<> (*serve)(TcpStream), TcpStream stream) {
  try {
    stream.set_nodelay(true);
    co_await serve(std::move(stream));
  } catch (const std::system_error& e) {
    report_connection_error(e);
  }
}

// ---- accepting -------------------------------------------------------------------------------

/// What to do after accept() failed. Out of descriptors (EMFILE, ENFILE) or kernel memory, the
/// connection stays queued and accept() would fail again at once: pause, 10 ms doubling up to
/// 1 s, so the loop never spins while connections finish and free descriptors.
class AcceptBackoff {
 public:
  /// The pause before the next accept(), or nullopt when the listener was closed (EBADF).
  std::optional<cogent::Duration> after(const std::system_error& e) {
    if (e.code() == std::errc::bad_file_descriptor) return std::nullopt;
    // That one connection died while queued; the next one is fine.
    if (e.code() == std::errc::connection_aborted) return cogent::Duration::zero();
    const bool out_of_resources = e.code() == std::errc::too_many_files_open ||
                                  e.code() == std::errc::too_many_files_open_in_system ||
                                  e.code() == std::errc::no_buffer_space ||
                                  e.code() == std::errc::not_enough_memory;
    if (!out_of_resources) std::fprintf(stderr, "accept: %s\n", e.what());
    const cogent::Duration pause = pause_;
    pause_ = std::min<cogent::Duration>(2 * pause_, kMaxPause);
    return pause;
  }
  void succeeded() { pause_ = kFirstPause; }

 private:
  static constexpr std::chrono::milliseconds kFirstPause{10};
  static constexpr std::chrono::seconds kMaxPause{1};
  cogent::Duration pause_ = kFirstPause;
};

/// Accepts until the listener is closed, one greenlet per connection (--mode greenlet).
inline void accept_loop(TcpListener& listener, Connections& connections, void (*serve)(TcpStream)) {
  AcceptBackoff backoff;
  for (;;) {
    try {
      // The stream moves into the lambda: spawn() keeps its arguments and passes them as
      // lvalues, which a move-only TcpStream parameter would not accept.
      connections.add(cogent::spawn([serve, stream = listener.accept()]() mutable {
        serve_connection(serve, std::move(stream));
      }));
      backoff.succeeded();
    } catch (const std::system_error& e) {
      const auto pause = backoff.after(e);
      if (!pause) return;
      cogent::sleep(*pause);
    }
  }
}

/// The same as a task, one task per connection (--mode task).
inline cogent::Task<> async_accept_loop(TcpListener& listener, Connections& connections,
                                        cogent::Task<> (*serve)(TcpStream)) {
  AcceptBackoff backoff;
  for (;;) {
    std::optional<cogent::Duration> pause;
    try {
      TcpStream stream = co_await listener.async_accept();
      connections.add(cogent::spawn(async_serve_connection(serve, std::move(stream))));
      backoff.succeeded();
      continue;
    } catch (const std::system_error& e) {
      pause = backoff.after(e);
    }
    if (!pause) co_return;
    co_await cogent::async_sleep(*pause);  // not in the handler: co_await is not allowed there
  }
}

// ---- the server's life -----------------------------------------------------------------------

/// What a server does with one connection, in each style.
struct Handlers {
  void (*serve)(TcpStream);
  cogent::Task<> (*async_serve)(TcpStream);
};

/// Parses the options, listens, serves until SIGINT or SIGTERM, then closes everything. Returns
/// main()'s exit code: 0 after a signal, 1 on a failure, 2 for a bad command line.
inline int run_server(const char* program, int argc, char** argv, const Handlers& handlers) {
  const std::optional<ServerOptions> options = parse_server_options(program, argc, argv);
  if (!options) {
    server_usage(program, stderr);
    return 2;
  }
  try {
    ShutdownSignals signals;  // before the hub: see ShutdownSignals()
    cogent::Hub::create({.backend = options->backend});
    auto address = cogent::net::SocketAddress::parse(options->host, options->port);
    TcpListener listener = TcpListener::bind(address);
    std::printf("listening on %u\n", static_cast<unsigned>(listener.local_address().port()));
    std::fflush(stdout);

    Connections connections;
    // Captured by reference: main() outlives every greenlet it spawns here.
    cogent::Greenlet<> acceptor =
        options->mode == Mode::kTask
            ? cogent::spawn(async_accept_loop(listener, connections, handlers.async_serve))
            : cogent::spawn([&] { accept_loop(listener, connections, handlers.serve); });

    // From here on the greenlets use `listener` and `connections`: they must be dead before
    // those go, whatever happens.
    int status = 0;
    try {
      signals.wait();    // main() is a greenlet too: it sleeps here while the others serve
      listener.close();  // wakes the accept loop with EBADF
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", program, e.what());
      status = 1;
    }
    acceptor.kill();         // ends it at once even if it was pausing after EMFILE
    connections.kill_all();  // each unwinds, its TcpStream closing on the way out
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace sample
