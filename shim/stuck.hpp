// What a cooperative wait of the main greenlet does when nothing can ever end it
// (cogent::LoopExit): natively the program would hang; under the shim it says who waits on what and
// exits non-zero.
//
//   try { RuntimeScope scope; lock.acquire(); } catch (const LoopExit& e) { die_stuck(e); }
#pragma once

#include "cogent/error.hpp"

namespace cogent::shim {

/// Writes the wait graph (`e.what()`) on stderr after flushing stdio, then _exit(EXIT_FAILURE).
[[noreturn]] void die_stuck(const LoopExit& e) noexcept;

}  // namespace cogent::shim
