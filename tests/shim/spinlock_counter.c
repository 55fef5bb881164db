/* Four threads each add 1 to a shared counter 10,000 times under a spin lock, now and then
   yielding the processor (sched_yield, or usleep(0)) while holding it: the total is exact. Under
   the shim all four are greenlets on one OS thread, so a thread spinning for the lock while its
   holder is switched out must let the holder run. Also the answers of trylock, unlock and
   destroy. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

enum { kThreads = 4, kIncrements = 10000 };

static pthread_spinlock_t lock;
static long counter;
static int inside, overlaps;

static void* worker(void* arg) {
  const int id = (int)(long)arg;
  for (int i = 0; i < kIncrements; ++i) {
    pthread_spin_lock(&lock);
    if (++inside != 1) ++overlaps;
    const long seen = counter;
    if (i % 500 == id) {
      sched_yield();
    } else if (i % 1000 == 250 + id) {
      usleep(0);
    }
    counter = seen + 1;
    --inside;
    pthread_spin_unlock(&lock);
  }
  return NULL;
}

int main(void) {
  printf("init: %s\n", errno_name(pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE)));
  printf("trylock: %s\n", errno_name(pthread_spin_trylock(&lock)));
  printf("trylock while held: %s\n", errno_name(pthread_spin_trylock(&lock)));
  printf("unlock: %s\n", errno_name(pthread_spin_unlock(&lock)));

  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) pthread_create(&threads[i], NULL, worker, (void*)(long)i);
  report_threads();
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  printf("counter: %ld (expected %d)\n", counter, kThreads * kIncrements);
  printf("two threads inside at once: %s\n", overlaps ? "yes" : "no");
  printf("destroy: %s\n", errno_name(pthread_spin_destroy(&lock)));
  return counter == kThreads * kIncrements && overlaps == 0 ? 0 : 1;
}
