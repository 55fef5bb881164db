#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

#include "catch_compat.hpp"
#include "context/stack_pool.hpp"

namespace {

using cogent::detail::StackPool;

std::string construction_error(std::size_t size) {
  try {
    StackPool pool(size);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "no error";
}

TEST_CASE("stack sizes outside 16 KiB to 1 GiB are refused with a clear message") {
  CHECK(construction_error(100) == "cogent: stack size 100 bytes is too small (minimum 16 KiB)");
  CHECK(construction_error(16383) ==
        "cogent: stack size 16383 bytes is too small (minimum 16 KiB)");
  CHECK(construction_error((std::size_t{1} << 30) + 1) ==
        "cogent: stack size 1073741825 bytes is too large (maximum 1 GiB)");
  CHECK(construction_error(16384) == "no error");
  CHECK(construction_error(std::size_t{1} << 30) == "no error");
}

TEST_CASE("stack sizes are rounded up to whole pages") {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  CHECK(StackPool(16384).stack_size() == 16384);
  CHECK(StackPool(16385).stack_size() == 16384 + page);
  CHECK(StackPool(100000).stack_size() % page == 0);
}

// Sets COGENT_STACK_SIZE for one scope and restores what was there.
class ScopedStackSizeEnv {
 public:
  explicit ScopedStackSizeEnv(const char* value) {
    if (const char* old = getenv(kName)) {
      saved_ = old;
    }
    if (value == nullptr) {
      unsetenv(kName);
    } else {
      setenv(kName, value, 1);
    }
  }
  ScopedStackSizeEnv(const ScopedStackSizeEnv&) = delete;
  ScopedStackSizeEnv& operator=(const ScopedStackSizeEnv&) = delete;
  ~ScopedStackSizeEnv() {
    if (saved_) {
      setenv(kName, saved_->c_str(), 1);
    } else {
      unsetenv(kName);
    }
  }

 private:
  static constexpr const char* kName = "COGENT_STACK_SIZE";
  std::optional<std::string> saved_;
};

std::string env_error(const char* value) {
  ScopedStackSizeEnv env(value);
  try {
    return "accepted " + std::to_string(StackPool::default_stack_size());
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
}

std::size_t env_size(const char* value) {
  ScopedStackSizeEnv env(value);
  return StackPool::default_stack_size();
}

TEST_CASE("COGENT_STACK_SIZE picks the default stack size") {
  CHECK(env_size(nullptr) == 64 * 1024);
  CHECK(env_size("") == 64 * 1024);
  CHECK(env_size("70000") == 70000);
  CHECK(env_size("256k") == 256 * 1024);
  CHECK(env_size("256K") == 256 * 1024);
  CHECK(env_size("2m") == 2 * 1024 * 1024);
  CHECK(env_size("1M") == 1024 * 1024);
  CHECK(env_size("1048576k") == 1024 * 1024 * 1024);
}

TEST_CASE("a malformed COGENT_STACK_SIZE names the variable and the value") {
  const std::string expected_hint = " (expected bytes with an optional k/K/m/M suffix, e.g. 256k)";
  CHECK(env_error("abc") == "cogent: invalid COGENT_STACK_SIZE value 'abc'" + expected_hint);
  CHECK(env_error("64kb") == "cogent: invalid COGENT_STACK_SIZE value '64kb'" + expected_hint);
  CHECK(env_error("k") == "cogent: invalid COGENT_STACK_SIZE value 'k'" + expected_hint);
  CHECK(env_error("-64k") == "cogent: invalid COGENT_STACK_SIZE value '-64k'" + expected_hint);
  CHECK(env_error(" 64k") == "cogent: invalid COGENT_STACK_SIZE value ' 64k'" + expected_hint);
  CHECK(env_error("1g") == "cogent: invalid COGENT_STACK_SIZE value '1g'" + expected_hint);
  CHECK(env_error("99999999999999999999999") ==
        "cogent: invalid COGENT_STACK_SIZE value '99999999999999999999999'" + expected_hint);
  CHECK(env_error("18014398509481984m") ==
        "cogent: invalid COGENT_STACK_SIZE value '18014398509481984m'" + expected_hint);
  CHECK(env_error("8k") ==
        "cogent: invalid COGENT_STACK_SIZE value '8k': stack size 8192 bytes is too small "
        "(minimum 16 KiB)");
  CHECK(env_error("2048m") ==
        "cogent: invalid COGENT_STACK_SIZE value '2048m': stack size 2147483648 bytes is too "
        "large (maximum 1 GiB)");
}

}  // namespace
