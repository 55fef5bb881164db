#include <signal.h>

#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/backend_fixture.hpp"
#include "support/subprocess.hpp"

using namespace std::chrono_literals;

namespace {

// Unbounded on purpose: it must hit the guard page.
#pragma GCC diagnostic ignored "-Winfinite-recursion"
int recurse(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  return recurse(depth + 1) + frame[0];
}

std::string hub_error_with_stack_size(const char* value) {
  return cogent::test::hub_creation_error("COGENT_STACK_SIZE", value);
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COGENT_UNDER_SANITIZER 1
#else
#define COGENT_UNDER_SANITIZER 0
#endif

TEST_CASE("a stack overflow is reported with the greenlet and its stack size", "[stack]") {
  if (COGENT_UNDER_SANITIZER) {
    WARN("skipped: the sanitizer takes SIGSEGV before cogent's overflow guard");
    return;
  }
  auto result = cogent::test::run_in_child([] {
    auto g = cogent::spawn([] { return recurse(0); });
    std::printf("%llu\n", static_cast<unsigned long long>(g.id()));
    std::fflush(stdout);
    g.join();
    return 0;
  });
  CHECK(result.signal == SIGABRT);
  const std::string id = result.out.substr(0, result.out.find('\n'));
  CHECK(result.err == "cogent: greenlet " + id + " overflowed its 64 KiB stack\n");
}

TEST_CASE("COGENT_STACK_SIZE sets the greenlet stack size", "[stack]") {
  if (COGENT_UNDER_SANITIZER) {
    WARN("skipped: the sanitizer takes SIGSEGV before cogent's overflow guard");
    return;
  }
  auto result = cogent::test::run_in_child([] {
    setenv("COGENT_STACK_SIZE", "256k", 1);
    cogent::spawn([] { return recurse(0); }).join();
    return 0;
  });
  CHECK(result.signal == SIGABRT);
  CHECK_THAT(result.err, Catch::EndsWith("overflowed its 256 KiB stack\n"));
}

TEST_CASE("an impossible stack size is refused with a message", "[stack]") {
  CHECK_THAT(hub_error_with_stack_size("100"), Catch::Contains("too small"));
  CHECK_THAT(hub_error_with_stack_size("4096m"), Catch::Contains("too large"));
  CHECK_THAT(hub_error_with_stack_size("lots"), Catch::Contains("COGENT_STACK_SIZE"));
}

TEST_CASE("deep but bounded recursion fits in a greenlet's stack", "[stack]") {
  cogent::test::on_each_backend([] {
    std::function<int(int)> down = [&down](int n) -> int {
      volatile char pad[256];
      pad[0] = 1;
      return n == 0 ? pad[0] : down(n - 1) + pad[0];
    };
    CHECK(cogent::spawn(down, 100).get() == 101);
  });
}
