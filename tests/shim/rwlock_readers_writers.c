/* Readers and writers on one rwlock: 8 readers that hold it across a sleep share it (more than
   one inside at once), 2 writers hold it alone (no reader inside while a writer holds it, never
   two writers). Then the answers: trywrlock EBUSY while read-held, tryrdlock EBUSY while
   write-held, timedwrlock ETIMEDOUT while another thread progresses, EDEADLK for the writer's own
   wrlock and rdlock, EINVAL for a bad time, a recursive read lock taken while a writer waits (the
   default kind prefers readers), and a reader that waits behind a waiting writer with the
   PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP kind. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

enum { kReaders = 8, kWriters = 2, kReads = 5, kWrites = 3 };

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t partner = PTHREAD_COND_INITIALIZER;
static int readers_inside, writers_inside, max_readers, reads, writes;
static int reader_saw_writer, writer_saw_reader, two_writers;

static void* reader(void* arg) {
  (void)arg;
  for (int i = 0; i < kReads; ++i) {
    pthread_rwlock_rdlock(&lock);
    pthread_mutex_lock(&stats);
    ++readers_inside;
    if (writers_inside != 0) reader_saw_writer = 1;
    if (readers_inside > max_readers) max_readers = readers_inside;
    pthread_cond_broadcast(&partner);
    /* Until two readers have been inside together, wait (bounded) for a second one: a lock that
       shares lets it in, one that does not keeps it out until the wait gives up. */
    struct timespec limit = in_ms(CLOCK_REALTIME, 1000);
    while (max_readers < 2) {
      if (pthread_cond_timedwait(&partner, &stats, &limit) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&stats);
    usleep(2000);
    pthread_mutex_lock(&stats);
    --readers_inside;
    ++reads;
    pthread_mutex_unlock(&stats);
    pthread_rwlock_unlock(&lock);
    usleep(500);
  }
  return NULL;
}

static void* writer(void* arg) {
  (void)arg;
  for (int i = 0; i < kWrites; ++i) {
    pthread_rwlock_wrlock(&lock);
    pthread_mutex_lock(&stats);
    if (writers_inside != 0) two_writers = 1;
    ++writers_inside;
    if (readers_inside != 0) writer_saw_reader = 1;
    pthread_mutex_unlock(&stats);
    usleep(1000);
    pthread_mutex_lock(&stats);
    if (readers_inside != 0) writer_saw_reader = 1;
    --writers_inside;
    ++writes;
    pthread_mutex_unlock(&stats);
    pthread_rwlock_unlock(&lock);
    usleep(1000);
  }
  return NULL;
}

static volatile int holding, release_it;
static pthread_rwlock_t held = PTHREAD_RWLOCK_INITIALIZER;

/* Holds `held` for reading (arg 0) or writing (arg 1) until told to let go. */
static void* holder(void* arg) {
  if (arg != NULL) {
    pthread_rwlock_wrlock(&held);
  } else {
    pthread_rwlock_rdlock(&held);
  }
  holding = 1;
  while (!release_it) usleep(1000);
  pthread_rwlock_unlock(&held);
  holding = 0;
  return NULL;
}

/* 1 ms ticks, until the lock is released (1 s at most). */
static void* ticker_until_released(void* arg) {
  (void)arg;
  while (!release_it && ticks < 1000) {
    ++ticks;
    usleep(1000);
  }
  return NULL;
}

static void hold(int write, pthread_t* t) {
  holding = release_it = 0;
  pthread_create(t, NULL, holder, write ? (void*)1 : NULL);
  while (!holding) usleep(1000);
}

static void let_go(pthread_t t) {
  release_it = 1;
  pthread_join(t, NULL);
}

static pthread_rwlock_t waited;
static volatile int writer_done;

static void* waiting_writer(void* arg) {
  (void)arg;
  pthread_rwlock_wrlock(&waited);
  writer_done = 1;
  pthread_rwlock_unlock(&waited);
  return NULL;
}

/* A reader holds `waited` while a writer waits for it; the reader then tries another read lock. */
static void read_while_writer_waits(int kind, const char* what) {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, kind);
  pthread_rwlock_init(&waited, &attr);
  pthread_rwlockattr_destroy(&attr);
  writer_done = 0;
  pthread_rwlock_rdlock(&waited);
  pthread_t w;
  pthread_create(&w, NULL, waiting_writer, NULL);
  usleep(200 * 1000); /* the writer is waiting by now */
  const int rc = pthread_rwlock_tryrdlock(&waited);
  printf("%s: second read lock while a writer waits: %s, writer done: %s\n", what, errno_name(rc),
         writer_done ? "yes" : "no");
  if (rc == 0) pthread_rwlock_unlock(&waited);
  pthread_rwlock_unlock(&waited);
  pthread_join(w, NULL);
  printf("%s: writer done after the reader left: %s\n", what, writer_done ? "yes" : "no");
  pthread_rwlock_destroy(&waited);
}

int main(void) {
  pthread_t threads[kReaders + kWriters];
  for (int i = 0; i < kReaders; ++i) pthread_create(&threads[i], NULL, reader, NULL);
  for (int i = 0; i < kWriters; ++i) pthread_create(&threads[kReaders + i], NULL, writer, NULL);
  report_threads();
  for (int i = 0; i < kReaders + kWriters; ++i) pthread_join(threads[i], NULL);
  printf("reads: %d, writes: %d\n", reads, writes);
  printf("readers shared the lock: %s\n", max_readers > 1 ? "yes" : "no");
  printf("a reader inside while a writer held it: %s\n",
         reader_saw_writer || writer_saw_reader ? "yes" : "no");
  printf("two writers inside at once: %s\n", two_writers ? "yes" : "no");

  pthread_t t;
  hold(0, &t);
  printf("trywrlock while read-held: %s\n", errno_name(pthread_rwlock_trywrlock(&held)));
  const int rd = pthread_rwlock_tryrdlock(&held);
  printf("tryrdlock while read-held: %s\n", errno_name(rd));
  if (rd == 0) pthread_rwlock_unlock(&held);
  pthread_t tick;
  ticks = 0;
  pthread_create(&tick, NULL, ticker_until_released, NULL);
  struct timespec soon = in_ms(CLOCK_REALTIME, 100);
  printf("timedwrlock while read-held: %s\n", errno_name(pthread_rwlock_timedwrlock(&held, &soon)));
  printf("another thread progressed meanwhile: %s\n", ticks >= 10 ? "yes" : "no");
  struct timespec soon_mono = in_ms(CLOCK_MONOTONIC, 20);
  printf("clockwrlock while read-held: %s\n",
         errno_name(pthread_rwlock_clockwrlock(&held, CLOCK_MONOTONIC, &soon_mono)));
  let_go(t);
  pthread_join(tick, NULL);

  hold(1, &t);
  printf("tryrdlock while write-held: %s\n", errno_name(pthread_rwlock_tryrdlock(&held)));
  printf("trywrlock while write-held: %s\n", errno_name(pthread_rwlock_trywrlock(&held)));
  soon = in_ms(CLOCK_REALTIME, 20);
  printf("timedrdlock while write-held: %s\n",
         errno_name(pthread_rwlock_timedrdlock(&held, &soon)));
  soon_mono = in_ms(CLOCK_MONOTONIC, 20);
  printf("clockrdlock while write-held: %s\n",
         errno_name(pthread_rwlock_clockrdlock(&held, CLOCK_MONOTONIC, &soon_mono)));
  let_go(t);
  printf("rdlock once released: %s\n", errno_name(pthread_rwlock_rdlock(&held)));
  printf("unlock: %s\n", errno_name(pthread_rwlock_unlock(&held)));

  printf("wrlock: %s\n", errno_name(pthread_rwlock_wrlock(&held)));
  printf("wrlock again by the writer: %s\n", errno_name(pthread_rwlock_wrlock(&held)));
  printf("rdlock by the writer: %s\n", errno_name(pthread_rwlock_rdlock(&held)));
  printf("trywrlock by the writer: %s\n", errno_name(pthread_rwlock_trywrlock(&held)));
  struct timespec bad = {0, 2000000000L};
  printf("timedwrlock with a bad time by the writer: %s\n",
         errno_name(pthread_rwlock_timedwrlock(&held, &bad)));
  printf("unlock: %s\n", errno_name(pthread_rwlock_unlock(&held)));
  printf("timedrdlock with a bad time, free: %s\n",
         errno_name(pthread_rwlock_timedrdlock(&held, &bad)));
  struct timespec past = {1, 0};
  printf("clockrdlock with CLOCK_PROCESS_CPUTIME_ID: %s\n",
         errno_name(pthread_rwlock_clockrdlock(&held, CLOCK_PROCESS_CPUTIME_ID, &past)));
  printf("timedwrlock in the past, free: %s\n",
         errno_name(pthread_rwlock_timedwrlock(&held, &past)));
  printf("unlock: %s\n", errno_name(pthread_rwlock_unlock(&held)));
  printf("destroy: %s\n", errno_name(pthread_rwlock_destroy(&held)));

  read_while_writer_waits(PTHREAD_RWLOCK_PREFER_READER_NP, "default kind");
  read_while_writer_waits(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, "writer-preferring kind");
  return 0;
}
