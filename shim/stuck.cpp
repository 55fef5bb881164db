// See stuck.hpp.
#include "shim/stuck.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "shim/real.hpp"

namespace cogent::shim {

void die_stuck(const LoopExit& e) noexcept {
  std::fflush(nullptr);
  const std::string text = std::string(e.what()) + "\n";
  [[maybe_unused]] auto n = COGENT_REAL(write)(STDERR_FILENO, text.data(), text.size());
  _exit(EXIT_FAILURE);
}

}  // namespace cogent::shim
