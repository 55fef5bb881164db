/* What pthread_join hands back: a returned value, a pthread_exit value (also from a nested call),
   and the errors for joining oneself or a detached thread. pthread_self is distinct per thread
   and equal to what pthread_create gave. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "report_threads.h"

static pthread_t seen_self[4];

static void* returns(void* arg) {
  seen_self[0] = pthread_self();
  usleep(20 * 1000);
  return (void*)((intptr_t)arg + 1);
}

static void* exits(void* arg) {
  seen_self[1] = pthread_self();
  usleep(10 * 1000);
  pthread_exit((void*)((intptr_t)arg * 2));
  return NULL;
}

static void deep(int depth, intptr_t value) {
  if (depth < 0) return;
  if (depth == 0) pthread_exit((void*)value);
  usleep(1000);
  deep(depth - 1, value);
  printf("never printed\n");
}

static void* exits_deep(void* arg) {
  seen_self[2] = pthread_self();
  deep(5, (intptr_t)arg);
  return NULL;
}

static void* joins_itself(void* arg) {
  (void)arg;
  seen_self[3] = pthread_self();
  return (void*)(intptr_t)(pthread_join(pthread_self(), NULL) == EDEADLK);
}

static void* lingers(void* arg) {
  (void)arg;
  usleep(200 * 1000);
  return NULL;
}

int main(void) {
  pthread_t t[4];
  pthread_create(&t[0], NULL, returns, (void*)41);
  pthread_create(&t[1], NULL, exits, (void*)21);
  pthread_create(&t[2], NULL, exits_deep, (void*)7);
  pthread_create(&t[3], NULL, joins_itself, NULL);
  pthread_t detached;
  pthread_create(&detached, NULL, lingers, NULL);
  pthread_detach(detached);
  report_threads();

  const char* names[4] = {"returned", "pthread_exit", "nested pthread_exit",
                          "self-join gave EDEADLK"};
  for (int i = 0; i < 4; ++i) {
    void* value = NULL;
    int rc = pthread_join(t[i], &value);
    printf("%s: rc %d value %ld\n", names[i], rc, (long)(intptr_t)value);
  }
  printf("joining a detached thread: %s\n",
         pthread_join(detached, NULL) == EINVAL ? "EINVAL" : "something else");
  int distinct = 1, matches = 1;
  for (int i = 0; i < 4; ++i) {
    if (!pthread_equal(seen_self[i], t[i])) matches = 0;
    if (pthread_equal(seen_self[i], pthread_self())) distinct = 0;
    for (int j = 0; j < i; ++j) {
      if (pthread_equal(seen_self[i], seen_self[j])) distinct = 0;
    }
  }
  printf("pthread_self matches pthread_create: %s\n", matches ? "yes" : "no");
  printf("pthread_self distinct per thread: %s\n", distinct ? "yes" : "no");
  usleep(300 * 1000); /* let the detached one end before exit */
  return 0;
}
