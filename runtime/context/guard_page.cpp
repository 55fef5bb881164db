#include "context/guard_page.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace cogent::detail {
namespace {

enum class GuardMethod { kUnknown, kMadvise, kMprotect };

// Probed on the first guard of the process; every later guard uses the same method.
std::atomic<GuardMethod> g_method{GuardMethod::kUnknown};

}  // namespace

// MADV_GUARD_INSTALL (Linux 6.13+) puts guard markers in the page tables and leaves the mapping
// one VMA, so a slab costs one /proc/self/maps line however many stacks it holds. Older kernels
// reject the advice with EINVAL; mprotect(PROT_NONE) then splits the slab into two VMAs per stack,
// and vm.max_map_count (65530 by default) caps a process at about 32k stacks.
void install_guard(void* address, std::size_t size) {
  GuardMethod method = g_method.load(std::memory_order_relaxed);
  if (method != GuardMethod::kMprotect) {
    int rc;
    do {
      rc = madvise(address, size, MADV_GUARD_INSTALL);
    } while (rc != 0 && (errno == EINTR || errno == EAGAIN));
    if (rc == 0) {
      g_method.store(GuardMethod::kMadvise, std::memory_order_relaxed);
      return;
    }
    if (errno != EINVAL || method == GuardMethod::kMadvise) {
      throw std::system_error(errno, std::generic_category(), "cogent: cannot install stack guard");
    }
    g_method.store(GuardMethod::kMprotect, std::memory_order_relaxed);
  }
  if (mprotect(address, size, PROT_NONE) != 0) {
    throw std::system_error(errno, std::generic_category(), "cogent: cannot protect stack guard");
  }
}

}  // namespace cogent::detail
