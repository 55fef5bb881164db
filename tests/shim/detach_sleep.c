/* Detached threads (by attribute and by pthread_detach, before and after they finished) run to
   completion on their own while the main thread sleeps. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "report_threads.h"

static int done[4];

static void* worker(void* arg) {
  intptr_t i = (intptr_t)arg;
  usleep((useconds_t)((4 - i) * 60 * 1000));
  printf("detached thread %ld done\n", (long)i);
  done[i] = 1;
  return NULL;
}

static void* quick(void* arg) {
  (void)arg;
  return NULL;
}

int main(void) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  for (intptr_t i = 0; i < 2; ++i) {
    if (pthread_create(&t, &attr, worker, (void*)i) != 0) return 2;
  }
  for (intptr_t i = 2; i < 4; ++i) {
    if (pthread_create(&t, NULL, worker, (void*)i) != 0) return 2;
    printf("pthread_detach: %d\n", pthread_detach(t));
  }
  pthread_attr_destroy(&attr);
  pthread_t finished;
  pthread_create(&finished, NULL, quick, NULL);
  report_threads();
  usleep(20 * 1000); /* `finished` has ended by now: detaching it frees it */
  printf("pthread_detach after it finished: %d\n", pthread_detach(finished));
  usleep(400 * 1000);
  printf("main woke: %d %d %d %d\n", done[0], done[1], done[2], done[3]);
  return 0;
}
