// `cogent`: runs an unmodified program under the preload shim, and says what the shim would use
// on this machine.
//
//   cogent run [--backend uring|epoll] [--threads green|native] -- program args...
//   cogent info
#include <limits.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "backend/backend.hpp"
#include "context/stack_pool.hpp"

namespace {

constexpr int kUsageError = 2;
constexpr int kCannotExecute = 126;  // as a shell reports these
constexpr int kNotFound = 127;

constexpr const char* kUsage =
    "usage: cogent run [--backend uring|epoll] [--threads green|native] -- program [args...]\n"
    "       cogent info [--backend uring|epoll] [--threads green|native]\n"
    "       cogent --help\n"
    "\n"
    "run     runs the program with libcogent_preload.so preloaded: its threads become greenlets\n"
    "        on one OS thread and its blocking calls yield to an event loop (see shim/README.md)\n"
    "info    the version, the backend a hub would choose here and its kernel features, the\n"
    "        greenlet stack size, the preload library and the threads mode\n"
    "\n"
    "--backend  event loop: uring (io_uring, the default where the kernel allows it) or epoll\n"
    "           (sets COGENT_BACKEND)\n"
    "--threads  green (pthread_create spawns greenlets, the default) or native (OS threads,\n"
    "           calls pass straight through) (sets COGENT_THREADS)\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "cogent: %s\n%s", why.c_str(), kUsage);
  return kUsageError;
}

struct Options {
  std::optional<std::string> backend;
  std::optional<std::string> threads;
  int program = 0;  // index in argv of the program to run, 0 when none
};

/// Parses `argv[first...]`: the options, then (for run) `--` or the first non-option word.
/// Returns an error message, empty when all is well.
std::string parse_options(int argc, char** argv, int first, bool takes_program, Options& out) {
  for (int i = first; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      if (!takes_program) return "'info' takes no program";
      if (i + 1 >= argc) return "no program given after --";
      out.program = i + 1;
      return {};
    }
    if (arg.empty() || arg[0] != '-') {
      if (!takes_program) return "unexpected argument '" + std::string(arg) + "'";
      out.program = i;
      return {};
    }
    std::optional<std::string>* field = nullptr;
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (name == "--backend") field = &out.backend;
    if (name == "--threads") field = &out.threads;
    if (field == nullptr) return "unknown option '" + std::string(arg) + "'";
    if (!value) {
      if (i + 1 >= argc) return "option " + std::string(name) + " needs a value";
      value = argv[++i];
    }
    *field = std::string(*value);
  }
  if (takes_program) return "no program given";
  return {};
}

std::string check_values(const Options& o) {
  if (o.backend && *o.backend != "uring" && *o.backend != "epoll") {
    return "--backend must be uring or epoll, not '" + *o.backend + "'";
  }
  if (o.threads && *o.threads != "green" && *o.threads != "native") {
    return "--threads must be green or native, not '" + *o.threads + "'";
  }
  return {};
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

/// The preload library: next to the installed launcher (<bin>/<bin→lib>/), else the build tree's.
std::optional<std::string> preload_library() {
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir.resize(dir.rfind('/') + 1);
    const std::string installed = dir + COGENT_BIN_TO_LIB + "/" + COGENT_PRELOAD_NAME;
    if (exists(installed)) {
      char resolved[PATH_MAX];
      if (::realpath(installed.c_str(), resolved) != nullptr) return std::string(resolved);
      return installed;
    }
  }
  if (exists(COGENT_PRELOAD_BUILD_PATH)) return std::string(COGENT_PRELOAD_BUILD_PATH);
  return std::nullopt;
}

void report_missing_library() {
  std::fprintf(stderr, "cogent: cannot find %s (looked in <launcher dir>/%s and %s)\n",
               COGENT_PRELOAD_NAME, COGENT_BIN_TO_LIB, COGENT_PRELOAD_BUILD_PATH);
}

std::string threads_mode(const Options& o) {
  if (o.threads) return *o.threads;
  const char* env = std::getenv("COGENT_THREADS");
  return env != nullptr && std::strcmp(env, "native") == 0 ? "native" : "green";
}

int run(char** argv, const Options& o) {
  const std::optional<std::string> library = preload_library();
  if (!library) {
    report_missing_library();
    return kNotFound;
  }
  std::string preload = *library;
  if (const char* old = std::getenv("LD_PRELOAD"); old != nullptr && *old != '\0') {
    preload += ":";
    preload += old;
  }
  if (::setenv("LD_PRELOAD", preload.c_str(), 1) != 0 ||
      (o.backend && ::setenv("COGENT_BACKEND", o.backend->c_str(), 1) != 0) ||
      (o.threads && ::setenv("COGENT_THREADS", o.threads->c_str(), 1) != 0)) {
    std::fprintf(stderr, "cogent: setenv: %s\n", std::strerror(errno));
    return 1;
  }
  char* const* program = argv + o.program;
  ::execvp(program[0], program);
  const int error = errno;
  std::fprintf(stderr, "cogent: cannot run '%s': %s\n", program[0], std::strerror(error));
  return error == ENOENT || error == ENOTDIR ? kNotFound : kCannotExecute;
}

int info(const Options& o) {
  int status = 0;
  std::printf("cogent %s\n", COGENT_VERSION);
  utsname uts{};
  if (::uname(&uts) == 0) std::printf("kernel: %s %s %s\n", uts.sysname, uts.release, uts.machine);
  try {
    const auto backend = cogent::detail::select_backend(o.backend.value_or(""));
    std::printf("backend: %s (%s)\n", backend->name(), backend->features().c_str());
  } catch (const std::exception& e) {
    std::printf("backend: unavailable (%s)\n", e.what());
    status = 1;
  }
  try {
    const std::size_t bytes = cogent::detail::StackPool::default_stack_size();
    std::printf("greenlet stack size: %zu KiB%s\n", bytes / 1024,
                std::getenv("COGENT_STACK_SIZE") ? " (COGENT_STACK_SIZE)" : " (default)");
  } catch (const std::exception& e) {
    std::printf("greenlet stack size: %s\n", e.what());
    status = 1;
  }
  const std::string threads = threads_mode(o);
  std::printf("threads: %s (%s)\n", threads.c_str(),
              threads == "green" ? "pthread_create spawns greenlets on one OS thread"
                                 : "OS threads; calls pass straight through");
  if (const auto library = preload_library()) {
    std::printf("preload library: %s\n", library->c_str());
  } else {
    std::printf("preload library: not found\n");
    report_missing_library();
    status = 1;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command given");
  const std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command != "run" && command != "info") {
    return usage_error("unknown command '" + std::string(command) + "'");
  }
  Options options;
  std::string problem = parse_options(argc, argv, 2, command == "run", options);
  if (problem.empty()) problem = check_values(options);
  if (!problem.empty()) return usage_error(problem);
  return command == "run" ? run(argv, options) : info(options);
}
