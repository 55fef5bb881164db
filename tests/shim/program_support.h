/* What the shim's test programs share: millisecond clocks, errno names, a checker that counts
 * failures, and a ticker thread that shows another thread progressed while one waited. Header
 * only, so each test program stays one file, run natively and under the shim alike. */
#ifndef COGENT_TESTS_SHIM_PROGRAM_SUPPORT_H
#define COGENT_TESTS_SHIM_PROGRAM_SUPPORT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM_SUPPORT_UNUSED __attribute__((unused))

static inline long ms_since(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* `ms` milliseconds from now on `clock`: a deadline for the timed calls. */
static inline struct timespec in_ms(clockid_t clock, long ms) {
  struct timespec t;
  clock_gettime(clock, &t);
  t.tv_nsec += ms * 1000000L;
  t.tv_sec += t.tv_nsec / 1000000000L;
  t.tv_nsec %= 1000000000L;
  return t;
}

/* The symbol, so that output does not depend on the C library's wording. */
static inline const char* errno_name(int e) {
  switch (e) {
    case 0:
      return "0";
    case EAFNOSUPPORT:
      return "EAFNOSUPPORT";
    case EBUSY:
      return "EBUSY";
    case EDEADLK:
      return "EDEADLK";
    case EEXIST:
      return "EEXIST";
    case ENOENT:
      return "ENOENT";
    case EOVERFLOW:
      return "EOVERFLOW";
    case EPERM:
      return "EPERM";
    case ERANGE:
      return "ERANGE";
    case ESRCH:
      return "ESRCH";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case EAGAIN:
      return "EAGAIN";
    case EBADF:
      return "EBADF";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case ECONNRESET:
      return "ECONNRESET";
    case EDESTADDRREQ:
      return "EDESTADDRREQ";
    case EINPROGRESS:
      return "EINPROGRESS";
    case EINTR:
      return "EINTR";
    case EINVAL:
      return "EINVAL";
    case EISCONN:
      return "EISCONN";
    case ENOTCONN:
      return "ENOTCONN";
    case ENOTSOCK:
      return "ENOTSOCK";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case EPIPE:
      return "EPIPE";
    default:
      return strerror(e);
  }
}

static int failures PROGRAM_SUPPORT_UNUSED;

/* Prints what went wrong and counts it; main returns failures == 0 ? 0 : 1. */
static inline void expect(int ok, const char* what) {
  if (!ok) {
    printf("UNEXPECTED: %s\n", what);
    ++failures;
  }
}

static volatile int ticks PROGRAM_SUPPORT_UNUSED;
static volatile int stop_ticking PROGRAM_SUPPORT_UNUSED;

/* A thread that counts 5 ms sleeps until stop_ticking (10 s at most): if `ticks` grew while
 * another thread waited, the wait did not hold the process. */
static inline void* ticker(void* arg) {
  (void)arg;
  for (int i = 0; i < 2000 && !stop_ticking; ++i) {
    usleep(5 * 1000);
    ++ticks;
  }
  return NULL;
}

#endif
