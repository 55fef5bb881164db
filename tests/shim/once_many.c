/* Many threads reach pthread_once while the initialiser is still running (it sleeps): it runs
   exactly once, and every caller returns only after it has finished. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "report_threads.h"

enum { kThreads = 50 };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int runs;
static int ready;
static int saw_ready[kThreads];

static void init(void) {
  ++runs;
  usleep(50 * 1000);
  ready = 1;
}

static void* caller(void* arg) {
  int i = (int)(long)arg;
  usleep((useconds_t)(i % 5) * 1000);
  pthread_once(&once, init);
  saw_ready[i] = ready;
  return NULL;
}

int main(void) {
  pthread_t t[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, caller, (void*)i);
  report_threads();
  for (int i = 0; i < kThreads; ++i) pthread_join(t[i], NULL);
  int all = 0;
  for (int i = 0; i < kThreads; ++i) all += saw_ready[i];
  printf("init ran %d time(s)\n", runs);
  printf("%d of %d callers returned after it finished\n", all, kThreads);
  pthread_once(&once, init);
  printf("a later call runs nothing: %d\n", runs);
  return 0;
}
