// Runs a test body in a forked child process on a fresh hub of one backend: for tests that change
// process-wide state (resource limits) or that a bug would kill (SIGPIPE). Catch's assertions do
// not reach the parent from a child, so the body uses CHILD_CHECK, which prints what failed on the
// child's stderr and makes the child exit non-zero; the parent then fails with that text.
//
//   cogent::test::in_child_on_each_backend([] {
//     CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
//   });
#pragma once

#include <functional>
#include <string>

#include "support/subprocess.hpp"

namespace cogent::test {

/// Exit code of a child whose hub could not get the backend asked for.
inline constexpr int kBackendUnavailable = 77;

/// Records one expectation in a child: prints `what` with its place when `ok` is false.
void child_check(bool ok, const char* what, const char* file, int line);
#define CHILD_CHECK(...) \
  ::cogent::test::child_check(static_cast<bool>(__VA_ARGS__), #__VA_ARGS__, __FILE__, __LINE__)

/// Forks; the child runs `body` on a fresh thread whose hub uses `backend`, with SIGPIPE at its
/// default action (fatal), and exits with 0 when every CHILD_CHECK held, nothing escaped the body
/// and nothing leaked (greenlets, stacks, descriptors); otherwise non-zero with the reasons on
/// stderr. kBackendUnavailable when the hub fell back to another backend.
ChildResult run_in_child_on_backend(const std::string& backend, const std::function<void()>& body);

/// Runs `body` that way once per backend, each in a DYNAMIC_SECTION, and checks the child
/// passed: not killed by a signal, exit code 0 (the child's stderr is shown otherwise).
void in_child_on_each_backend(const std::function<void()>& body);

}  // namespace cogent::test
