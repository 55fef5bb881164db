/* SO_RCVTIMEO and SO_SNDTIMEO expire as they do natively: recv and accept with EAGAIN after the
   receive timeout, a send into a full socket buffer with what it could send (then EAGAIN), and a
   connect whose SYN goes unanswered with EINPROGRESS after the send timeout. Meanwhile another
   thread keeps counting: the waits do not hold up the rest of the program. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static volatile int counting = 1;

static void* counter(void* arg) {
  (void)arg;
  while (counting) {
    usleep(2 * 1000);
    ++ticks;
  }
  return NULL;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void set_timeout(int fd, int option, long ms) {
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv) != 0) perror("setsockopt");
}

// Reports how a call that is to time out after `ms` ended, and whether the counter moved.
static void report(const char* what, long r, int err, double started, long ms, long ticks_before) {
  double took = now_ms() - started;
  printf("%s: %s%s, waited at least %ld ms: %s, progressed: %s\n", what, r < 0 ? "-1 " : "",
         r < 0 ? errno_name(err) : "returned", ms, took >= ms - 1 ? "yes" : "no",
         ticks - ticks_before >= 10 ? "yes" : "no");
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, counter, NULL);
  report_threads();
  char buf[64];

  int s[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  set_timeout(s[0], SO_RCVTIMEO, 100);
  struct timeval got;
  socklen_t len = sizeof got;
  getsockopt(s[0], SOL_SOCKET, SO_RCVTIMEO, &got, &len);
  printf("SO_RCVTIMEO reads back as %ld.%06ld s\n", (long)got.tv_sec, (long)got.tv_usec);
  long before = ticks;
  double start = now_ms();
  long r = recv(s[0], buf, sizeof buf, 0);
  report("recv with SO_RCVTIMEO 100 ms", r, errno, start, 100, before);
  before = ticks;
  start = now_ms();
  r = read(s[0], buf, sizeof buf);
  report("read with it", r, errno, start, 100, before);

  // A send larger than what the buffers hold: what fits goes, then the timeout cuts it short.
  set_timeout(s[1], SO_SNDTIMEO, 100);
  size_t big = 8 << 20;
  char* data = calloc(1, big);
  before = ticks;
  start = now_ms();
  r = send(s[1], data, big, 0);
  printf("send of 8 MiB with SO_SNDTIMEO 100 ms: partial: %s\n",
         r > 0 && (size_t)r < big ? "yes" : "no");
  before = ticks;
  start = now_ms();
  r = send(s[1], data, big, 0);
  report("send into the full buffer", r, errno, start, 100, before);
  before = ticks;
  start = now_ms();
  r = write(s[1], data, 4096);
  report("write into the full buffer", r, errno, start, 100, before);
  free(data);
  close(s[0]);
  close(s[1]);

  // A listener that nobody accepts from, with a backlog of 0: the first connection fills its
  // queue, the next SYN is dropped, and that connect waits for the SYN to be answered.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, (struct sockaddr*)&addr, sizeof addr);
  listen(listener, 0);
  len = sizeof addr;
  getsockname(listener, (struct sockaddr*)&addr, &len);
  set_timeout(listener, SO_RCVTIMEO, 100);

  int first = socket(AF_INET, SOCK_STREAM, 0);
  printf("first connect: %d\n", connect(first, (struct sockaddr*)&addr, sizeof addr));
  int second = socket(AF_INET, SOCK_STREAM, 0);
  set_timeout(second, SO_SNDTIMEO, 100);
  before = ticks;
  start = now_ms();
  r = connect(second, (struct sockaddr*)&addr, sizeof addr);
  report("connect to the full listener with SO_SNDTIMEO 100 ms", r, errno, start, 100, before);
  close(second);
  int accepted = accept(listener, NULL, NULL);
  printf("accept of the first: %s\n", accepted >= 0 ? "a socket" : errno_name(errno));
  close(accepted);
  close(first);
  before = ticks;
  start = now_ms();
  r = accept(listener, NULL, NULL);
  report("accept with SO_RCVTIMEO 100 ms", r, errno, start, 100, before);
  close(listener);

  counting = 0;
  pthread_join(t, NULL);
  return 0;
}
