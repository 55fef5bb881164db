/* select and pselect: of two pipes the one another thread writes into after 100 ms is reported
   (the other cleared from the set), the timeout is left holding the time not slept (none after
   timing out), a zero timeout answers at once, pselect keeps its timespec, a hang-up select does
   not report (a write set holding a pipe's read end) does not end the wait, a closed descriptor
   in a set is EBADF with the sets untouched, and bad arguments are EINVAL. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

struct delayed_write {
  int fd;
  long delay_ms;
};

static void* delayed_writer(void* arg) {
  const struct delayed_write* w = arg;
  usleep(w->delay_ms * 1000);
  if (write(w->fd, "x", 1) != 1) perror("write");
  return NULL;
}

static int max_of(int x, int y) { return x > y ? x : y; }

int main(void) {
  pthread_t tick, writer;
  pthread_create(&tick, NULL, ticker, NULL);
  report_threads();

  int a[2], b[2];
  if (pipe(a) != 0 || pipe(b) != 0) return 2;
  char byte;
  fd_set readable;
  struct timespec start;

  /* A thread writes into b after 100 ms. */
  struct delayed_write into_b = {b[1], 100};
  pthread_create(&writer, NULL, delayed_writer, &into_b);
  FD_ZERO(&readable);
  FD_SET(a[0], &readable);
  FD_SET(b[0], &readable);
  struct timeval two_s = {2, 0};
  int ticks_before = ticks;
  int n = select(max_of(a[0], b[0]) + 1, &readable, NULL, NULL, &two_s);
  printf("select on two pipes, one written after 100 ms: %d, a %d, b %d\n", n,
         FD_ISSET(a[0], &readable), FD_ISSET(b[0], &readable));
  int less = two_s.tv_sec < 2;
  printf("timeout left less than given: %s, more than 1 s: %s\n", less ? "yes" : "no",
         two_s.tv_sec >= 1 ? "yes" : "no");
  printf("other thread progressed: %s\n", ticks - ticks_before >= 5 ? "yes" : "no");
  pthread_join(writer, NULL);
  if (read(b[0], &byte, 1) != 1) return 2;
  expect(n == 1 && less, "select wakes for b");

  /* A zero timeout answers at once; 100 ms on nothing leaves no time. */
  FD_ZERO(&readable);
  FD_SET(a[0], &readable);
  struct timeval zero = {0, 0};
  n = select(a[0] + 1, &readable, NULL, NULL, &zero);
  printf("select with a zero timeout: %d, a %d\n", n, FD_ISSET(a[0], &readable));
  FD_SET(a[0], &readable);
  struct timeval hundred_ms = {0, 100 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  n = select(a[0] + 1, &readable, NULL, NULL, &hundred_ms);
  long waited = ms_since(&start);
  printf("select for 100 ms on an empty pipe: %d, a %d, waited at least 100 ms: %s\n", n,
         FD_ISSET(a[0], &readable), waited >= 100 ? "yes" : "no");
  printf("timeout left after timing out: %ld s %ld us\n", (long)hundred_ms.tv_sec,
         (long)hundred_ms.tv_usec);

  /* tv_usec over a second carries into the seconds, as in glibc. */
  struct timeval carried = {0, 1100 * 1000};
  fd_set writable;
  FD_ZERO(&writable);
  FD_SET(a[1], &writable);
  n = select(a[1] + 1, NULL, &writable, NULL, &carried);
  printf("select for writing (tv_usec 1100000): %d, writable %d, left more than 1 s: %s\n", n,
         FD_ISSET(a[1], &writable), carried.tv_sec >= 1 ? "yes" : "no");

  /* pselect: a timespec that stays as it was; then no timeout while a thread writes. */
  struct timespec fifty_ms = {0, 50 * 1000 * 1000};
  FD_ZERO(&readable);
  FD_SET(a[0], &readable);
  clock_gettime(CLOCK_MONOTONIC, &start);
  n = pselect(a[0] + 1, &readable, NULL, NULL, &fifty_ms, NULL);
  waited = ms_since(&start);
  printf("pselect for 50 ms: %d, waited at least 50 ms: %s, timespec kept: %ld.%09ld\n", n,
         waited >= 50 ? "yes" : "no", (long)fifty_ms.tv_sec, fifty_ms.tv_nsec);
  struct delayed_write into_a = {a[1], 30};
  pthread_create(&writer, NULL, delayed_writer, &into_a);
  FD_ZERO(&readable);
  FD_SET(a[0], &readable);
  FD_SET(b[0], &readable);
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  n = pselect(max_of(a[0], b[0]) + 1, &readable, NULL, NULL, NULL, &mask);
  printf("pselect without a timeout while a thread writes: %d, a %d, b %d\n", n,
         FD_ISSET(a[0], &readable), FD_ISSET(b[0], &readable));
  pthread_join(writer, NULL);
  if (read(a[0], &byte, 1) != 1) return 2;

  /* A pipe whose writer is gone hangs up: readable (EOF) in the read set, never writable nor
     exceptional, so the wait for those lasts its whole timeout. */
  close(b[1]);
  FD_ZERO(&writable);
  FD_SET(b[0], &writable);
  fd_set exceptional;
  FD_ZERO(&exceptional);
  FD_SET(b[0], &exceptional);
  struct timeval sixty_ms = {0, 60 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  n = select(b[0] + 1, NULL, &writable, &exceptional, &sixty_ms);
  waited = ms_since(&start);
  printf("select for writing on a hung-up read end: %d, waited at least 60 ms: %s\n", n,
         waited >= 60 ? "yes" : "no");
  FD_ZERO(&readable);
  FD_SET(b[0], &readable);
  struct timeval one_s = {1, 0};
  n = select(b[0] + 1, &readable, NULL, NULL, &one_s);
  printf("select for reading on it: %d, readable %d\n", n, FD_ISSET(b[0], &readable));

  /* A closed descriptor in a set: EBADF at once, the set as given. */
  int closed = b[0];
  close(b[0]);
  FD_ZERO(&readable);
  FD_SET(a[0], &readable);
  FD_SET(closed, &readable);
  one_s.tv_sec = 1;
  one_s.tv_usec = 0;
  clock_gettime(CLOCK_MONOTONIC, &start);
  errno = 0;
  n = select(max_of(a[0], closed) + 1, &readable, NULL, NULL, &one_s);
  int saved = errno;
  waited = ms_since(&start);
  printf("select with a closed fd: %d, errno %s, at once: %s, set kept: %d %d\n", n,
         errno_name(saved), waited < 500 ? "yes" : "no", FD_ISSET(a[0], &readable),
         FD_ISSET(closed, &readable));

  /* EINVAL: a negative nfds, a negative tv_usec, a tv_nsec of a second. */
  one_s.tv_sec = 1;
  errno = 0;
  n = select(-1, NULL, NULL, NULL, &one_s);
  printf("select with nfds -1: %d, errno %s\n", n, errno_name(errno));
  struct timeval negative = {1, -1};
  errno = 0;
  n = select(0, NULL, NULL, NULL, &negative);
  printf("select with tv_usec -1: %d, errno %s\n", n, errno_name(errno));
  struct timespec bad = {0, 1000 * 1000 * 1000};
  errno = 0;
  n = pselect(0, NULL, NULL, NULL, &bad, NULL);
  printf("pselect with tv_nsec 1e9: %d, errno %s\n", n, errno_name(errno));

  stop_ticking = 1;
  pthread_join(tick, NULL);
  close(a[0]);
  close(a[1]);
  return failures == 0 ? 0 : 1;
}
