#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "backend/backend.hpp"

namespace cogent::detail {

void Backend::submit(const IoRequest&, IoCompletion*) {
  throw std::logic_error(std::string("cogent: the ") + name() +
                         " backend performs no I/O itself; check async_io() first");
}

namespace {

bool debug_enabled() {
  const char* v = std::getenv("COGENT_DEBUG");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

}  // namespace

std::unique_ptr<Backend> select_backend(std::string_view requested) {
  const char* from_env = std::getenv("COGENT_BACKEND");
  const std::string_view choice = !requested.empty() ? requested : from_env ? from_env : "";
  if (choice == "epoll") return make_epoll_backend();
  if (!choice.empty() && choice != "uring") {
    throw std::invalid_argument("cogent: backend '" + std::string(choice) +
                                "' is unknown (use uring or epoll)");
  }
  std::string why_not;
  if (auto uring = make_uring_backend(why_not)) return uring;
  // A forced uring that the kernel refuses still runs (on epoll), but always says so.
  static std::atomic<bool> said{false};
  if ((debug_enabled() || choice == "uring") && !said.exchange(true)) {
    std::fprintf(stderr, "cogent: io_uring unavailable (%s); using epoll\n", why_not.c_str());
  }
  return make_epoll_backend();
}

}  // namespace cogent::detail
