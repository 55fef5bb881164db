/* The main thread calls pthread_exit while its threads still sleep: they run to the end, their
   output appears, and the process exits with status 0 after the last one. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "report_threads.h"

static void* worker(void* arg) {
  long i = (long)arg;
  usleep((useconds_t)(i + 1) * 40 * 1000);
  printf("thread %ld finished after main left\n", i);
  fflush(stdout);
  return NULL;
}

static void at_exit(void) { printf("atexit handler ran\n"); }

int main(void) {
  atexit(at_exit);
  pthread_t t;
  for (long i = 0; i < 3; ++i) {
    pthread_create(&t, NULL, worker, (void*)i);
    pthread_detach(t);
  }
  report_threads();
  printf("main leaves\n");
  fflush(stdout);
  pthread_exit(NULL);
}
