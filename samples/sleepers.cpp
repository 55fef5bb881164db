// cogent's headline demo: N greenlets, N C++20 tasks and N OS threads each sleep for a while and
// finish. Prints wall time, peak RSS and peak OS thread count of each phase side by side.
//
//   sleepers [--count N] [--sleep-ms M] [--only greenlets|tasks|threads]

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include <cogent/cogent.hpp>

namespace {

using Millis = std::chrono::milliseconds;

enum class Kind { greenlets, tasks, threads };
constexpr Kind kAllKinds[] = {Kind::greenlets, Kind::tasks, Kind::threads};

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::greenlets:
      return "greenlets";
    case Kind::tasks:
      return "tasks";
    case Kind::threads:
      return "threads";
  }
  return "?";
}

struct Options {
  long count = 10000;
  long sleep_ms = 100;
  std::optional<Kind> only;
};

// Trivially copyable: a child sends it to the parent through a pipe in one write(), which stays
// atomic because it is far below PIPE_BUF.
struct PhaseResult {
  bool ok = false;
  double wall_ms = 0;
  long peak_rss_kib = 0;
  long os_threads = 0;
  long alive_at_sample = 0;
  char error[200] = {};
};

void set_error(PhaseResult& result, const std::string& text) {
  std::snprintf(result.error, sizeof result.error, "%s", text.c_str());
}

// A field of /proc/self/status such as "Threads:" or "VmHWM:" (in kB), or -1.
long proc_status(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field)) return std::strtol(line.c_str() + field.size(), nullptr, 10);
  }
  return -1;
}

struct Sample {
  long os_threads = 0;
  long alive = 0;
};

// The snapshot is taken while every sleeper should be alive at once; `alive` says whether they
// really were, since sleepers that started early may already be done. `finished` is read after
// /proc, so threads that exit in between are not counted as alive without being counted there.
template <class Counter>
void take_sample(Sample& sample, long count, const Counter& finished) {
  sample.os_threads = proc_status("Threads:");
  sample.alive = count - static_cast<long>(finished);
}

double millis_since(cogent::TimePoint start) {
  return std::chrono::duration<double, std::milli>(cogent::Clock::now() - start).count();
}

void run_greenlets(const Options& options, PhaseResult& result) {
  const Millis nap(options.sleep_ms);
  long finished = 0;
  Sample sample;
  std::vector<cogent::Greenlet<void>> sleepers;
  sleepers.reserve(static_cast<std::size_t>(options.count));

  const auto start = cogent::Clock::now();
  for (long i = 0; i < options.count; ++i) {
    const bool last = i == options.count - 1;
    sleepers.push_back(cogent::spawn([&, last] {
      // The last one starts after all the others, which are all asleep by then.
      if (last) take_sample(sample, options.count, finished);
      cogent::sleep(nap);
      ++finished;
    }));
  }
  cogent::joinall(sleepers);
  result.wall_ms = millis_since(start);
  result.os_threads = sample.os_threads;
  result.alive_at_sample = sample.alive;
}

cogent::Task<> sleeper_task(Millis nap, bool last, long count, long* finished, Sample* sample) {
  if (last) take_sample(*sample, count, *finished);
  co_await cogent::async_sleep(nap);
  ++*finished;
}

void run_tasks(const Options& options, PhaseResult& result) {
  long finished = 0;
  Sample sample;
  std::vector<cogent::Greenlet<void>> sleepers;
  sleepers.reserve(static_cast<std::size_t>(options.count));

  const auto start = cogent::Clock::now();
  for (long i = 0; i < options.count; ++i) {
    sleepers.push_back(cogent::spawn(sleeper_task(Millis(options.sleep_ms), i == options.count - 1,
                                                  options.count, &finished, &sample)));
  }
  cogent::joinall(sleepers);
  result.wall_ms = millis_since(start);
  result.os_threads = sample.os_threads;
  result.alive_at_sample = sample.alive;
}

void run_threads(const Options& options, PhaseResult& result) {
  const Millis nap(options.sleep_ms);
  std::atomic<long> finished{0};
  std::vector<std::thread> sleepers;
  sleepers.reserve(static_cast<std::size_t>(options.count));

  const auto start = cogent::Clock::now();
  std::string failure;
  for (long i = 0; i < options.count; ++i) {
    try {
      sleepers.emplace_back([&] {
        std::this_thread::sleep_for(nap);
        finished.fetch_add(1, std::memory_order_relaxed);
      });
    } catch (const std::system_error& e) {
      const int code = e.code().value();
      failure = "thread " + std::to_string(i + 1) + " of " + std::to_string(options.count) + ": " +
                std::strerror(code) + " (" + strerrorname_np(code) + ")";
      break;
    }
  }
  // Every thread that exists now has been cloned, so the kernel already counts it.
  Sample sample;
  take_sample(sample, static_cast<long>(sleepers.size()), finished);
  for (auto& t : sleepers) t.join();
  result.wall_ms = millis_since(start);
  result.os_threads = sample.os_threads;
  result.alive_at_sample = sample.alive;
  if (!failure.empty()) throw std::runtime_error(failure);
}

PhaseResult run_phase(Kind kind, const Options& options) {
  PhaseResult result;
  try {
    switch (kind) {
      case Kind::greenlets:
        run_greenlets(options, result);
        break;
      case Kind::tasks:
        run_tasks(options, result);
        break;
      case Kind::threads:
        run_threads(options, result);
        break;
    }
    result.ok = true;
  } catch (const std::exception& e) {
    set_error(result, e.what());
  }
  result.peak_rss_kib = proc_status("VmHWM:");
  return result;
}

void write_all(int fd, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::size_t read_all(int fd, void* data, std::size_t size) {
  auto* bytes = static_cast<char*>(data);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, bytes + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// Runs `body` in a child process and returns what it wrote. Each phase gets a fresh process, so
// its peak RSS is its own, and the parent never creates a hub whose io_uring a child would share.
template <class Result, class Body>
Result in_child(Body body, Result on_failure, std::string& failure) {
  static_assert(std::is_trivially_copyable_v<Result>, "sent through a pipe as raw bytes");
  int fds[2];
  if (::pipe(fds) != 0) {
    failure = std::string("pipe: ") + std::strerror(errno);
    return on_failure;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    failure = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return on_failure;
  }
  if (pid == 0) {
    ::close(fds[0]);
    const Result result = body();
    write_all(fds[1], &result, sizeof result);
    ::close(fds[1]);
    // exit(), not _exit(): the hub's thread_local teardown should run as in any real program.
    std::exit(0);
  }
  ::close(fds[1]);
  Result result{};
  const std::size_t got = read_all(fds[0], &result, sizeof result);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    failure = "child killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
              strsignal(WTERMSIG(status)) + ")";
    if (WCOREDUMP(status)) failure += " (core dumped)";
    return on_failure;
  }
  if (got != sizeof result) {
    failure =
        "child exited with status " + std::to_string(WEXITSTATUS(status)) + " before reporting";
    return on_failure;
  }
  if (WEXITSTATUS(status) != 0) {
    failure = "child exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return result;
}

struct BackendName {
  char name[200] = {};
};

std::string probe_backend() {
  std::string failure;
  const BackendName probe = in_child(
      [] {
        BackendName b;
        try {
          const std::string_view name = cogent::Hub::current().backend_name();
          std::snprintf(b.name, sizeof b.name, "%.*s", static_cast<int>(name.size()), name.data());
        } catch (const std::exception& e) {
          std::snprintf(b.name, sizeof b.name, "none, %s", e.what());
        }
        return b;
      },
      BackendName{}, failure);
  if (probe.name[0] == '\0') return "unknown, " + failure;
  return probe.name;
}

std::optional<long> parse_positive(std::string_view text) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: sleepers [--count N] [--sleep-ms M] [--only greenlets|tasks|threads]\n"
               "  N greenlets, N C++20 tasks and N OS threads each sleep M ms (defaults: "
               "10000, 100);\n"
               "  each kind runs in its own child process.\n");
}

std::optional<Options> parse_args(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "sleepers: %s needs a value\n", argv[i]);
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    if (arg == "--count" || arg == "--sleep-ms") {
      const auto number = parse_positive(value);
      if (!number) {
        std::fprintf(stderr, "sleepers: %s wants a positive integer, not '%s'\n", argv[i - 1],
                     argv[i]);
        return std::nullopt;
      }
      (arg == "--count" ? options.count : options.sleep_ms) = *number;
    } else if (arg == "--only") {
      for (Kind kind : kAllKinds) {
        if (value == kind_name(kind)) options.only = kind;
      }
      if (!options.only) {
        std::fprintf(stderr, "sleepers: --only wants greenlets, tasks or threads, not '%s'\n",
                     argv[i]);
        return std::nullopt;
      }
    } else {
      std::fprintf(stderr, "sleepers: unknown option %s\n", argv[i - 1]);
      return std::nullopt;
    }
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

  std::printf("cogent sleepers: %ld each, sleeping %ld ms (backend: %s)\n", options.count,
              options.sleep_ms, probe_backend().c_str());
  std::printf("%-10s %9s %14s %12s\n", "kind", "wall ms", "peak RSS MiB", "OS threads");

  bool all_ok = true;
  std::vector<std::string> notes;
  for (Kind kind : kAllKinds) {
    if (options.only && *options.only != kind) continue;
    std::string failure;
    PhaseResult r = in_child([&] { return run_phase(kind, options); }, PhaseResult{}, failure);
    if (!failure.empty()) {
      r.ok = false;
      if (r.error[0] == '\0') set_error(r, failure);
    }
    const std::string name(kind_name(kind));
    if (!r.ok) {
      all_ok = false;
      std::printf("%-10s failed: %s\n", name.c_str(), r.error);
      continue;
    }
    std::printf("%-10s %9.1f %14.1f %12ld\n", name.c_str(), r.wall_ms, r.peak_rss_kib / 1024.0,
                r.os_threads);
    if (r.alive_at_sample < options.count) {
      notes.push_back(name + ": only " + std::to_string(r.alive_at_sample) + " of " +
                      std::to_string(options.count) +
                      " were alive at once (starting them took longer than the sleep); "
                      "raise --sleep-ms");
    }
  }
  for (const auto& note : notes) std::printf("note: %s\n", note.c_str());
  return all_ok ? 0 : 1;
}
