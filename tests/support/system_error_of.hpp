// The errno a call failed with: the code of the std::system_error it threw, 0 if it returned.
#pragma once

#include <system_error>

namespace cogent::test {

template <class F>
int system_error_of(F&& f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return e.code().value();
  }
  return 0;
}

}  // namespace cogent::test
