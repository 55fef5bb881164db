/* errno is per thread: each thread's value survives its sleeps while the others set theirs. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

enum { kThreads = 8 };

static int kept[kThreads];

static void* worker(void* arg) {
  int i = (int)(long)arg;
  int ok = errno == 0;
  for (int round = 0; round < 4; ++round) {
    errno = 100 + i * 10 + round;
    struct timespec pause = {0, (long)((i * 7 + round * 3) % 11 + 1) * 1000 * 1000};
    nanosleep(&pause, NULL);
    if (errno != 100 + i * 10 + round) ok = 0;
    errno = 200 + i;
    usleep(1000);
    if (errno != 200 + i) ok = 0;
  }
  kept[i] = ok;
  return NULL;
}

int main(void) {
  pthread_t t[kThreads];
  errno = 1;
  for (long i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, worker, (void*)i);
  report_threads();
  errno = 77;
  usleep(20 * 1000);
  printf("main's errno after sleeping: %d\n", errno);
  for (int i = 0; i < kThreads; ++i) pthread_join(t[i], NULL);
  for (int i = 0; i < kThreads; ++i)
    printf("thread %d kept its errno: %s\n", i, kept[i] ? "yes" : "no");
  return 0;
}
