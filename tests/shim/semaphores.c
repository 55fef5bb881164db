/* POSIX semaphores: sem_timedwait runs out (ETIMEDOUT) after about 100 ms while another thread
   keeps progressing; sem_trywait answers EAGAIN; sem_clockwait on CLOCK_MONOTONIC times out and
   succeeds; a semaphore of 3 gates 20 threads (never more than 3 inside); sem_getvalue is exact
   after posts and waits; a post wakes a thread blocked in sem_wait; and the errors: EINVAL for a
   bad tv_nsec or clock even when a unit is free, EOVERFLOW for a post past SEM_VALUE_MAX. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

enum { kGated = 20, kGate = 3 };

/* "0", or "-1 NAME" from errno. */
static const char* result(int rc) {
  static char buf[64];
  if (rc == 0) return "0";
  snprintf(buf, sizeof buf, "%d %s", rc, errno_name(errno));
  return buf;
}

static long elapsed_ms(const struct timespec* since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* 1 ms ticks (2 s at most): finer than the shared ticker, for the short waits here. */
static void* fast_ticker(void* arg) {
  (void)arg;
  while (!stop_ticking && ticks < 2000) {
    ++ticks;
    usleep(1000);
  }
  return NULL;
}

static sem_t gate;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t full = PTHREAD_COND_INITIALIZER;
static int inside, max_inside, passed;

/* Through the gate. Until the gate has been seen full once, whoever is inside waits (bounded)
   for it to fill: a gate that lets 3 in shows 3, whatever the timing. */
static void* gated(void* arg) {
  (void)arg;
  sem_wait(&gate);
  pthread_mutex_lock(&stats);
  ++inside;
  if (inside > max_inside) max_inside = inside;
  pthread_cond_broadcast(&full);
  struct timespec limit = in_ms(CLOCK_REALTIME, 1000);
  while (max_inside < kGate) {
    if (pthread_cond_timedwait(&full, &stats, &limit) == ETIMEDOUT) break;
  }
  pthread_mutex_unlock(&stats);
  usleep(2000);
  pthread_mutex_lock(&stats);
  --inside;
  ++passed;
  pthread_mutex_unlock(&stats);
  sem_post(&gate);
  return NULL;
}

static sem_t signal_sem;
static volatile int woken;

static void* sleeper(void* arg) {
  (void)arg;
  if (sem_wait(&signal_sem) == 0) woken = 1;
  return NULL;
}

int main(void) {
  sem_t s;
  sem_init(&s, 0, 0);

  pthread_t tick;
  pthread_create(&tick, NULL, fast_ticker, NULL);
  pthread_t threads[kGated];
  sem_init(&gate, 0, 0);
  for (int i = 0; i < kGated; ++i) pthread_create(&threads[i], NULL, gated, NULL);
  report_threads();

  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  struct timespec limit = in_ms(CLOCK_REALTIME, 100);
  errno = 0;
  printf("sem_timedwait on an empty semaphore: %s\n", result(sem_timedwait(&s, &limit)));
  const long waited = elapsed_ms(&start);
  printf("waited about 100 ms: %s\n", waited >= 95 && waited < 1000 ? "yes" : "no");
  printf("progressed: %s\n", ticks >= 20 ? "yes" : "no");
  stop_ticking = 1;
  pthread_join(tick, NULL);

  errno = 0;
  printf("sem_trywait on an empty semaphore: %s\n", result(sem_trywait(&s)));
  struct timespec mono = in_ms(CLOCK_MONOTONIC, 30);
  printf("sem_clockwait CLOCK_MONOTONIC, empty: %s\n",
         result(sem_clockwait(&s, CLOCK_MONOTONIC, &mono)));
  struct timespec past = {1, 0};
  printf("sem_timedwait in the past, empty: %s\n", result(sem_timedwait(&s, &past)));

  for (int i = 0; i < 5; ++i) sem_post(&s);
  int value = -1;
  sem_getvalue(&s, &value);
  printf("value after 5 posts: %d\n", value);
  errno = 0;
  printf("sem_trywait: %s\n", result(sem_trywait(&s)));
  mono = in_ms(CLOCK_MONOTONIC, 30);
  printf("sem_clockwait CLOCK_MONOTONIC with units: %s\n",
         result(sem_clockwait(&s, CLOCK_MONOTONIC, &mono)));
  printf("sem_timedwait in the past with units: %s\n", result(sem_timedwait(&s, &past)));
  printf("sem_wait: %s\n", result(sem_wait(&s)));
  sem_getvalue(&s, &value);
  printf("value after 4 waits: %d\n", value);

  struct timespec bad = {0, 2000000000L};
  errno = 0;
  printf("sem_timedwait with a bad tv_nsec, a unit free: %s\n", result(sem_timedwait(&s, &bad)));
  errno = 0;
  printf("sem_clockwait with CLOCK_PROCESS_CPUTIME_ID, a unit free: %s\n",
         result(sem_clockwait(&s, CLOCK_PROCESS_CPUTIME_ID, &past)));
  errno = 0;
  printf("sem_clockwait with a bad tv_nsec, a unit free: %s\n",
         result(sem_clockwait(&s, CLOCK_MONOTONIC, &bad)));
  sem_getvalue(&s, &value);
  printf("value still: %d\n", value);
  sem_destroy(&s);

  sem_t most;
  sem_init(&most, 0, SEM_VALUE_MAX);
  errno = 0;
  printf("sem_post at SEM_VALUE_MAX: %s\n", result(sem_post(&most)));
  sem_destroy(&most);

  sem_init(&signal_sem, 0, 0);
  pthread_t t;
  pthread_create(&t, NULL, sleeper, NULL);
  usleep(50 * 1000);
  printf("sleeper woken before the post: %s\n", woken ? "yes" : "no");
  sem_post(&signal_sem);
  pthread_join(t, NULL);
  printf("sleeper woken by the post: %s\n", woken ? "yes" : "no");
  sem_getvalue(&signal_sem, &value);
  printf("value after it: %d\n", value);
  sem_destroy(&signal_sem);

  for (int i = 0; i < kGate; ++i) sem_post(&gate);
  for (int i = 0; i < kGated; ++i) pthread_join(threads[i], NULL);
  printf("through the gate: %d, at most inside at once: %d\n", passed, max_inside);
  sem_getvalue(&gate, &value);
  printf("gate value at the end: %d\n", value);
  sem_destroy(&gate);
  return 0;
}
