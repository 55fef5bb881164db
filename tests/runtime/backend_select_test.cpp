#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/backend_fixture.hpp"
#include "support/subprocess.hpp"

using namespace std::chrono_literals;

namespace {

std::string backend_of_new_hub() {
  std::string name;
  std::thread([&] { name = cogent::Hub::current().backend_name(); }).join();
  return name;
}

// Makes io_uring_setup fail with EPERM in this process, as a seccomp policy or
// kernel.io_uring_disabled=2 would.
void forbid_io_uring() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) _exit(91);
}

}  // namespace

TEST_CASE("COGENT_BACKEND=epoll forces the epoll backend", "[backend]") {
  setenv("COGENT_BACKEND", "epoll", 1);
  const std::string name = backend_of_new_hub();
  unsetenv("COGENT_BACKEND");
  CHECK(name == "epoll");
}

TEST_CASE("an unknown COGENT_BACKEND is refused with a clear message", "[backend]") {
  CHECK(cogent::test::hub_creation_error("COGENT_BACKEND", "kqueue") ==
        "cogent: backend 'kqueue' is unknown (use uring or epoll)");
}

TEST_CASE("when io_uring is refused the hub falls back to epoll and says so", "[backend]") {
  auto result = cogent::test::run_in_child([] {
    forbid_io_uring();
    setenv("COGENT_DEBUG", "1", 1);
    cogent::Hub& hub = cogent::Hub::current();
    cogent::sleep(1ms);  // the loop works on the fallback
    std::printf("%s\n", std::string(hub.backend_name()).c_str());
    return 0;
  });
  CHECK(result.exit_code == 0);
  CHECK(result.out == "epoll\n");
  CHECK(result.err ==
        "cogent: io_uring unavailable (io_uring_setup: Operation not permitted); "
        "using epoll\n");
}

TEST_CASE("the fallback is silent unless COGENT_DEBUG is set", "[backend]") {
  auto result = cogent::test::run_in_child([] {
    forbid_io_uring();
    unsetenv("COGENT_DEBUG");
    std::printf("%s\n", std::string(cogent::Hub::current().backend_name()).c_str());
    return 0;
  });
  CHECK(result.out == "epoll\n");
  CHECK(result.err.empty());
}

TEST_CASE("the default backend is io_uring where the kernel allows it", "[backend]") {
  const std::string name = backend_of_new_hub();
  if (name != "uring") WARN("io_uring refused on this machine; default is " << name);
  CHECK((name == "uring" || name == "epoll"));
}
