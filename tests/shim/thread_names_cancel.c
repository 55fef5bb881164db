/* The calls that take a pthread_t work on every thread: names (set, read back, ERANGE),
   cancellation of a thread blocked in a sleep (PTHREAD_CANCELED from join), cancellation held
   back while disabled and acted on at the next cancellation point once enabled, scheduling
   parameters and a CPU-time clock. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static volatile int reached_after_sleep;
static volatile int disabled_steps;

static void* sleeper(void* arg) {
  (void)arg;
  sleep(5);
  reached_after_sleep = 1;
  return NULL;
}

static void* holds_off(void* arg) {
  (void)arg;
  int old;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  for (int i = 0; i < 5; ++i) {
    usleep(20 * 1000); /* a cancellation point, but cancellation is disabled */
    ++disabled_steps;
  }
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
  usleep(20 * 1000); /* acted on here */
  disabled_steps = 100;
  return NULL;
}

static volatile int release_named;

static void* named(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "worker-7");
  while (!release_named) usleep(1000);
  return NULL;
}

int main(void) {
  pthread_t n, s, h;
  pthread_create(&n, NULL, named, NULL);
  pthread_create(&s, NULL, sleeper, NULL);
  pthread_create(&h, NULL, holds_off, NULL);
  report_threads();
  usleep(30 * 1000);

  char name[16];
  int rc = pthread_getname_np(n, name, sizeof name);
  printf("name set by the thread itself: %s (%s)\n", name, errno_name(rc));
  rc = pthread_setname_np(n, "a-name-longer-than-15");
  printf("too long a name: %s\n", errno_name(rc));
  rc = pthread_getname_np(n, name, 4);
  printf("too small a buffer: %s\n", errno_name(rc));

  rc = pthread_cancel(s);
  void* result;
  pthread_join(s, &result);
  printf("cancel a sleeping thread: %s, joined with %s, ran past its sleep: %s\n", errno_name(rc),
         result == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "something else",
         reached_after_sleep ? "yes" : "no");

  rc = pthread_cancel(h);
  pthread_join(h, &result);
  printf("cancel while disabled: %s, steps done while disabled %d, joined with %s\n",
         errno_name(rc), disabled_steps,
         result == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "something else");

  int policy;
  struct sched_param param;
  rc = pthread_getschedparam(n, &policy, &param);
  printf("scheduling of a thread: %s, policy %s\n", errno_name(rc),
         policy == SCHED_OTHER ? "SCHED_OTHER" : "other");
  clockid_t clock;
  rc = pthread_getcpuclockid(n, &clock);
  struct timespec used;
  printf("its CPU-time clock: %s, readable: %s\n", errno_name(rc),
         clock_gettime(clock, &used) == 0 ? "yes" : "no");
  release_named = 1;
  usleep(50 * 1000);
  rc = pthread_getschedparam(n, &policy, &param);
  printf("scheduling of a thread that ended: %s\n", errno_name(rc));
  printf("cancel a thread that ended: %s\n", errno_name(pthread_cancel(n)));
  pthread_join(n, NULL);
  return 0;
}
