// Runs a test body on each backend, each time on a fresh OS thread with a fresh hub, and checks
// that the body leaked nothing: no greenlet left alive, no stack handed out, no descriptor open.
#pragma once

#include <functional>
#include <string>

namespace cogent::test {

/// Open descriptors of this process (entries of /proc/self/fd).
int open_fd_count();

/// Runs `body` once per backend ("uring", then "epoll") inside a DYNAMIC_SECTION named after it.
void on_each_backend(const std::function<void()>& body);

/// Runs `body` on a fresh thread whose hub uses `backend`, then checks for leaks. Rethrows what
/// the body threw (assertion failures included). Returns false when the backend is unavailable.
bool on_backend(const std::string& backend, const std::function<void()>& body);

/// Sets `env` to `value`, creates a hub on a fresh thread and returns the std::invalid_argument
/// message that creation raised ("" when it succeeded); restores the variable's absence.
std::string hub_creation_error(const char* env, const char* value);

}  // namespace cogent::test
