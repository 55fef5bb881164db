/* Six threads go through five phases separated by a barrier, arriving in a different order each
   phase (each sleeps a little first). Per phase: exactly one of them gets
   PTHREAD_BARRIER_SERIAL_THREAD, and nobody leaves the barrier before all six have arrived. Also
   the answers of init (EINVAL for a count of 0), a barrier of one, and destroy. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

enum { kThreads = 6, kPhases = 5 };

static pthread_barrier_t barrier;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static int arrived[kPhases], serial[kPhases], early_leavers[kPhases], other_answers;

static const char* name(int rc) {
  return rc == PTHREAD_BARRIER_SERIAL_THREAD ? "PTHREAD_BARRIER_SERIAL_THREAD" : errno_name(rc);
}

static void* worker(void* arg) {
  const int id = (int)(long)arg;
  for (int phase = 0; phase < kPhases; ++phase) {
    usleep(1000 * ((id * 7 + phase * 3) % kThreads));
    pthread_mutex_lock(&stats);
    ++arrived[phase];
    pthread_mutex_unlock(&stats);
    const int rc = pthread_barrier_wait(&barrier);
    pthread_mutex_lock(&stats);
    if (arrived[phase] != kThreads) ++early_leavers[phase];
    if (rc == PTHREAD_BARRIER_SERIAL_THREAD) {
      ++serial[phase];
    } else if (rc != 0) {
      ++other_answers;
    }
    pthread_mutex_unlock(&stats);
  }
  return NULL;
}

int main(void) {
  pthread_barrier_t b;
  printf("init with a count of 0: %s\n", name(pthread_barrier_init(&b, NULL, 0)));
  printf("init with a count of 1: %s\n", name(pthread_barrier_init(&b, NULL, 1)));
  printf("wait on a barrier of one: %s\n", name(pthread_barrier_wait(&b)));
  printf("and again: %s\n", name(pthread_barrier_wait(&b)));
  printf("destroy: %s\n", name(pthread_barrier_destroy(&b)));

  printf("init with a count of %d: %s\n", kThreads,
         name(pthread_barrier_init(&barrier, NULL, kThreads)));
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) pthread_create(&threads[i], NULL, worker, (void*)(long)i);
  report_threads();
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  for (int phase = 0; phase < kPhases; ++phase) {
    printf("phase %d: %d arrived, %d got PTHREAD_BARRIER_SERIAL_THREAD, %d left early\n", phase,
           arrived[phase], serial[phase], early_leavers[phase]);
  }
  printf("other answers: %d\n", other_answers);
  printf("destroy: %s\n", name(pthread_barrier_destroy(&barrier)));
  return 0;
}
