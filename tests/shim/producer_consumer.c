/* Producers and consumers share a bounded buffer guarded by one mutex, with one condition
   variable for "not full" and one for "not empty": every item is consumed exactly once. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "report_threads.h"

enum { kProducers = 4, kConsumers = 3, kItems = 2000, kCapacity = 8 };

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty;
static long buffer[kCapacity];
static int head, count, producers_left = kProducers;
static long consumed_count[kConsumers], consumed_sum[kConsumers];

static void* producer(void* arg) {
  long p = (long)arg;
  for (long n = 0; n < kItems; ++n) {
    pthread_mutex_lock(&mutex);
    while (count == kCapacity) pthread_cond_wait(&not_full, &mutex);
    buffer[(head + count) % kCapacity] = p * kItems + n;
    ++count;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mutex);
    if (n % 100 == 0) usleep(100);
  }
  pthread_mutex_lock(&mutex);
  if (--producers_left == 0) pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&mutex);
  return NULL;
}

static void* consumer(void* arg) {
  long c = (long)arg;
  for (;;) {
    pthread_mutex_lock(&mutex);
    while (count == 0 && producers_left > 0) pthread_cond_wait(&not_empty, &mutex);
    if (count == 0) {
      pthread_mutex_unlock(&mutex);
      return NULL;
    }
    long item = buffer[head];
    head = (head + 1) % kCapacity;
    --count;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&mutex);
    ++consumed_count[c];
    consumed_sum[c] += item;
  }
}

int main(void) {
  pthread_cond_init(&not_empty, NULL);
  pthread_t p[kProducers], c[kConsumers];
  for (long i = 0; i < kConsumers; ++i) pthread_create(&c[i], NULL, consumer, (void*)i);
  for (long i = 0; i < kProducers; ++i) pthread_create(&p[i], NULL, producer, (void*)i);
  report_threads();
  for (int i = 0; i < kProducers; ++i) pthread_join(p[i], NULL);
  for (int i = 0; i < kConsumers; ++i) pthread_join(c[i], NULL);
  long items = 0, sum = 0;
  for (int i = 0; i < kConsumers; ++i) {
    items += consumed_count[i];
    sum += consumed_sum[i];
  }
  long n = (long)kProducers * kItems;
  printf("consumed %ld items, sum %ld (expected %ld)\n", items, sum, n * (n - 1) / 2);
  printf("buffer empty at the end: %d\n", count == 0);
  pthread_cond_destroy(&not_empty);
  return 0;
}
