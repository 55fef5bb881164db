#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "catch_compat.hpp"
#include "child_process.hpp"
#include "context/fiber.hpp"
#include "context/overflow_guard.hpp"
#include "context/stack_pool.hpp"

namespace {

using cogent::detail::Fiber;
using cogent::detail::install_overflow_guard;
using cogent::detail::StackPool;
using cogent::detail::test::ChildResult;
using cogent::detail::test::run_in_child;

// Never reached; keeps the recursion from looking infinite to the compiler.
volatile std::size_t g_depth_limit = SIZE_MAX;
// Opaque to the optimizer, so the wild store below compiles as written.
volatile std::uintptr_t g_unmapped_address = 16;

[[gnu::noinline]] std::size_t dive(std::size_t depth) {
  volatile char frame[512];
  frame[depth % sizeof frame] = static_cast<char>(depth);
  if (depth >= g_depth_limit) {
    return 0;
  }
  return dive(depth + 1) + static_cast<unsigned char>(frame[depth % sizeof frame]);
}

void overflow_entry(void*) {
  dive(0);
  __builtin_trap();
}

// In the child: runs a fiber owned by `greenlet` that recurses until it hits its guard.
void overflow_in_fiber(std::size_t stack_size, std::uint64_t greenlet) {
  install_overflow_guard();
  StackPool pool(stack_size);
  Fiber main;
  const auto stack = pool.acquire();
  pool.set_owner(stack, greenlet);
  Fiber fiber(stack, &overflow_entry, nullptr);
  main.switch_to(fiber);
}

void check_overflow_report(const ChildResult& result, const std::string& line) {
  CHECK(WIFSIGNALED(result.status));
  CHECK(WTERMSIG(result.status) == SIGABRT);
  CHECK(result.error_output == line);
}

TEST_CASE("a fiber overflowing its stack is reported by greenlet id and aborts") {
  const auto result = run_in_child([] { overflow_in_fiber(64 * 1024, 42); });
  check_overflow_report(result, "cogent: greenlet 42 overflowed its 64 KiB stack\n");
}

TEST_CASE("the overflow report formats any greenlet id and stack size") {
  const auto result = run_in_child([] { overflow_in_fiber(200 * 1024, UINT64_MAX); });
  check_overflow_report(result,
                        "cogent: greenlet 18446744073709551615 overflowed its 200 KiB stack\n");
}

TEST_CASE("overflows on other threads are reported once each thread installed the guard") {
  const auto result = run_in_child([] {
    std::vector<std::thread> installers;
    for (int i = 0; i < 4; ++i) {
      installers.emplace_back([] { install_overflow_guard(); });
    }
    for (auto& installer : installers) {
      installer.join();
    }
    std::thread([] { overflow_in_fiber(64 * 1024, 7); }).join();
  });
  check_overflow_report(result, "cogent: greenlet 7 overflowed its 64 KiB stack\n");
}

TEST_CASE("faults outside stack guards crash as they would without cogent") {
  const auto result = run_in_child([] {
    install_overflow_guard();
    StackPool pool(64 * 1024);
    pool.acquire();
    *reinterpret_cast<volatile int*>(g_unmapped_address) = 1;
  });
  CHECK(result.error_output.find("cogent:") == std::string::npos);
  CHECK(WIFSIGNALED(result.status));
  CHECK(WTERMSIG(result.status) == SIGSEGV);
}

TEST_CASE("a SIGSEGV sent with kill() reaches the previous disposition") {
  const auto result = run_in_child([] {
    install_overflow_guard();
    kill(getpid(), SIGSEGV);
    // Delivered as soon as cogent's handler returns, before kill() does.
    _exit(5);
  });
  CHECK(result.error_output.empty());
  CHECK(WIFSIGNALED(result.status));
  CHECK(WTERMSIG(result.status) == SIGSEGV);
}

constexpr int kPreviousHandlerExit = 7;

void previous_handler(int) {
  constexpr char kMessage[] = "previous handler\n";
  [[maybe_unused]] ssize_t written = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  _exit(kPreviousHandlerExit);
}

TEST_CASE("a handler installed before cogent still receives foreign faults") {
  const auto result = run_in_child([] {
    struct sigaction action {};
    action.sa_handler = &previous_handler;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, nullptr);
    install_overflow_guard();
    install_overflow_guard();
    *reinterpret_cast<volatile int*>(g_unmapped_address) = 1;
  });
  CHECK(WIFEXITED(result.status));
  CHECK(WEXITSTATUS(result.status) == kPreviousHandlerExit);
  CHECK(result.error_output.find("previous handler\n") != std::string::npos);
}

TEST_CASE("install_overflow_guard gives a thread an alternate signal stack") {
  bool enabled = false;
  std::thread([&enabled] {
    install_overflow_guard();
    stack_t current{};
    sigaltstack(nullptr, &current);
    enabled = (current.ss_flags & SS_DISABLE) == 0 && current.ss_size >= 16 * 1024;
  }).join();
  CHECK(enabled);
}

TEST_CASE("install_overflow_guard keeps an alternate signal stack the program set") {
  std::vector<char> own(64 * 1024);
  void* seen = nullptr;
  std::thread([&own, &seen] {
    stack_t mine{};
    mine.ss_sp = own.data();
    mine.ss_size = own.size();
    sigaltstack(&mine, nullptr);
    install_overflow_guard();
    stack_t current{};
    sigaltstack(nullptr, &current);
    seen = current.ss_sp;
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, nullptr);
  }).join();
  CHECK(seen == own.data());
}

}  // namespace
