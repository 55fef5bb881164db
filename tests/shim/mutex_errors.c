/* The answers of the mutex and condition calls: trylock EBUSY while another thread holds the
   mutex across a sleep, timedlock ETIMEDOUT, cond_timedwait ETIMEDOUT with the mutex held again,
   a recursive mutex taken twice, an errorcheck mutex's EDEADLK and EPERM. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_mutex_t recursive;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static volatile int holding;

static void* holder(void* arg) {
  (void)arg;
  pthread_mutex_lock(&held);
  pthread_mutex_lock(&errorcheck);
  holding = 1;
  usleep(200 * 1000);
  pthread_mutex_unlock(&errorcheck);
  pthread_mutex_unlock(&held);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, holder, NULL);
  report_threads();
  while (!holding) usleep(1000);
  printf("trylock while held: %s\n", errno_name(pthread_mutex_trylock(&held)));
  struct timespec soon = in_ms(CLOCK_REALTIME, 20);
  printf("timedlock while held: %s\n", errno_name(pthread_mutex_timedlock(&held, &soon)));
  struct timespec soon_mono = in_ms(CLOCK_MONOTONIC, 20);
  printf("clocklock while held: %s\n",
         errno_name(pthread_mutex_clocklock(&held, CLOCK_MONOTONIC, &soon_mono)));
  struct timespec bad = {0, 2000000000L};
  printf("timedlock with a bad time: %s\n", errno_name(pthread_mutex_timedlock(&held, &bad)));
  printf("unlock of another's errorcheck mutex: %s\n",
         errno_name(pthread_mutex_unlock(&errorcheck)));
  printf("lock once released: %s\n", errno_name(pthread_mutex_lock(&held)));
  pthread_join(t, NULL);

  struct timespec later = in_ms(CLOCK_REALTIME, 30);
  printf("cond_timedwait: %s\n", errno_name(pthread_cond_timedwait(&cond, &held, &later)));
  printf("held again after it: %s\n", errno_name(pthread_mutex_trylock(&held)));
  printf("unlock: %s\n", errno_name(pthread_mutex_unlock(&held)));

  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&recursive, &attr);
  pthread_mutexattr_destroy(&attr);
  printf("recursive lock: %s\n", errno_name(pthread_mutex_lock(&recursive)));
  printf("recursive relock: %s\n", errno_name(pthread_mutex_lock(&recursive)));
  printf("recursive trylock: %s\n", errno_name(pthread_mutex_trylock(&recursive)));
  printf("unlocks: %s", errno_name(pthread_mutex_unlock(&recursive)));
  printf(" %s", errno_name(pthread_mutex_unlock(&recursive)));
  printf(" %s\n", errno_name(pthread_mutex_unlock(&recursive)));
  printf("unlock once more: %s\n", errno_name(pthread_mutex_unlock(&recursive)));
  printf("destroy: %s\n", errno_name(pthread_mutex_destroy(&recursive)));

  printf("errorcheck lock: %s\n", errno_name(pthread_mutex_lock(&errorcheck)));
  printf("errorcheck relock: %s\n", errno_name(pthread_mutex_lock(&errorcheck)));
  printf("errorcheck trylock: %s\n", errno_name(pthread_mutex_trylock(&errorcheck)));
  printf("errorcheck unlock: %s\n", errno_name(pthread_mutex_unlock(&errorcheck)));
  printf("errorcheck unlock again: %s\n", errno_name(pthread_mutex_unlock(&errorcheck)));
  return 0;
}
