/* main returns while a thread is still asleep: the process ends at once (exit status from main)
   and the sleeping thread never prints. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "report_threads.h"

static void* sleeper(void* arg) {
  (void)arg;
  sleep(10);
  printf("the sleeping thread woke up\n");
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, sleeper, NULL);
  usleep(20 * 1000);
  report_threads();
  printf("main returns 3\n");
  return 3;
}
