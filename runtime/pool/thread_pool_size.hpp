// The size of ThreadPool::shared(), from the environment. Internal; tested on its own because the
// shared pool itself is built once per process.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace cogent::detail {

/// A positive decimal thread count ("4", "64"); nullopt when malformed, zero or overflowing.
std::optional<std::size_t> parse_thread_pool_size(std::string_view text);

/// COGENT_THREADPOOL_SIZE when set and not empty, else ThreadPool::kDefaultMaxThreads.
/// std::invalid_argument naming the variable when its value is not a positive integer.
std::size_t thread_pool_size_from_env();

}  // namespace cogent::detail
