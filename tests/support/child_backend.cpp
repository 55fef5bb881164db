#include "support/child_backend.hpp"

#include <signal.h>

#include <catch2/catch.hpp>
#include <cogent/hub.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

#include "support/backend_fixture.hpp"

namespace cogent::test {
namespace {

int g_child_failures = 0;

int run_body(const std::string& backend, const std::function<void()>& body) {
  // The failure this child may exist to catch is a SIGPIPE: make sure it would be fatal.
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_UNBLOCK, &pipe_only, nullptr);

  const int fds_before = open_fd_count();
  bool unavailable = false;
  std::thread worker([&] {
    try {
      Hub& hub = Hub::create(HubOptions{.backend = backend});
      if (hub.backend_name() != backend) {
        unavailable = true;
        return;
      }
      body();
      child_check(hub.live_greenlets() == 0, "no greenlet left alive", __FILE__, __LINE__);
      child_check(hub.live_stacks() == 0, "no stack left handed out", __FILE__, __LINE__);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child body threw: %s\n", e.what());
      ++g_child_failures;
    } catch (...) {
      std::fprintf(stderr, "child body threw a non-standard exception\n");
      ++g_child_failures;
    }
  });
  worker.join();
  if (unavailable) return kBackendUnavailable;
  const int fds_after = open_fd_count();
  if (fds_after != fds_before) {
    std::fprintf(stderr, "descriptor leak: %d open before, %d after\n", fds_before, fds_after);
    ++g_child_failures;
  }
  return g_child_failures == 0 ? 0 : 1;
}

}  // namespace

void child_check(bool ok, const char* what, const char* file, int line) {
  if (ok) return;
  ++g_child_failures;
  std::fprintf(stderr, "%s:%d: CHILD_CHECK(%s) failed\n", file, line, what);
}

ChildResult run_in_child_on_backend(const std::string& backend, const std::function<void()>& body) {
  return run_in_child([&] { return run_body(backend, body); });
}

void in_child_on_each_backend(const std::function<void()>& body) {
  for (const char* backend : {"uring", "epoll"}) {
    DYNAMIC_SECTION("backend " << backend << " (in a child process)") {
      const ChildResult r = run_in_child_on_backend(backend, body);
      if (r.exit_code == kBackendUnavailable) {
        WARN("backend " << backend << " unavailable on this machine; skipped");
        continue;
      }
      INFO("child stderr:\n" << r.err);
      if (r.signal != 0) {
        FAIL_CHECK("child killed by signal " << r.signal << " (" << ::strsignal(r.signal) << ")");
      }
      CHECK(r.exit_code == 0);
    }
  }
}

}  // namespace cogent::test
