// The command line every C++ echo peer takes, `[--host 127.0.0.1] [--port N]` (N = 0: any free
// port), and the descriptor limit raised for 10,000 connections. Header-only: each peer stays one
// program of its own.
#pragma once

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace echo_peer {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
};

[[noreturn]] inline void usage(const char* program, const char* why) {
  std::fprintf(stderr, "%s: %s\nusage: %s [--host 127.0.0.1] [--port N]\n", program, why, program);
  std::exit(2);
}

// Exits with status 2 and a usage line on a bad command line.
inline Options parse_options(const char* program, int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage(program, "missing value after an option");
    if (arg == "--host") {
      o.host = argv[++i];
    } else if (arg == "--port") {
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || end == argv[i] || v < 0 || v > 65535)
        usage(program, "--port: 0 to 65535");
      o.port = static_cast<int>(v);
    } else {
      usage(program, "unknown option");
    }
  }
  return o;
}

// Every connection is a descriptor: take the hard limit as the soft one.
inline void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace echo_peer
