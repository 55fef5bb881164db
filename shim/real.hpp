// The libc functions the shim stands in for, as libc defines them: resolved once with
// dlsym(RTLD_NEXT, name), so that an interposer (and the runtime inside the shim) can always reach
// the real call without recursing into itself.
//
//   ssize_t n = COGENT_REAL(read)(fd, buf, len);
#pragma once

namespace cogent::shim {

/// The next definition of `name` after the shim's (libc's, normally). Never returns null: a
/// missing symbol is reported on stderr and the process aborts, since nothing sane can follow.
void* resolve_real(const char* name) noexcept;

/// Writes `text` to stderr with the raw system call: safe anywhere (in a fork child, while
/// resolving, from a handler), since it neither allocates, locks, nor goes through the shim.
void say(const char* text) noexcept;

}  // namespace cogent::shim

/// The real libc `name`, typed as the declaration in scope; resolved on first use.
#define COGENT_REAL(name)                                                         \
  ([]() noexcept {                                                                \
    static const auto fn =                                                        \
        reinterpret_cast<decltype(&::name)>(::cogent::shim::resolve_real(#name)); \
    return fn;                                                                    \
  }())
