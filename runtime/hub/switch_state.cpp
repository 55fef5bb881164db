#include "hub/switch_state.hpp"

#include <cxxabi.h>

#include <cerrno>

namespace cogent::detail {
namespace {
// The Itanium ABI's layout: the caught-exception stack, then the uncaught count (plus, on ARM
// EHABI only, a propagating-exception pointer, which AArch64 does not use).
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};
static_assert(sizeof(EhGlobals) <= ThreadState::kEhSize);
}  // namespace

ThreadState::ThreadState() noexcept : eh_globals_(abi::__cxa_get_globals()), errno_(&errno) {}

}  // namespace cogent::detail
