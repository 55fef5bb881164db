// Runs a function in a forked child and collects its exit status, stdout and stderr: for
// behaviour that must not touch the test process (crashes, seccomp filters, resource limits).
#pragma once

#include <functional>
#include <string>

namespace cogent::test {

struct ChildResult {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal killed it
  std::string out, err;
};

/// Forks; the child runs `body` on a fresh main thread (no hub yet) and exits with its value.
ChildResult run_in_child(const std::function<int()>& body);

}  // namespace cogent::test
