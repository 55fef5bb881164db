#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"

namespace cogent::detail {

void Backend::submit(const IoRequest&, IoCompletion*) {
  throw std::logic_error(std::string("cogent: the ") + name() +
                         " backend performs no I/O itself; check async_io() first");
}

namespace {

// The descriptors open now that are of the kinds a backend makes (io_uring, epoll and eventfd
// anonymous inodes); read from /proc/self/fd, since libev's wake-up descriptor is private.
std::vector<int> backend_kind_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = ::dirfd(dir);
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == own) continue;
    char target[64];
    const ssize_t n = ::readlinkat(own, e->d_name, target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string_view link(target, static_cast<std::size_t>(n));
    if (link == "anon_inode:[io_uring]" || link == "anon_inode:[eventpoll]" ||
        link == "anon_inode:[eventfd]") {
      fds.push_back(fd);
    }
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

bool debug_enabled() {
  const char* v = std::getenv("COGENT_DEBUG");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

}  // namespace

std::unique_ptr<Backend> select_backend(std::string_view requested) {
  const char* from_env = std::getenv("COGENT_BACKEND");
  const std::string_view choice = !requested.empty() ? requested : from_env ? from_env : "";
  // What the backend opened is what appeared meanwhile.
  const std::vector<int> before = backend_kind_fds();
  const auto with_own_fds = [&before](std::unique_ptr<Backend> backend) {
    const std::vector<int> after = backend_kind_fds();
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(backend->own_fds_));
    return backend;
  };
  if (choice == "epoll") return with_own_fds(make_epoll_backend());
  if (!choice.empty() && choice != "uring") {
    throw std::invalid_argument("cogent: backend '" + std::string(choice) +
                                "' is unknown (use uring or epoll)");
  }
  std::string why_not;
  if (auto uring = make_uring_backend(why_not)) return with_own_fds(std::move(uring));
  // A forced uring that the kernel refuses still runs (on epoll), but always says so.
  static std::atomic<bool> said{false};
  if ((debug_enabled() || choice == "uring") && !said.exchange(true)) {
    std::fprintf(stderr, "cogent: io_uring unavailable (%s); using epoll\n", why_not.c_str());
  }
  return with_own_fds(make_epoll_backend());
}

}  // namespace cogent::detail
