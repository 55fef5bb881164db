// 10,000 connections open at once in one process, each exchanging checksummed messages with an
// echo server, nothing lost. The server runs in a child process (one task per connection), since
// one process cannot hold both ends within the descriptor limit; the clients are greenlets here.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cogent/cogent.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "support/backend_fixture.hpp"
#include "support/byte_pattern.hpp"

using namespace std::chrono_literals;
using cogent::Clock;
using cogent::net::SocketAddress;
using cogent::net::TcpListener;
using cogent::net::TcpStream;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

constexpr std::size_t kWanted = kSanitized ? 2000 : 10000;
constexpr int kMessages = 3;
constexpr char kGreeting = 'G';
/// Descriptors kept aside for everything but the connections (hub, pipes, Catch, the runtime).
constexpr std::size_t kFdMargin = 256;
/// Clients connect in waves of this many, so the listener's queue (somaxconn, 4096 by default)
/// never overflows into SYN retransmissions a second apart.
constexpr std::size_t kWave = 500;

// A message: header {connection, index, payload length}, payload, FNV-1a of header + payload.
struct Header {
  std::uint32_t connection;
  std::uint16_t index;
  std::uint16_t length;
};
constexpr std::size_t kMaxPayload = 600;

std::string make_message(std::uint32_t connection, std::uint16_t index) {
  const Header h{connection, index,
                 static_cast<std::uint16_t>(200 + (connection * 7 + index * 13) % 300)};
  std::string m(sizeof h, '\0');
  std::memcpy(m.data(), &h, sizeof h);
  m += cogent::test::BytePattern(connection * 4ULL + index).bytes(0, h.length);
  const std::uint64_t sum = cogent::test::Fnv1a().update(m.data(), m.size()).value();
  m.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  return m;
}

/// What the server saw, sent back to the test through a pipe.
struct ServerReport {
  std::uint64_t accepted = 0;
  std::uint64_t peak_open = 0;
  std::uint64_t messages = 0;
  std::uint64_t bad_checksums = 0;
  std::uint64_t errors = 0;
};

struct ServerState {
  ServerReport report;
  std::uint64_t open = 0;
};

cogent::Task<> serve(TcpStream s, ServerState& st) {
  st.report.peak_open = std::max(st.report.peak_open, ++st.open);
  try {
    // The greeting tells the client it was accepted (not just queued by the kernel).
    co_await s.async_write_all(&kGreeting, 1);
    for (int i = 0; i < kMessages; ++i) {
      char buf[sizeof(Header) + kMaxPayload + 8];
      Header h{};
      co_await s.async_read_exact(buf, sizeof h);
      std::memcpy(&h, buf, sizeof h);
      if (h.length > kMaxPayload) throw std::runtime_error("oversized message");
      co_await s.async_read_exact(buf + sizeof h, h.length + 8u);
      std::uint64_t sum = 0;
      std::memcpy(&sum, buf + sizeof h + h.length, sizeof sum);
      if (cogent::test::Fnv1a().update(buf, sizeof h + h.length).value() != sum) {
        ++st.report.bad_checksums;
      }
      co_await s.async_write_all(buf, sizeof h + h.length + 8u);
      ++st.report.messages;
    }
  } catch (const std::exception&) {
    ++st.report.errors;
  }
  --st.open;  // and the stream closes: after three messages, the client reads its end
}

cogent::Task<> accept_loop(TcpListener& listener, ServerState& st) {
  for (;;) {
    TcpStream s = co_await listener.async_accept();
    ++st.report.accepted;
    cogent::spawn(serve(std::move(s), st));
  }
}

/// The echo server in a forked child, started before the test's hub exists.
class EchoServerProcess {
 public:
  EchoServerProcess(const std::string& backend) {
    int control[2], report[2];
    if (::pipe2(control, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) {
      throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
      ::close(control[1]);
      ::close(report[0]);
      _exit(run_child(backend, control[0], report[1]));
    }
    ::close(control[0]);
    ::close(report[1]);
    control_fd_ = control[1];
    report_fd_ = report[0];
    std::uint16_t port = 0;
    if (!read_fully(&port, sizeof port, 10s)) throw std::runtime_error("echo server did not start");
    port_ = port;
  }
  ~EchoServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (control_fd_ >= 0) ::close(control_fd_);
    if (report_fd_ >= 0) ::close(report_fd_);
  }

  std::uint16_t port() const { return port_; }

  /// Tells the server to stop, returns its report; `exit_code` gets its exit status.
  ServerReport stop(int& exit_code) {
    ::close(std::exchange(control_fd_, -1));
    ServerReport r;
    const bool got = read_fully(&r, sizeof r, 10s);
    int status = 0;
    if (!got) ::kill(pid_, SIGKILL);
    ::waitpid(std::exchange(pid_, -1), &status, 0);
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!got) throw std::runtime_error("echo server sent no report");
    return r;
  }

 private:
  static int run_child(const std::string& backend, int control_fd, int report_fd) {
    int code = 0;
    // A fresh thread gets a fresh hub, whatever the forking thread had.
    std::thread([&] {
      try {
        cogent::Hub::create(cogent::HubOptions{.backend = backend});
        auto listener = TcpListener::bind(SocketAddress::loopback(0));
        const std::uint16_t port = listener.local_address().port();
        if (::write(report_fd, &port, sizeof port) != sizeof port) throw std::runtime_error("port");
        ServerState st;
        auto acceptor = cogent::spawn(accept_loop(listener, st));
        cogent::wait_read(control_fd);  // the test closed its end: stop
        acceptor.kill();
        if (::write(report_fd, &st.report, sizeof st.report) != sizeof st.report) {
          throw std::runtime_error("report");
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "echo server: %s\n", e.what());
        code = 1;
      }
    }).join();
    return code;
  }

  bool read_fully(void* out, std::size_t len, std::chrono::milliseconds timeout) {
    auto* p = static_cast<char*>(out);
    const auto deadline = Clock::now() + timeout;
    while (len > 0 && Clock::now() < deadline) {
      pollfd pfd{report_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      const ssize_t n = ::read(report_fd_, p, len);
      if (n <= 0) return false;
      p += n;
      len -= static_cast<std::size_t>(n);
    }
    return len == 0;
  }

  pid_t pid_ = -1;
  int control_fd_ = -1, report_fd_ = -1;
  std::uint16_t port_ = 0;
};

/// Raises the soft descriptor limit to the hard one for the test's duration.
class RaisedFdLimit {
 public:
  RaisedFdLimit() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit raised = saved_;
    raised.rlim_cur = raised.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &raised);
  }
  ~RaisedFdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  rlim_t hard() const { return saved_.rlim_max; }

 private:
  rlimit saved_{};
};

struct ClientTally {
  std::size_t greeted = 0;   // connected and accepted, waiting at the gate
  std::size_t failed = 0;    // gave up, before or after the gate
  std::size_t finished = 0;  // three exact echoes and the server's close
  std::size_t open_at_gate = 0;
  std::string first_failure;
};

}  // namespace

TEST_CASE("10,000 connections open at once each echo checksummed messages exactly", "[net][many]") {
  RaisedFdLimit limit;
  const std::size_t budget =
      limit.hard() > kFdMargin + static_cast<std::size_t>(cogent::test::open_fd_count())
          ? limit.hard() - kFdMargin - static_cast<std::size_t>(cogent::test::open_fd_count())
          : 0;
  const std::size_t n = std::min(kWanted, budget);
  if (n < kWanted) {
    WARN("RLIMIT_NOFILE hard limit " << limit.hard() << " allows " << n << " connections, not "
                                     << kWanted);
  }
  if (kSanitized) WARN("sanitizer build: " << n << " connections instead of 10000");
  REQUIRE(n > 0);

  for (const char* backend : {"uring", "epoll"}) {
    DYNAMIC_SECTION("backend " << backend) {
      EchoServerProcess server(backend);
      ClientTally tally;
      const bool ran = cogent::test::on_backend(backend, [&] {
        const SocketAddress addr = SocketAddress::loopback(server.port());
        // The gate: a greenlet that never wakes by itself; killing it releases every join.
        auto gate = cogent::spawn([] { cogent::sleep(1h); });
        auto arrive = [&] {
          if (tally.greeted + tally.failed == n) {
            tally.open_at_gate = tally.greeted;
            gate.kill(false);
          }
        };
        auto client = [&](std::uint32_t id) {
          bool at_gate = false;
          try {
            TcpStream s = TcpStream::connect(addr);
            char g = 0;
            s.read_exact(&g, 1);
            if (g != kGreeting) throw std::runtime_error("wrong greeting");
            ++tally.greeted;
            at_gate = true;
            arrive();
            gate.join();
            for (std::uint16_t i = 0; i < kMessages; ++i) {
              const std::string msg = make_message(id, i);
              s.write_all(msg);
              std::string back(msg.size(), '\0');
              s.read_exact(back.data(), back.size());
              if (back != msg) throw std::runtime_error("echo differs");
            }
            char extra;
            if (s.read(&extra, 1) != 0) throw std::runtime_error("bytes after the last echo");
            ++tally.finished;
          } catch (const std::exception& e) {
            if (tally.first_failure.empty()) {
              tally.first_failure = "connection " + std::to_string(id) + ": " + e.what();
            }
            ++tally.failed;
            if (!at_gate) arrive();
          }
        };
        std::vector<cogent::Greenlet<void>> clients;
        clients.reserve(n);
        const auto give_up = Clock::now() + 20s;  // all bounds, both backends: under 120 s
        for (std::size_t i = 0; i < n && Clock::now() < give_up;) {
          const std::size_t wave_end = std::min(n, i + kWave);
          for (; i < wave_end; ++i) clients.push_back(cogent::spawn(client, std::uint32_t(i)));
          // Bounded: the give-up time.
          while (tally.greeted + tally.failed < wave_end && Clock::now() < give_up) {
            cogent::sleep(1ms);
          }
        }
        const auto done = cogent::joinall(clients, 20s);
        CHECK(done.size() == n);
        if (done.size() != n) cogent::killall(clients);
        if (!gate.ready()) gate.kill();
      });
      if (!ran) continue;
      INFO("clients greeted " << tally.greeted << ", failed " << tally.failed << ", finished "
                              << tally.finished << "; first failure: " << tally.first_failure);
      CHECK(tally.failed == 0);
      CHECK(tally.open_at_gate == n);
      CHECK(tally.finished == n);
      int exit_code = -1;
      const ServerReport r = server.stop(exit_code);
      CHECK(exit_code == 0);
      CHECK(r.accepted == n);
      CHECK(r.peak_open == n);  // every connection open at the server at the same time
      CHECK(r.messages == n * kMessages);
      CHECK(r.bad_checksums == 0);
      CHECK(r.errors == 0);
    }
  }
}

TEST_CASE("many acceptors share one listener: each connection goes to exactly one",
          "[net][many][accept]") {
  cogent::test::on_each_backend([] {
    auto listener = TcpListener::bind(SocketAddress::loopback(0));
    const SocketAddress addr = SocketAddress::loopback(listener.local_address().port());
    constexpr int kClients = 300;
    std::vector<int> served(kClients, 0);
    int closed_seen = 0;
    // Greenlet and task acceptors on the same listener, each serving until the listener closes.
    auto serve_one = [&](TcpStream s) {
      std::uint32_t id = 0;
      s.read_exact(&id, sizeof id);
      if (id < kClients) ++served[id];
      s.write_all(&id, sizeof id);
    };
    std::vector<cogent::Greenlet<void>> acceptors;
    for (int i = 0; i < 6; ++i) {
      acceptors.push_back(cogent::spawn([&] {
        for (int k = 0; k < kClients; ++k) {  // bounded; ends at the close
          TcpStream s;
          try {
            s = listener.accept();
          } catch (const std::system_error& e) {
            if (e.code().value() == EBADF) ++closed_seen;
            return;
          }
          serve_one(std::move(s));
        }
      }));
    }
    auto task_acceptor = [&]() -> cogent::Task<> {
      for (int k = 0; k < kClients; ++k) {
        TcpStream s;
        try {
          s = co_await listener.async_accept();
        } catch (const std::system_error& e) {
          if (e.code().value() == EBADF) ++closed_seen;
          co_return;
        }
        std::uint32_t id = 0;
        co_await s.async_read_exact(&id, sizeof id);
        if (id < kClients) ++served[id];
        co_await s.async_write_all(&id, sizeof id);
      }
    };
    for (int i = 0; i < 3; ++i) acceptors.push_back(cogent::spawn(task_acceptor()));

    std::vector<cogent::Greenlet<bool>> clients;
    for (std::uint32_t id = 0; id < kClients; ++id) {
      clients.push_back(cogent::spawn([&addr, id] {
        TcpStream c = TcpStream::connect(addr);
        c.write_all(&id, sizeof id);
        std::uint32_t back = ~0u;
        c.read_exact(&back, sizeof back);
        return back == id;
      }));
    }
    int echoed = 0;
    for (auto& c : clients) echoed += c.get() ? 1 : 0;
    CHECK(echoed == kClients);
    CHECK(std::count(served.begin(), served.end(), 1) == kClients);
    listener.close();
    CHECK(cogent::joinall(acceptors, 5s).size() == acceptors.size());
    CHECK(closed_seen == 9);
  });
}
