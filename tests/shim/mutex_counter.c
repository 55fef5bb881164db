/* Eight threads each add 100,000 to a shared counter under one mutex, yielding inside the
   critical section every 1,000 increments: no increment is lost. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "report_threads.h"

enum { kThreads = 8, kIncrements = 100000 };

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void* adder(void* arg) {
  long i = (long)arg;
  for (int n = 0; n < kIncrements; ++n) {
    pthread_mutex_lock(&mutex);
    long seen = counter;
    if (n % 1000 == 0) {
      if (i % 2 == 0)
        usleep(0);
      else
        sched_yield();
    }
    counter = seen + 1;
    pthread_mutex_unlock(&mutex);
  }
  return NULL;
}

int main(void) {
  pthread_t t[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, adder, (void*)i);
  report_threads();
  for (int i = 0; i < kThreads; ++i) pthread_join(t[i], NULL);
  printf("total %ld\n", counter);
  return 0;
}
