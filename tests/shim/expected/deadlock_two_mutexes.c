/* Two threads take two mutexes in opposite orders and deadlock. Natively the program hangs
   forever; under the shim nothing can ever run again, so it prints the wait graph with the lock
   cycle on stderr and exits with status 1. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;

static void* forwards(void* arg) {
  (void)arg;
  pthread_mutex_lock(&first);
  usleep(50 * 1000);
  pthread_mutex_lock(&second);
  puts("forwards got both");
  return NULL;
}

static void* backwards(void* arg) {
  (void)arg;
  pthread_mutex_lock(&second);
  usleep(50 * 1000);
  pthread_mutex_lock(&first);
  puts("backwards got both");
  return NULL;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, forwards, NULL);
  pthread_create(&b, NULL, backwards, NULL);
  puts("both started");
  fflush(stdout);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  puts("not reached");
  return 0;
}
