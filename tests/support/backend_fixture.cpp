#include "support/backend_fixture.hpp"

#include <dirent.h>

#include <catch2/catch.hpp>
#include <cogent/hub.hpp>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <thread>

namespace cogent::test {

int open_fd_count() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the DIR's own descriptor
}

bool on_backend(const std::string& backend, const std::function<void()>& body) {
  const int fds_before = open_fd_count();
  std::exception_ptr failure;
  bool available = true;
  std::size_t live_greenlets = 0, live_stacks = 0;
  std::thread worker([&] {
    try {
      Hub& hub = Hub::create(HubOptions{.backend = backend});
      if (hub.backend_name() != backend) {
        available = false;  // io_uring refused here: the hub fell back to epoll
        return;
      }
      body();
      live_greenlets = hub.live_greenlets();
      live_stacks = hub.live_stacks();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
  if (!available) {
    WARN("backend " << backend << " unavailable on this machine; skipped");
    return false;
  }
  CHECK(live_greenlets == 0);
  CHECK(live_stacks == 0);
  CHECK(open_fd_count() == fds_before);
  return true;
}

void on_each_backend(const std::function<void()>& body) {
  for (const char* backend : {"uring", "epoll"}) {
    DYNAMIC_SECTION("backend " << backend) { on_backend(backend, body); }
  }
}

std::string hub_creation_error(const char* env, const char* value) {
  setenv(env, value, 1);
  std::string error;
  std::thread([&] {
    try {
      Hub::current();
    } catch (const std::invalid_argument& e) {
      error = e.what();
    }
  }).join();
  unsetenv(env);
  return error;
}

}  // namespace cogent::test
