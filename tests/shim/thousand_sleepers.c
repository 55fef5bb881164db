/* 1,000 threads each sleep 100 ms at the same time: all of them finish, together, well within
   the time 1,000 sleeps one after the other would take. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

enum { kThreads = 1000 };

static int woke;

static void* sleeper(void* arg) {
  (void)arg;
  usleep(100 * 1000);
  __atomic_fetch_add(&woke, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void) {
  static pthread_t threads[kThreads];
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 128 * 1024);
  const double start = now();
  for (int i = 0; i < kThreads; ++i) {
    if (pthread_create(&threads[i], &attr, sleeper, NULL) != 0) return 2;
  }
  report_threads();
  for (int i = 0; i < kThreads; ++i) {
    if (pthread_join(threads[i], NULL) != 0) return 3;
  }
  const double elapsed = now() - start;
  printf("%d threads slept\n", woke);
  printf("together: %s\n", elapsed < 10.0 ? "yes" : "no");
  pthread_attr_destroy(&attr);
  return 0;
}
