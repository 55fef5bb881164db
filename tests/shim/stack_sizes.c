/* Threads get the stack size they ask for: one thread recurses through about 600 KiB of stack
   with pthread_attr_setstacksize(1 MiB), more than the shim's default greenlet stack, while
   threads with default attributes run alongside. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report_threads.h"

/* Each level keeps 4 KiB live on the stack; the sum depends on every level. */
static unsigned long deep(int level) {
  volatile unsigned char frame[4096];
  memset((void*)frame, level & 0xff, sizeof frame);
  if (level == 0) return frame[17];
  return deep(level - 1) + frame[level % sizeof frame];
}

static void* recurse(void* arg) {
  int levels = (int)(long)arg;
  return (void*)deep(levels);
}

static void* small(void* arg) {
  usleep(50 * 1000);
  return arg;
}

int main(void) {
  pthread_attr_t big;
  pthread_attr_init(&big);
  pthread_attr_setstacksize(&big, 1 << 20);
  size_t asked = 0;
  pthread_attr_getstacksize(&big, &asked);
  printf("asked for %zu KiB\n", asked / 1024);

  pthread_t deep_thread, others[2];
  pthread_create(&deep_thread, &big, recurse, (void*)150L);
  for (long i = 0; i < 2; ++i) pthread_create(&others[i], NULL, small, (void*)i);
  report_threads();

  void* sum;
  pthread_join(deep_thread, &sum);
  printf("150 levels of 4 KiB frames: sum %lu\n", (unsigned long)sum);
  for (int i = 0; i < 2; ++i) {
    void* r;
    pthread_join(others[i], &r);
    printf("default-stack thread %d returned %ld\n", i, (long)r);
  }
  pthread_attr_destroy(&big);
  return 0;
}
