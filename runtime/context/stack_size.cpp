#include "context/stack_size.hpp"

#include <limits>

namespace cogent::detail {

std::string stack_size_problem(std::size_t bytes) {
  if (bytes < kMinStackSize) {
    return "stack size " + std::to_string(bytes) + " bytes is too small (minimum 16 KiB)";
  }
  if (bytes > kMaxStackSize) {
    return "stack size " + std::to_string(bytes) + " bytes is too large (maximum 1 GiB)";
  }
  return {};
}

std::optional<std::size_t> parse_stack_size(std::string_view text) {
  std::size_t multiplier = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        multiplier = 1024;
        break;
      case 'm':
      case 'M':
        multiplier = 1024 * 1024;
        break;
      default:
        break;
    }
  }
  if (multiplier != 1) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  constexpr std::size_t kLimit = std::numeric_limits<std::size_t>::max();
  std::size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const auto digit = static_cast<std::size_t>(c - '0');
    if (value > (kLimit - digit) / 10) {
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  if (value > kLimit / multiplier) {
    return std::nullopt;
  }
  return value * multiplier;
}

}  // namespace cogent::detail
