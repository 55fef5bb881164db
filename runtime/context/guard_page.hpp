#pragma once

#include <cstddef>

namespace cogent::detail {

// Makes [address, address + size) fault on any access. Throws std::system_error on failure.
void install_guard(void* address, std::size_t size);

}  // namespace cogent::detail
