// loadgen: a closed-loop TCP echo load generator. One thread, its own epoll loop, no cogent.
//
//   loadgen --port N [--host 127.0.0.1] [--connections C] [--size B] [--pipeline K] [--ramp R]
//           [--duration S] [--warmup S] [--settle S] [--starved-ok] [--json]
//
// Each of C connections keeps K messages of B bytes in flight (K = 1, the default, is ping-pong):
// it writes them back to back and reads the echo stream, checking every byte in order; when a
// message's echo is complete, the next message is sent. A connection starts with one message and
// adds one with each echo until K are in flight (as TCP's slow start does): writing all C x K
// first would delay every read by seconds at 10,000 x 16 x 4 KiB. The bytes of a message are a
// function of (connection index, sequence number), so an echo of a stale, foreign, reordered or
// corrupted buffer is caught; they are computed when sent and again when checked, so a connection
// costs no per-message buffer. Latency runs from the send() that writes a message's first byte to
// the read() that completes its echo. Messages completed during the warm-up are not measured (but
// are counted in `total_msgs`, with which a caller can relate the whole run to the server's CPU
// time). At most R connects (default 200) are in progress at once, so that 10,000 of them do not
// overflow the server's SYN and accept queues; `connect_s` is the time to establish them all.
// With `--settle S`, every connection first completes one round trip (one message, whatever K)
// and then idles until all have (S seconds at most) before the warm-up starts: a server that
// accepts slowly while it serves (a thread-per-connection server's accept loop competes with
// every busy client thread) is then measured once it serves them all, and the time that took is
// reported. A connection with no echo after S seconds is an error and is closed.
// Exits 1 if anything went wrong: a failed connect, a reset, a wrong byte, a connection the server
// closed, or one that completed no message during the measured period. With `--starved-ok` the
// last is a figure (`starved`: connections an unfair server left waiting all along), not an error.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kMaxConnectAttempts = 20;
// To establish every connection: a base, plus some per connection for a server that accepts slowly.
constexpr std::uint64_t kConnectPhaseNs = 20'000'000'000;
constexpr std::uint64_t kConnectPhaseNsPerConnection = 1'000'000;
constexpr std::size_t kMaxSize = 1 << 20;
constexpr long kMaxPipeline = 64;
constexpr int kMaxReportedErrors = 5;  // details printed on stderr; the rest are only counted

std::uint64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Word `word` of message `seq` on connection `index`: the output of splitmix64 seeded with
// (index << 40) ^ seq after word + 1 steps. Its state only ever grows by a constant, so any word
// can be had without the ones before it.
inline std::uint64_t message_word(std::uint64_t index, std::uint64_t seq, std::uint64_t word) {
  std::uint64_t z = ((index << 40) ^ seq) + (word + 1) * 0x9e3779b97f4a7c15;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// Bytes [offset, offset + len) of message `seq` on connection `index`; word i of a message holds
// its bytes 8i to 8i + 7, in the machine's byte order (the last word may be cut short).
void fill_message(unsigned char* out, std::uint64_t index, std::uint64_t seq, std::size_t offset,
                  std::size_t len) {
  std::size_t word = offset / 8;
  if (const std::size_t skip = offset % 8; skip != 0 && len > 0) {
    const std::uint64_t value = message_word(index, seq, word++);
    const std::size_t n = std::min<std::size_t>(8 - skip, len);
    std::memcpy(out, reinterpret_cast<const unsigned char*>(&value) + skip, n);
    out += n;
    len -= n;
  }
  for (; len >= 8; out += 8, len -= 8) {
    const std::uint64_t value = message_word(index, seq, word++);
    std::memcpy(out, &value, 8);
  }
  if (len > 0) {
    const std::uint64_t value = message_word(index, seq, word);
    std::memcpy(out, &value, len);
  }
}

struct Options {
  std::string host = "127.0.0.1";
  int port = -1;
  long connections = 1;
  long size = 64;
  long pipeline = 1;
  long ramp = 200;
  double duration_s = 5;
  double warmup_s = 1;
  double settle_s = 0;  // 0: no settle phase
  bool json = false;
  bool starved_ok = false;
};

struct Errors {
  long connect_failures = 0;
  long resets = 0;  // any read or write error once connected (ECONNRESET, EPIPE, ...)
  long mismatches = 0;
  long short_connections = 0;  // the server closed the connection before the end
  long stalled = 0;            // no message completed during the measured period
  long starved = 0;            // the same, counted apart with --starved-ok: not an error
  long total() const {
    return connect_failures + resets + mismatches + short_connections + stalled;
  }
};

// Latencies in 1 µs buckets up to 100 ms; slower samples are kept exactly, in a list of their own.
class LatencyHistogram {
 public:
  void record(std::uint64_t ns) {
    const std::uint64_t us = ns / 1000;
    if (us < kBuckets) {
      ++buckets_[us];
    } else {
      slow_.push_back(us);
    }
    ++count_;
  }

  std::uint64_t count() const { return count_; }

  // The smallest recorded value (in whole µs) that at least a fraction `p` of samples do not
  // exceed; 0 when there are no samples.
  std::uint64_t percentile_us(double p) {
    if (count_ == 0) return 0;
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(p * count_)));
    std::uint64_t seen = 0;
    for (std::uint64_t us = 0; us < kBuckets; ++us) {
      seen += buckets_[us];
      if (seen >= rank) return us;
    }
    std::sort(slow_.begin(), slow_.end());
    return slow_[rank - seen - 1];
  }

 private:
  static constexpr std::uint64_t kBuckets = 100'000;
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(kBuckets);
  std::vector<std::uint64_t> slow_;
  std::uint64_t count_ = 0;
};

enum class State { kWaiting, kConnecting, kRetryWait, kOpen, kClosed };

// Messages [recv_seq, send_end) are in flight: [recv_seq, send_seq) written whole, send_seq
// written up to send_off, the rest not yet. The echo stream is checked up to recv_off of recv_seq.
struct Connection {
  std::uint32_t index = 0;
  int fd = -1;
  State state = State::kWaiting;
  int attempts = 0;
  bool want_write = false;  // EPOLLOUT is in the interest set
  std::uint64_t retry_at_ns = 0;
  std::uint64_t recv_seq = 0;  // the oldest message whose echo is incomplete
  std::uint64_t send_seq = 0;  // the message being written
  std::uint64_t send_end = 0;  // one past the last message to write
  std::size_t recv_off = 0;
  std::size_t send_off = 0;
  std::uint64_t last_done_ns = 0;  // when the last message's echo completed
  bool unsent() const { return send_seq < send_end; }
};

class LoadGenerator {
 public:
  LoadGenerator(const Options& options, const sockaddr_in& address)
      : options_(options),
        address_(address),
        size_(static_cast<std::size_t>(options.size)),
        pipeline_(static_cast<std::size_t>(options.pipeline)),
        scratch_(std::max<std::size_t>(size_, 64 * 1024)),
        expected_(scratch_.size()),
        outgoing_(scratch_.size()),
        connections_(static_cast<std::size_t>(options.connections)),
        started_ns_(connections_.size() * pipeline_) {}

  ~LoadGenerator() {
    for (Connection& c : connections_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }

  int run() {
    run_start_ = now_ns();
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return fail_setup("epoll_create1");
    const std::uint64_t connect_start = now_ns();
    connect_all(connect_start + kConnectPhaseNs +
                kConnectPhaseNsPerConnection * connections_.size());
    connect_seconds_ = (now_ns() - connect_start) / 1e9;
    if (options_.settle_s > 0) settle();

    const std::uint64_t start = now_ns();
    measure_from_ = start + static_cast<std::uint64_t>(options_.warmup_s * 1e9);
    measure_until_ = measure_from_ + static_cast<std::uint64_t>(options_.duration_s * 1e9);
    for (Connection& c : connections_) {
      if (c.state != State::kOpen) continue;
      c.send_end = c.recv_seq + 1;
      flush(c, start);
    }
    exchange(measure_until_);
    for (Connection& c : connections_) {
      if (c.state == State::kOpen && c.last_done_ns < measure_from_) {
        if (options_.starved_ok) {
          ++errors_.starved;
          continue;
        }
        report(c, "no message completed during the measured period");
        ++errors_.stalled;
      }
    }
    print_results();
    return errors_.total() == 0 ? 0 : 1;
  }

 private:
  int fail_setup(const char* call) {
    std::fprintf(stderr, "loadgen: %s: %s\n", call, std::strerror(errno));
    return 1;
  }

  void report(const Connection& c, const char* what, int err = 0) {
    if (reported_++ >= kMaxReportedErrors) return;
    std::fprintf(stderr, "loadgen: connection %u, message %llu: %s%s%s\n", c.index,
                 static_cast<unsigned long long>(c.recv_seq), what, err != 0 ? ": " : "",
                 err != 0 ? std::strerror(err) : "");
  }

  // 0 or the errno of epoll_ctl.
  int watch(Connection& c, int op, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u32 = c.index;
    return ::epoll_ctl(epoll_fd_, op, c.fd, &ev) == 0 ? 0 : errno;
  }

  void close_connection(Connection& c) {
    if (c.state == State::kOpen && c.recv_seq == 0 && awaiting_first_echo_ > 0) {
      --awaiting_first_echo_;
    }
    if (c.state == State::kConnecting) --connecting_;
    if (c.fd >= 0) ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    c.state = State::kClosed;
  }

  // ---- connection establishment ----

  // Starts connects, at most options_.ramp in progress at once, retries first.
  void start_connects(std::uint64_t now, std::uint64_t& wake) {
    for (std::size_t i = 0; i < retrying_.size();) {
      Connection& c = connections_[retrying_[i]];
      if (c.retry_at_ns > now) {
        wake = std::min(wake, c.retry_at_ns);
        ++i;
      } else if (connecting_ < options_.ramp) {
        retrying_[i] = retrying_.back();
        retrying_.pop_back();
        start_connect(c);
      } else {
        ++i;
      }
    }
    while (connecting_ < options_.ramp && next_connect_ < connections_.size()) {
      start_connect(connections_[next_connect_++]);
    }
  }

  void connect_all(std::uint64_t deadline) {
    for (Connection& c : connections_) {
      c.index = static_cast<std::uint32_t>(&c - connections_.data());
    }
    std::vector<epoll_event> events(1024);
    for (;;) {
      const std::uint64_t now = now_ns();
      std::uint64_t wake = deadline;
      start_connects(now, wake);
      const bool pending = connecting_ > 0 || !retrying_.empty();
      if (!pending || now >= deadline) break;
      const int timeout_ms = static_cast<int>((wake - std::min(wake, now) + 999'999) / 1'000'000);
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                 std::max(1, timeout_ms));
      for (int i = 0; i < n; ++i) {
        Connection& c = connections_[events[i].data.u32];
        if (c.state == State::kConnecting) {
          finish_connect(c);
        } else if (c.state == State::kOpen) {
          on_readable(c);  // nothing was sent yet: this is an early EOF, reset or stray byte
        }
      }
    }
    for (Connection& c : connections_) {
      if (c.state == State::kWaiting || c.state == State::kConnecting ||
          c.state == State::kRetryWait) {
        report(c, "connect timed out");
        ++errors_.connect_failures;
        close_connection(c);
      }
    }
  }

  void start_connect(Connection& c) {
    ++c.attempts;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return connect_failed(c, errno);
    const int one = 1;
    if (::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
      return connect_failed(c, errno);
    }
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) == 0) {
      c.state = State::kOpen;
      if (const int err = watch(c, EPOLL_CTL_ADD, EPOLLIN)) connect_failed(c, err);
      return;
    }
    if (errno != EINPROGRESS) return connect_failed(c, errno);
    c.state = State::kConnecting;
    ++connecting_;
    if (const int err = watch(c, EPOLL_CTL_ADD, EPOLLOUT)) connect_failed(c, err);
  }

  void finish_connect(Connection& c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return connect_failed(c, err);
    c.state = State::kOpen;
    --connecting_;
    if (const int err = watch(c, EPOLL_CTL_MOD, EPOLLIN)) connect_failed(c, err);
  }

  // A listener whose accept queue is full, or one still starting, refuses or drops connections
  // for a moment: retry those, with a growing pause, a bounded number of times.
  void connect_failed(Connection& c, int err) {
    close_connection(c);
    const bool transient = err == ECONNREFUSED || err == EAGAIN || err == ETIMEDOUT ||
                           err == ECONNRESET || err == EADDRNOTAVAIL || err == EINTR;
    if (transient && c.attempts < kMaxConnectAttempts) {
      c.state = State::kRetryWait;
      c.retry_at_ns = now_ns() + 5'000'000ULL * c.attempts;
      retrying_.push_back(c.index);
      return;
    }
    report(c, "connect", err);
    ++errors_.connect_failures;
  }

  // ---- exchange ----

  // The settle phase: one message on every open connection; complete() starts no next one yet
  // (measure_until_ is still 0). Ends when every one has been echoed or the settle time is up.
  void settle() {
    const std::uint64_t start = now_ns();
    awaiting_first_echo_ = 0;
    for (Connection& c : connections_) {
      if (c.state != State::kOpen) continue;
      ++awaiting_first_echo_;
      c.send_end = 1;
      flush(c, start);
    }
    exchange(start + static_cast<std::uint64_t>(options_.settle_s * 1e9), true);
    for (Connection& c : connections_) {
      if (c.state == State::kOpen && c.recv_seq == 0) {
        report(c, "no echo within the settle period");
        ++errors_.stalled;
        close_connection(c);
      }
    }
    settle_seconds_ = (now_ns() - start) / 1e9;
  }

  // The epoll loop until `until`, or, when `settling`, until no connection awaits its first echo.
  void exchange(std::uint64_t until, bool settling = false) {
    std::vector<epoll_event> events(1024);
    for (std::uint64_t now = now_ns(); now < until; now = now_ns()) {
      if (settling && awaiting_first_echo_ == 0) return;
      const int timeout_ms = static_cast<int>((until - now + 999'999) / 1'000'000);
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                 std::max(1, timeout_ms));
      if (n < 0 && errno != EINTR) {
        std::fprintf(stderr, "loadgen: epoll_wait: %s\n", std::strerror(errno));
        ++errors_.resets;
        return;
      }
      for (int i = 0; i < n; ++i) {
        Connection& c = connections_[events[i].data.u32];
        if (c.state != State::kOpen) continue;
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
        if (c.state == State::kOpen && (events[i].events & EPOLLOUT)) flush(c, now_ns());
      }
    }
  }

  std::uint64_t& started_ns(const Connection& c, std::uint64_t seq) {
    return started_ns_[c.index * pipeline_ + seq % pipeline_];
  }

  // Writes the unsent messages back to back until done or the socket is full; EPOLLOUT is
  // watched only while something is left. Every message whose first byte a send() writes is
  // timed from `now`, taken just before.
  void flush(Connection& c, std::uint64_t now) {
    while (c.unsent()) {
      // The next bytes of the stream, as many as fit in outgoing_.
      std::size_t len = 0;
      for (std::uint64_t seq = c.send_seq, off = c.send_off;
           seq < c.send_end && len < outgoing_.size(); ++seq, off = 0) {
        const std::size_t n = std::min(size_ - off, outgoing_.size() - len);
        fill_message(outgoing_.data() + len, c.index, seq, off, n);
        len += n;
      }
      const ssize_t n = ::send(c.fd, outgoing_.data(), len, MSG_NOSIGNAL);
      if (n >= 0) {
        std::size_t written = static_cast<std::size_t>(n);
        while (written > 0) {
          if (c.send_off == 0) started_ns(c, c.send_seq) = now;
          const std::size_t step = std::min(written, size_ - c.send_off);
          c.send_off += step;
          written -= step;
          if (c.send_off == size_) {
            ++c.send_seq;
            c.send_off = 0;
          }
        }
        if (static_cast<std::size_t>(n) < len) now = now_ns();  // the next send() is later
      } else if (errno == EAGAIN) {
        if (!c.want_write) {
          if (const int err = watch(c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT)) {
            report(c, "epoll_ctl", err);
            return fail(c);
          }
          c.want_write = true;
        }
        return;
      } else if (errno != EINTR) {
        report(c, "send", errno);
        return fail(c);
      }
    }
    if (c.want_write) {
      c.want_write = false;
      if (const int err = watch(c, EPOLL_CTL_MOD, EPOLLIN)) {
        report(c, "epoll_ctl", err);
        fail(c);
      }
    }
  }

  void fail(Connection& c) {
    ++errors_.resets;
    close_connection(c);
  }

  void on_readable(Connection& c) {
    for (;;) {
      const ssize_t n = ::read(c.fd, scratch_.data(), scratch_.size());
      if (n == 0) {
        report(c, "the server closed the connection");
        ++errors_.short_connections;
        return close_connection(c);
      }
      if (n < 0) {
        if (errno == EAGAIN) return;
        if (errno == EINTR) continue;
        report(c, "read", errno);
        return fail(c);
      }
      if (!consume(c, static_cast<std::size_t>(n))) {
        ++errors_.mismatches;
        return close_connection(c);
      }
      // The messages that completed echoes made room for; while the socket is full, EPOLLOUT
      // tells when to go on.
      if (c.unsent() && !c.want_write) {
        flush(c, now_ns());
        if (c.state != State::kOpen) return;
      }
      // Level-triggered: a short read means the socket was drained, and anything arriving later
      // is reported again. Reading on to EAGAIN would cost a syscall per read.
      if (static_cast<std::size_t>(n) < scratch_.size()) return;
    }
  }

  // Checks `n` echoed bytes in scratch_ against the stream sent, completing the messages they end.
  bool consume(Connection& c, std::size_t n) {
    const std::uint64_t echoed = c.recv_seq * size_ + c.recv_off + n;
    const std::uint64_t sent = c.send_seq * size_ + c.send_off;
    if (echoed > sent) {
      char what[128];
      std::snprintf(what, sizeof what, "%llu bytes echoed, only %llu sent",
                    static_cast<unsigned long long>(echoed), static_cast<unsigned long long>(sent));
      report(c, what);
      return false;
    }
    const unsigned char* got = scratch_.data();
    std::uint64_t now = 0;
    while (n > 0) {
      const std::size_t step = std::min(n, size_ - c.recv_off);
      fill_message(expected_.data(), c.index, c.recv_seq, c.recv_off, step);
      if (std::memcmp(got, expected_.data(), step) != 0) {
        std::size_t at = 0;
        while (got[at] == expected_[at]) ++at;
        char what[128];
        std::snprintf(what, sizeof what, "byte %zu is 0x%02x, expected 0x%02x", c.recv_off + at,
                      got[at], expected_[at]);
        report(c, what);
        return false;
      }
      bytes_verified_ += step;
      got += step;
      n -= step;
      c.recv_off += step;
      if (c.recv_off == size_) {
        if (now == 0) now = now_ns();
        complete(c, now);
      }
    }
    return true;
  }

  void complete(Connection& c, std::uint64_t now) {
    if (now >= measure_from_ && now < measure_until_) {
      latencies_.record(now - started_ns(c, c.recv_seq));
    }
    ++total_msgs_;
    c.last_done_ns = now;
    if (c.recv_seq == 0 && awaiting_first_echo_ > 0) --awaiting_first_echo_;
    ++c.recv_seq;
    c.recv_off = 0;
    // One more message in flight with each echo until there are K: writing C x K messages
    // before reading any would take seconds at 10,000 x 16 x 4 KiB.
    if (now < measure_until_) c.send_end = std::min(c.send_end + 2, c.recv_seq + pipeline_);
  }

  // ---- results ----

  // loadgen's own CPU time against the wall-clock time of the whole run: near 1, loadgen rather
  // than the server may be what limits the rate.
  double cpu_share() const {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    return cpu / ((now_ns() - run_start_) / 1e9);
  }

  void print_results() {
    const double loadgen_cpu = cpu_share();
    const std::uint64_t msgs = latencies_.count();
    const double rate = msgs / options_.duration_s;
    const std::uint64_t p50 = latencies_.percentile_us(0.50);
    const std::uint64_t p99 = latencies_.percentile_us(0.99);
    const std::uint64_t p999 = latencies_.percentile_us(0.999);
    std::FILE* human = options_.json ? stderr : stdout;
    std::fprintf(human,
                 "%ld connections x %ld B x %ld in flight, %.1f s (+%.1f s warm-up, %.2f s "
                 "connecting%s): %llu msgs, %.0f msgs/s, p50 %llu us, p99 %llu us, p999 %llu us, "
                 "loadgen CPU %.0f%%, %ld errors",
                 options_.connections, options_.size, options_.pipeline, options_.duration_s,
                 options_.warmup_s, connect_seconds_, settle_text().c_str(),
                 static_cast<unsigned long long>(msgs), rate, static_cast<unsigned long long>(p50),
                 static_cast<unsigned long long>(p99), static_cast<unsigned long long>(p999),
                 loadgen_cpu * 100, errors_.total());
    if (errors_.total() != 0) {
      std::fprintf(human, " (%ld connect, %ld reset, %ld mismatch, %ld short, %ld stalled)",
                   errors_.connect_failures, errors_.resets, errors_.mismatches,
                   errors_.short_connections, errors_.stalled);
    }
    if (errors_.starved != 0) {
      std::fprintf(human, ", %ld connections starved (no message in the measured period)",
                   errors_.starved);
    }
    std::fprintf(human, "\n");
    if (!options_.json) return;
    std::printf(
        "{\"connections\":%ld,\"size\":%ld,\"pipeline\":%ld,\"duration_s\":%g,\"warmup_s\":%g,"
        "\"msgs\":%llu,\"msgs_per_s\":%.1f,\"p50_us\":%llu,\"p99_us\":%llu,\"p999_us\":%llu,"
        "\"total_msgs\":%llu,\"bytes_verified\":%llu,\"loadgen_cpu\":%.2f,\"errors\":%ld,"
        "\"connect_failures\":%ld,\"resets\":%ld,\"mismatches\":%ld,\"short_connections\":%ld,"
        "\"stalled\":%ld,\"starved\":%ld,\"connect_s\":%.3f,\"settle_s\":%.3f}\n",
        options_.connections, options_.size, options_.pipeline, options_.duration_s,
        options_.warmup_s, static_cast<unsigned long long>(msgs), rate,
        static_cast<unsigned long long>(p50), static_cast<unsigned long long>(p99),
        static_cast<unsigned long long>(p999), static_cast<unsigned long long>(total_msgs_),
        static_cast<unsigned long long>(bytes_verified_), loadgen_cpu, errors_.total(),
        errors_.connect_failures, errors_.resets, errors_.mismatches, errors_.short_connections,
        errors_.stalled, errors_.starved, connect_seconds_, settle_seconds_);
  }

  std::string settle_text() const {
    if (options_.settle_s <= 0) return "";
    char text[64];
    std::snprintf(text, sizeof text, ", %.2f s settling", settle_seconds_);
    return text;
  }

  const Options options_;
  const sockaddr_in address_;
  const std::size_t size_;
  const std::size_t pipeline_;
  std::vector<unsigned char> scratch_;   // every read lands here, then is compared in place
  std::vector<unsigned char> expected_;  // what the bytes in scratch_ should be
  std::vector<unsigned char> outgoing_;  // the bytes of a send()
  std::vector<Connection> connections_;
  std::vector<std::uint64_t> started_ns_;  // per connection, the first send() of each in flight
  std::vector<std::uint32_t> retrying_;    // connections in kRetryWait
  std::size_t next_connect_ = 0;           // connections from here on were never started
  long connecting_ = 0;                    // connections in kConnecting
  int epoll_fd_ = -1;
  std::uint64_t run_start_ = 0;
  std::uint64_t measure_from_ = 0;
  std::uint64_t measure_until_ = 0;
  double connect_seconds_ = 0;
  double settle_seconds_ = 0;
  std::size_t awaiting_first_echo_ = 0;  // during the settle phase: open, not yet echoed once
  LatencyHistogram latencies_;
  std::uint64_t total_msgs_ = 0;
  std::uint64_t bytes_verified_ = 0;
  Errors errors_;
  int reported_ = 0;
};

// ---- command line ----

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "loadgen: %s\nusage: loadgen --port N [--host 127.0.0.1] [--connections C] "
               "[--size B] [--pipeline K] [--ramp R] [--duration S] [--warmup S] [--settle S] "
               "[--starved-ok] [--json]\n",
               why);
  std::exit(2);
}

long parse_long(const char* text, long lo, long hi, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) usage(what);
  return v;
}

double parse_seconds(const char* text, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v >= 0) || v > 86400) usage(what);
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--starved-ok") {
      o.starved_ok = true;
      continue;
    }
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after an option");
    const char* value = argv[++i];
    if (arg == "--host") {
      o.host = value;
    } else if (arg == "--port") {
      o.port = static_cast<int>(parse_long(value, 1, 65535, "--port: 1 to 65535"));
    } else if (arg == "--connections") {
      o.connections = parse_long(value, 1, 1'000'000, "--connections: 1 to 1000000");
    } else if (arg == "--size") {
      o.size = parse_long(value, 1, kMaxSize, "--size: 1 to 1048576 bytes");
    } else if (arg == "--pipeline") {
      o.pipeline = parse_long(value, 1, kMaxPipeline, "--pipeline: 1 to 64 messages");
    } else if (arg == "--ramp") {
      o.ramp = parse_long(value, 1, 1'000'000, "--ramp: 1 to 1000000 connects");
    } else if (arg == "--duration") {
      o.duration_s = parse_seconds(value, "--duration: seconds, more than 0");
    } else if (arg == "--warmup") {
      o.warmup_s = parse_seconds(value, "--warmup: seconds");
    } else if (arg == "--settle") {
      o.settle_s = parse_seconds(value, "--settle: seconds");
    } else {
      usage("unknown option");
    }
  }
  if (o.port < 0) usage("--port is required");
  if (o.duration_s <= 0) usage("--duration: seconds, more than 0");
  return o;
}

// Every connection is a descriptor: take all the hard limit allows.
bool raise_fd_limit(long needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  }
  if (limit.rlim_cur != RLIM_INFINITY && static_cast<long>(limit.rlim_cur) < needed) {
    std::fprintf(stderr, "loadgen: RLIMIT_NOFILE is %llu, %ld connections need about %ld\n",
                 static_cast<unsigned long long>(limit.rlim_cur), needed - 16, needed);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(options.port));
  if (::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
    usage("--host: an IPv4 address");
  }
  if (!raise_fd_limit(options.connections + 16)) return 1;
  LoadGenerator generator(options, address);
  return generator.run();
}
