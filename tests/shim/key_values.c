/* pthread_key_* values are per thread: each thread reads back its own value across sleeps, a
   new thread starts with NULL, destructors run at thread exit (also for pthread_exit, and again
   when a destructor sets a value), and a deleted key's values are gone. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "report_threads.h"

enum { kThreads = 10 };

static pthread_key_t key;
static pthread_key_t again_key;
static int destructor_calls;
static long destructor_sum;
static int again_calls;
static int own_values;
static int started_null;

static void destroy(void* value) {
  __atomic_fetch_add(&destructor_calls, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&destructor_sum, *(long*)value, __ATOMIC_SEQ_CST);
  free(value);
}

/* Sets its value again twice: it runs three times (PTHREAD_DESTRUCTOR_ITERATIONS is 4). */
static void destroy_again(void* value) {
  int n = __atomic_add_fetch(&again_calls, 1, __ATOMIC_SEQ_CST);
  (void)n;
  intptr_t left = (intptr_t)value - 1;
  if (left > 0) pthread_setspecific(again_key, (void*)left);
}

static void* worker(void* arg) {
  long i = (long)arg;
  if (pthread_getspecific(key) == NULL) __atomic_fetch_add(&started_null, 1, __ATOMIC_SEQ_CST);
  long* mine = malloc(sizeof *mine);
  *mine = i;
  pthread_setspecific(key, mine);
  for (int round = 0; round < 3; ++round) {
    usleep((useconds_t)((kThreads - i) * 2 + round) * 1000);
    long* back = pthread_getspecific(key);
    if (back != mine || *back != i) return (void*)1;
  }
  __atomic_fetch_add(&own_values, 1, __ATOMIC_SEQ_CST);
  if (i == 0) pthread_setspecific(again_key, (void*)3);
  if (i % 2 == 1) pthread_exit(NULL);
  return NULL;
}

static void* on_deleted_key(void* arg) {
  (void)arg;
  pthread_key_t k;
  pthread_key_create(&k, NULL);
  pthread_setspecific(k, (void*)7);
  pthread_key_delete(k);
  pthread_key_t fresh;
  pthread_key_create(&fresh, NULL);
  void* seen = pthread_getspecific(fresh);
  pthread_key_delete(fresh);
  return seen;
}

int main(void) {
  pthread_key_create(&key, destroy);
  pthread_key_create(&again_key, destroy_again);
  long* main_value = malloc(sizeof *main_value);
  *main_value = 1000;
  pthread_setspecific(key, main_value);

  pthread_t t[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, worker, (void*)i);
  report_threads();
  int failures = 0;
  for (int i = 0; i < kThreads; ++i) {
    void* rc = NULL;
    pthread_join(t[i], &rc);
    failures += rc != NULL;
  }
  pthread_t d;
  void* seen = (void*)1;
  pthread_create(&d, NULL, on_deleted_key, NULL);
  pthread_join(d, &seen);

  printf("threads that kept their own value: %d, failures: %d\n", own_values, failures);
  printf("threads that started with NULL: %d\n", started_null);
  printf("destructor calls: %d, sum of values: %ld\n", destructor_calls, destructor_sum);
  printf("re-armed destructor calls: %d\n", again_calls);
  printf("a re-made key starts NULL: %s\n", seen == NULL ? "yes" : "no");
  printf("main's value untouched: %ld\n", *(long*)pthread_getspecific(key));
  return 0;
}
