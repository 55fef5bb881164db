#pragma once

// GCC spells sanitizer detection __SANITIZE_*__, Clang spells it __has_feature; the nested #if
// keeps GCC's preprocessor from parsing an undefined __has_feature(...).
#if defined(__SANITIZE_ADDRESS__)
#define COGENT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COGENT_ASAN 1
#endif
#endif
#ifndef COGENT_ASAN
#define COGENT_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define COGENT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define COGENT_TSAN 1
#endif
#endif
#ifndef COGENT_TSAN
#define COGENT_TSAN 0
#endif
