#pragma once

// Debian 12 ships Catch2 2.13; newer systems ship Catch2 3. CMake tells which one it found.
#if defined(COGENT_CATCH2_V2)
#include <catch2/catch.hpp>
#else
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#endif

#if defined(SKIP)
#define COGENT_SKIP(reason) SKIP(reason)
#else
// Catch2 before 3.3 cannot skip; say why and pass.
#define COGENT_SKIP(reason) \
  do {                      \
    WARN(reason);           \
    return;                 \
  } while (false)
#endif
