/* Threads sleep different times and print as they wake: the shortest sleeper first. The main
   thread then joins them in creation order and prints what each returned. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "report_threads.h"

enum { kThreads = 6 };

static void* sleeper(void* arg) {
  intptr_t i = (intptr_t)arg;
  usleep((useconds_t)((kThreads - i) * 40 * 1000));
  printf("thread %ld woke\n", (long)i);
  return (void*)(i * i);
}

int main(void) {
  pthread_t threads[kThreads];
  for (intptr_t i = 0; i < kThreads; ++i) {
    if (pthread_create(&threads[i], NULL, sleeper, (void*)i) != 0) return 2;
  }
  report_threads();
  for (int i = 0; i < kThreads; ++i) {
    void* value = NULL;
    if (pthread_join(threads[i], &value) != 0) return 3;
    printf("thread %d returned %ld\n", i, (long)(intptr_t)value);
  }
  return 0;
}
