#pragma once

namespace cogent::detail {

// Idempotent and thread-safe. Installs (once per process) a SIGSEGV/SIGBUS handler that reports a
// fault in a StackPool guard as "cogent: greenlet N overflowed its K KiB stack" and aborts, and
// hands every other fault back to the previous disposition. Also gives the *calling thread* an
// alternate signal stack unless it already has one: an overflowing fiber has no stack left for the
// handler, so every thread that runs fibers must call this.
void install_overflow_guard();

}  // namespace cogent::detail
