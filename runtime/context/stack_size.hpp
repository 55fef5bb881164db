#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cogent::detail {

inline constexpr std::size_t kMinStackSize = 16 * 1024;
inline constexpr std::size_t kMaxStackSize = std::size_t{1} << 30;
inline constexpr std::size_t kDefaultStackSize = 64 * 1024;

// Empty when `bytes` is an acceptable stack size, otherwise why not, e.g.
// "stack size 100 bytes is too small (minimum 16 KiB)".
std::string stack_size_problem(std::size_t bytes);

// "65536", "64k", "64K", "1m", "1M"; nullopt when malformed or overflowing.
std::optional<std::size_t> parse_stack_size(std::string_view text);

}  // namespace cogent::detail
