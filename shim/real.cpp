#include "shim/real.hpp"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace cogent::shim {

// The raw system call: write() itself is interposed, and stdio may allocate or lock.
void say(const char* text) noexcept {
  std::size_t left = std::strlen(text);
  while (left > 0) {
    const long n = ::syscall(SYS_write, STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<std::size_t>(n);
  }
}

void* resolve_real(const char* name) noexcept {
  if (void* fn = ::dlsym(RTLD_NEXT, name)) return fn;
  say("cogent: libcogent_preload.so cannot find the real '");
  say(name);
  say("' (dlsym RTLD_NEXT failed); aborting\n");
  std::abort();
}

}  // namespace cogent::shim
