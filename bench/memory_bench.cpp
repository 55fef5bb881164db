// cogent_memory_bench: resident memory (VmRSS) of idle greenlets, idle tasks and idle pthreads.
//
//   cogent_memory_bench [--greenlets N] [--tasks N] [--bulk-tasks N] [--threads N] [--json]
//
// Each measurement spawns N of a kind that park (greenlets and tasks in a 24 h sleep, threads on a
// condition variable), reads VmRSS before and after, then kills or wakes them all and joins.
// Every measurement runs in a child process of its own: memory freed by one measurement stays in
// malloc's free lists, and the next would reuse it without growing RSS. When the system refuses a
// thread (pid_max, threads-max, vm.max_map_count...), the threads created so far are measured and
// the limit is reported with them: that is a result, not a failure.

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cogent/cogent.hpp"

using namespace std::chrono_literals;

namespace {

struct Options {
  long greenlets = 100'000;
  long tasks = 100'000;
  long bulk_tasks = 1'000'000;
  long threads = 10'000;
  bool json = false;
};

struct Memory {
  long rss_kib = 0;
  long pte_kib = 0;  // page tables: not part of VmRSS, shown beside it
};

// What a child process reports. Trivially copyable: it crosses a pipe as raw bytes.
struct Sample {
  long requested = 0;
  long parked = 0;  // how many were idle when `after` was read
  Memory before;
  Memory after;
  double park_seconds = 0;      // spawning (or creating) all of them until the last one parked
  double teardown_seconds = 0;  // killing (or waking) and joining all of them
  long stack_kib = 0;           // threads: the default stack size each was created with
  bool limit_reached = false;   // a system limit stopped thread creation: `error` names it
  char backend[16] = {};
  char error[400] = {};
};

void set_text(char* out, std::size_t size, std::string_view text) {
  const std::size_t n = text.size() < size - 1 ? text.size() : size - 1;
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

template <std::size_t N>
void set_text(char (&out)[N], std::string_view text) {
  set_text(out, N, text);
}

long status_field_kib(const char* status, const char* field) {
  const char* at = std::strstr(status, field);
  return at == nullptr ? -1 : std::strtol(at + std::strlen(field), nullptr, 10);
}

// Reads /proc/self/status into a buffer on the stack: no allocation may disturb what is measured.
Memory read_memory() {
  char buffer[8192];
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {-1, -1};
  std::size_t used = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer + used, sizeof buffer - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buffer[used] = '\0';
  return {status_field_kib(buffer, "VmRSS:"), status_field_kib(buffer, "VmPTE:")};
}

long mem_available_kib() {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "MemAvailable:", 13) == 0) kib = std::strtol(line + 13, nullptr, 10);
  }
  std::fclose(f);
  return kib;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

cogent::Task<> yield_once() { co_await cogent::async_sleep(0s); }

// Creates the hub and runs a greenlet and a task through it, so that the hub's own memory (rings,
// hub stack, first stack slab) is resident before the first reading.
void warm_up_hub(Sample& s) {
  cogent::spawn([] { cogent::sleep(0s); }).join();
  cogent::spawn(yield_once()).join();
  set_text(s.backend, cogent::Hub::current().backend_name());
}

// Kills every handle and checks that each one died unsuccessfully and that nothing was left behind.
// Only the first outcome is rethrown to confirm it is GreenletExit: rethrowing all of them would
// cost more than the kills being checked.
void kill_and_check(Sample& s, const std::vector<cogent::Greenlet<>>& handles) {
  const auto start = std::chrono::steady_clock::now();
  cogent::killall(handles);
  s.teardown_seconds = seconds_since(start);
  for (const auto& g : handles) {
    if (!g.ready() || g.successful()) {
      set_text(s.error, "a greenlet outlived killall or finished without being killed");
      return;
    }
  }
  if (!handles.empty()) {
    try {
      handles.front().get();
    } catch (const cogent::GreenletExit&) {
    }
  }
  const cogent::Hub& hub = cogent::Hub::current();
  if (hub.live_greenlets() != 0 || hub.live_stacks() != 0) {
    set_text(s.error, "after killall: " + std::to_string(hub.live_greenlets()) + " greenlets and " +
                          std::to_string(hub.live_stacks()) + " stacks still live");
  }
}

void check_parked(Sample& s, long parked) {
  s.parked = parked;
  const std::size_t live = cogent::Hub::current().live_greenlets();
  if (parked != s.requested || live != static_cast<std::size_t>(s.requested)) {
    set_text(s.error, std::to_string(parked) + " of " + std::to_string(s.requested) + " parked, " +
                          std::to_string(live) + " live");
  }
}

Sample idle_greenlets(long n) {
  Sample s;
  s.requested = n;
  warm_up_hub(s);
  long parked = 0;
  // Sized (and so touched) before the first reading: the handles are the benchmark's, not the
  // runtime's.
  std::vector<cogent::Greenlet<>> handles(static_cast<std::size_t>(n));
  s.before = read_memory();
  const auto start = std::chrono::steady_clock::now();
  for (auto& g : handles) {
    g = cogent::spawn([&parked] {
      ++parked;
      cogent::sleep(24h);
    });
  }
  // The main greenlet queues behind all of them: when it resumes, each has run once and parked.
  cogent::sleep(0s);
  s.park_seconds = seconds_since(start);
  s.after = read_memory();
  check_parked(s, parked);
  kill_and_check(s, handles);
  return s;
}

cogent::Task<> idle_task(long* parked) {
  ++*parked;
  co_await cogent::async_sleep(24h);
}

Sample idle_tasks(long n) {
  Sample s;
  s.requested = n;
  warm_up_hub(s);
  long parked = 0;
  std::vector<cogent::Greenlet<>> handles(static_cast<std::size_t>(n));
  s.before = read_memory();
  const auto start = std::chrono::steady_clock::now();
  for (auto& g : handles) g = cogent::spawn(idle_task(&parked));
  cogent::sleep(0s);
  s.park_seconds = seconds_since(start);
  s.after = read_memory();
  check_parked(s, parked);
  kill_and_check(s, handles);
  return s;
}

long read_long_file(const char* path) {
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return -1;
  long value = -1;
  if (std::fscanf(f, "%ld", &value) != 1) value = -1;
  std::fclose(f);
  return value;
}

long count_lines(const char* path) {
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return -1;
  long lines = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) lines += c == '\n';
  std::fclose(f);
  return lines;
}

// Threads (kernel tasks) on the whole machine: the denominator of /proc/loadavg's 4th field.
long tasks_on_machine() {
  FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return -1;
  long running = 0;
  long total = -1;
  if (std::fscanf(f, "%*f %*f %*f %ld/%ld", &running, &total) != 2) total = -1;
  std::fclose(f);
  return total;
}

// Which of the limits that make pthread_create fail with EAGAIN this process has reached, read
// at the moment it failed; all of them when none looks reached. A thread costs two mappings
// (stack and guard page), one pid and its stack's address space.
std::string thread_limits(long stack_kib) {
  struct Limit {
    std::string name;
    long limit;
    long used;
    const char* used_what;
    long margin;  // how close `used` gets to `limit` when the limit is what refused the thread
  };
  auto soft_limit = [](int resource, long unit) {
    rlimit r{};
    if (::getrlimit(resource, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return -1L;
    return static_cast<long>(r.rlim_cur / static_cast<rlim_t>(unit));
  };
  char status[8192];
  long vm_size_kib = -1;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    const std::size_t n = std::fread(status, 1, sizeof status - 1, f);
    status[n] = '\0';
    vm_size_kib = status_field_kib(status, "VmSize:");
    std::fclose(f);
  }
  const long tasks = tasks_on_machine();
  long pids_max = -1;
  long pids_current = -1;
  for (const char* dir : {"/sys/fs/cgroup/pids/", "/sys/fs/cgroup/"}) {
    pids_max = read_long_file((std::string(dir) + "pids.max").c_str());
    if (pids_max > 0) {
      pids_current = read_long_file((std::string(dir) + "pids.current").c_str());
      break;
    }
  }
  const Limit limits[] = {
      {"vm.max_map_count", read_long_file("/proc/sys/vm/max_map_count"),
       count_lines("/proc/self/maps"), "mappings in this process", 8},
      // Approached, not met: pids below 300 are reserved once pids wrap around.
      {"kernel.pid_max", read_long_file("/proc/sys/kernel/pid_max"), tasks, "tasks on the machine",
       512},
      {"kernel.threads-max", read_long_file("/proc/sys/kernel/threads-max"), tasks,
       "tasks on the machine", 64},
      {"RLIMIT_NPROC", soft_limit(RLIMIT_NPROC, 1), tasks, "tasks on the machine", 64},
      {"cgroup pids.max", pids_max, pids_current, "pids in the cgroup", 8},
      {"RLIMIT_AS (KiB)", soft_limit(RLIMIT_AS, 1024), vm_size_kib, "KiB mapped",
       2 * stack_kib + 1024},
  };
  auto describe = [](const Limit& l) {
    return l.name + " " + std::to_string(l.limit) + ": " + std::to_string(l.used) + " " +
           l.used_what;
  };
  std::string reached;
  for (const Limit& l : limits) {
    if (l.limit > 0 && l.used >= 0 && l.used + l.margin >= l.limit) {
      if (!reached.empty()) reached.append("; ");
      reached.append(describe(l));
    }
  }
  if (!reached.empty()) return reached;
  std::string all = "no known limit reached:";
  for (const Limit& l : limits) {
    if (l.limit <= 0) continue;
    all.append(" ").append(describe(l)).append(";");
  }
  all.pop_back();
  return all;
}

std::string thousands(long n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

struct ThreadGate {
  std::mutex mutex;
  std::condition_variable parked_cv;
  std::condition_variable open_cv;
  long parked = 0;
  bool open = false;
};

void* idle_thread(void* arg) {
  auto& gate = *static_cast<ThreadGate*>(arg);
  std::unique_lock lock(gate.mutex);
  ++gate.parked;
  gate.parked_cv.notify_one();
  gate.open_cv.wait(lock, [&gate] { return gate.open; });
  return nullptr;
}

Sample idle_threads(long n) {
  Sample s;
  s.requested = n;
  set_text(s.backend, "-");
  pthread_attr_t defaults;
  std::size_t stack_bytes = 0;
  if (pthread_getattr_default_np(&defaults) == 0) {
    pthread_attr_getstacksize(&defaults, &stack_bytes);
    pthread_attr_destroy(&defaults);
  }
  s.stack_kib = static_cast<long>(stack_bytes / 1024);
  ThreadGate gate;
  std::vector<pthread_t> threads(static_cast<std::size_t>(n));
  s.before = read_memory();
  const auto start = std::chrono::steady_clock::now();
  long created = 0;
  for (; created < n; ++created) {
    if (int rc = pthread_create(&threads[created], nullptr, &idle_thread, &gate); rc != 0) {
      // EAGAIN is a system limit (glibc also turns the mmap ENOMEM of vm.max_map_count into it);
      // anything else is a failure of the measurement.
      s.limit_reached = rc == EAGAIN;
      const char* name = strerrorname_np(rc);
      set_text(s.error, std::string("pthread_create: ") + (name ? name : std::strerror(rc)) +
                            " after " + thousands(created) + " threads (" +
                            (rc == EAGAIN ? thread_limits(s.stack_kib) : std::strerror(rc)) + ")");
      break;
    }
  }
  {
    std::unique_lock lock(gate.mutex);
    gate.parked_cv.wait(lock, [&] { return gate.parked == created; });
  }
  s.park_seconds = seconds_since(start);
  s.after = read_memory();
  s.parked = created;
  const auto teardown = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(gate.mutex);
    gate.open = true;
  }
  gate.open_cv.notify_all();
  for (long i = 0; i < created; ++i) pthread_join(threads[i], nullptr);
  s.teardown_seconds = seconds_since(teardown);
  return s;
}

// Runs `measure` in a forked child and returns what it reported; the parent never creates a hub
// or a thread, so forking it is safe.
template <class Measure>
Sample in_child(Measure measure, long n) {
  Sample failed;
  failed.requested = n;
  int fds[2];
  if (::pipe(fds) != 0) {
    set_text(failed.error, std::string("pipe: ") + std::strerror(errno));
    return failed;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    set_text(failed.error, std::string("fork: ") + std::strerror(errno));
    return failed;
  }
  if (pid == 0) {
    ::close(fds[0]);
    Sample s;
    try {
      s = measure(n);
    } catch (const std::exception& e) {
      s.requested = n;
      set_text(s.error, e.what());
    }
    const bool sent = ::write(fds[1], &s, sizeof s) == static_cast<ssize_t>(sizeof s);
    std::exit(sent ? 0 : 1);
  }
  ::close(fds[1]);
  Sample s;
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&s);
  while (got < sizeof s) {
    const ssize_t r = ::read(fds[0], bytes + got, sizeof s - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof s) {
    s = failed;
    if (WIFSIGNALED(status)) {
      set_text(s.error, std::string("child killed by signal ") + strsignal(WTERMSIG(status)));
    } else {
      set_text(s.error, "child exited with status " + std::to_string(WEXITSTATUS(status)));
    }
  }
  return s;
}

std::string mib(long kib) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(kib) / 1024.0);
  return text;
}

double bytes_per_item(long kib_before, long kib_after, long count) {
  return count > 0 ? static_cast<double>(kib_after - kib_before) * 1024.0 / count : 0.0;
}

void print_header() {
  std::printf("%-24s %9s %12s %12s %12s %12s %12s %10s %10s %8s\n", "kind", "N", "RSS before",
              "RSS after", "delta RSS", "RSS/item", "PTE/item", "park", "teardown", "backend");
}

void print_row(const char* kind, const Sample& s) {
  if (s.error[0] != '\0' && s.parked == 0) {
    std::printf("%-24s %9ld  FAILED: %s\n", kind, s.requested, s.error);
    return;
  }
  std::printf("%-24s %9ld %12s %12s %12s %10.0f B %10.0f B %8.3f s %8.3f s %8s\n", kind, s.parked,
              mib(s.before.rss_kib).c_str(), mib(s.after.rss_kib).c_str(),
              mib(s.after.rss_kib - s.before.rss_kib).c_str(),
              bytes_per_item(s.before.rss_kib, s.after.rss_kib, s.parked),
              bytes_per_item(s.before.pte_kib, s.after.pte_kib, s.parked), s.park_seconds,
              s.teardown_seconds, s.backend);
  if (s.error[0] != '\0') {
    std::printf("%-24s %9s  %s: %s\n", "", "", s.limit_reached ? "LIMIT" : "ERROR", s.error);
  }
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + '"';
}

void print_json(const char* kind, const Sample& s) {
  std::printf(
      "{\"kind\":\"%s\",\"requested\":%ld,\"parked\":%ld,\"rss_before_kib\":%ld,"
      "\"rss_after_kib\":%ld,\"pte_before_kib\":%ld,\"pte_after_kib\":%ld,"
      "\"bytes_per_item\":%.1f,\"pte_bytes_per_item\":%.1f,\"park_s\":%.3f,"
      "\"teardown_s\":%.3f,\"backend\":%s,\"stack_kib\":%ld,\"limit_reached\":%s,"
      "\"error\":%s}\n",
      kind, s.requested, s.parked, s.before.rss_kib, s.after.rss_kib, s.before.pte_kib,
      s.after.pte_kib, bytes_per_item(s.before.rss_kib, s.after.rss_kib, s.parked),
      bytes_per_item(s.before.pte_kib, s.after.pte_kib, s.parked), s.park_seconds,
      s.teardown_seconds, json_string(s.backend).c_str(), s.stack_kib,
      s.limit_reached ? "true" : "false", json_string(s.error).c_str());
}

void print_target(const char* what, double measured, double limit, const char* unit, bool valid) {
  if (!valid) {
    std::printf("  %-38s not measured\n", what);
    return;
  }
  std::printf("  %-38s %12.0f %-3s <= %8.0f %-3s  %s\n", what, measured, unit, limit, unit,
              measured <= limit ? "MET" : "MISSED");
}

std::optional<long> parse_count(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < 0) return std::nullopt;
  return value;
}

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: cogent_memory_bench [--greenlets N] [--tasks N] [--bulk-tasks N] "
      "[--threads N] [--json]\n"
      "  --greenlets N   idle stackful greenlets (default 100000)\n"
      "  --tasks N       idle C++20 tasks (default 100000)\n"
      "  --bulk-tasks N  sleeping tasks for the total-RSS figure (default 1000000)\n"
      "  --threads N     idle pthreads with default stacks (default 10000)\n"
      "  --json          one JSON line per measurement instead of the table\n"
      "N = 0 skips that measurement. A system limit on threads is reported, not failed.\n");
}

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage(stdout);
      std::exit(0);
    }
    if (flag == "--json") {
      o.json = true;
      continue;
    }
    long* target = flag == "--greenlets"    ? &o.greenlets
                   : flag == "--tasks"      ? &o.tasks
                   : flag == "--bulk-tasks" ? &o.bulk_tasks
                   : flag == "--threads"    ? &o.threads
                                            : nullptr;
    if (target == nullptr) {
      std::fprintf(stderr, "cogent_memory_bench: unknown option '%s'\n", argv[i]);
      return false;
    }
    const std::optional<long> value = parse_count(i + 1 < argc ? argv[i + 1] : nullptr);
    if (!value) {
      std::fprintf(stderr, "cogent_memory_bench: %s needs a count >= 0\n", argv[i]);
      return false;
    }
    *target = *value;
    ++i;
  }
  return true;
}

// Generous per-item ceilings (a greenlet that touched its whole 64 KiB stack, a thread likewise):
// a count whose worst case would not fit in half the available memory is refused, not attempted.
bool fits_in_memory(const Options& o) {
  const long available = mem_available_kib();
  if (available <= 0) return true;
  struct Check {
    const char* flag;
    long count;
    long ceiling_kib;
  };
  const Check checks[] = {{"--greenlets", o.greenlets, 68},
                          {"--tasks", o.tasks, 4},
                          {"--bulk-tasks", o.bulk_tasks, 4},
                          {"--threads", o.threads, 68}};
  for (const Check& c : checks) {
    if (c.count > available / 2 / c.ceiling_kib) {
      std::fprintf(stderr,
                   "cogent_memory_bench: %s %ld could need up to %s, more than half of the %s "
                   "available; use a smaller count\n",
                   c.flag, c.count, mib(c.count * c.ceiling_kib).c_str(), mib(available).c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_options(argc, argv, o)) {
    usage(stderr);
    return 2;
  }
  if (!fits_in_memory(o)) return 2;

  std::optional<Sample> greenlets, tasks, bulk, threads;
  if (o.greenlets > 0) greenlets = in_child(&idle_greenlets, o.greenlets);
  if (o.tasks > 0) tasks = in_child(&idle_tasks, o.tasks);
  if (o.bulk_tasks > 0) bulk = in_child(&idle_tasks, o.bulk_tasks);
  if (o.threads > 0) threads = in_child(&idle_threads, o.threads);

  // A thread count cut short by a system limit is a measurement of fewer threads, not a failure.
  auto ok = [](const std::optional<Sample>& s) {
    return s && s->parked > 0 && (!s->error[0] || s->limit_reached);
  };
  const bool failed = (greenlets && !ok(greenlets)) || (tasks && !ok(tasks)) ||
                      (bulk && !ok(bulk)) || (threads && !ok(threads));

  if (o.json) {
    if (greenlets) print_json("greenlet", *greenlets);
    if (tasks) print_json("task", *tasks);
    if (bulk) print_json("bulk_task", *bulk);
    if (threads) print_json("thread", *threads);
    return failed ? 1 : 0;
  }

  print_header();
  if (greenlets) print_row("idle greenlets (sleep)", *greenlets);
  if (tasks) print_row("idle tasks (async_sleep)", *tasks);
  if (bulk) print_row("sleeping tasks (bulk)", *bulk);
  if (threads) print_row("idle pthreads (condvar)", *threads);
  std::printf(
      "\nRSS/item = (VmRSS after - VmRSS before) / N; PTE/item likewise for VmPTE (page tables,\n"
      "not in VmRSS). VmRSS counts only touched pages: thread stacks (%ld KiB each here) are\n"
      "mostly untouched, and the kernel's own per-thread memory (task struct, kernel stack) is in\n"
      "neither figure.\n\n",
      threads ? threads->stack_kib : 0L);

  auto per_item = [](const Sample& s) {
    return bytes_per_item(s.before.rss_kib, s.after.rss_kib, s.parked);
  };
  std::printf("targets:\n");
  const std::string greenlet_label =
      "RSS per idle greenlet at " + std::to_string(greenlets ? greenlets->parked : 0);
  const std::string task_label =
      "RSS per idle task at " + std::to_string(tasks ? tasks->parked : 0);
  const std::string bulk_label =
      "process VmRSS with " + std::to_string(bulk ? bulk->parked : 0) + " tasks";
  print_target(greenlet_label.c_str(), ok(greenlets) ? per_item(*greenlets) : 0, 8192, "B",
               ok(greenlets));
  print_target(task_label.c_str(), ok(tasks) ? per_item(*tasks) : 0, 512, "B", ok(tasks));
  print_target(bulk_label.c_str(), ok(bulk) ? bulk->after.rss_kib / 1024.0 : 0, 512, "MiB",
               ok(bulk));
  return failed ? 1 : 0;
}
