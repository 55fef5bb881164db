// Catch2 2 has no Catch2WithMain library; this translation unit provides main().
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 with -fsanitize=address -O2 reports a false -Wmaybe-uninitialized inside the std::regex
// that Catch2's implementation instantiates.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
