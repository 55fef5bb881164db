/* poll and ppoll: a poll on an empty pipe times out while another thread keeps running, a zero
   timeout answers at once, poll(NULL, 0, ms) sleeps, revents are exact (POLLOUT, POLLIN, then
   POLLHUP once the writer closed its end, POLLNVAL for a closed descriptor, nothing for fd -1),
   several descriptors wait at once, and ppoll takes a timespec and a signal mask that lets a
   blocked signal in (EINTR). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static volatile sig_atomic_t usr1s;

/* Writes `text` into `fd` after `delay_ms`, then closes it after `close_ms` more if >= 0. */
struct delayed_write {
  int fd;
  long delay_ms;
  const char* text;
  long close_ms;
};

static void* delayed_writer(void* arg) {
  const struct delayed_write* w = arg;
  usleep(w->delay_ms * 1000);
  if (write(w->fd, w->text, strlen(w->text)) < 0) perror("write");
  if (w->close_ms >= 0) {
    usleep(w->close_ms * 1000);
    close(w->fd);
  }
  return NULL;
}

static void* delayed_kill(void* arg) {
  (void)arg;
  usleep(50 * 1000);
  kill(getpid(), SIGUSR1);
  return NULL;
}

static void on_usr1(int sig) {
  (void)sig;
  ++usr1s;
}

static const char* events_name(short revents) {
  static char text[128];
  text[0] = '\0';
  if (revents == 0) return "0";
  if (revents & POLLIN) strcat(text, "|POLLIN");
  if (revents & POLLPRI) strcat(text, "|POLLPRI");
  if (revents & POLLOUT) strcat(text, "|POLLOUT");
  if (revents & POLLERR) strcat(text, "|POLLERR");
  if (revents & POLLHUP) strcat(text, "|POLLHUP");
  if (revents & POLLNVAL) strcat(text, "|POLLNVAL");
  return text + 1;
}

int main(void) {
  /* Blocked in every thread (they inherit it), let in by ppoll's mask below only. */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_usr1;
  sigemptyset(&action.sa_mask);
  sigaction(SIGUSR1, &action, NULL);

  pthread_t tick;
  pthread_create(&tick, NULL, ticker, NULL);
  report_threads();

  int p[2];
  if (pipe(p) != 0) return 2;
  struct timespec start;
  char buf[16];

  /* Nothing written: 0 after 100 ms, the ticker running meanwhile. */
  struct pollfd in = {p[0], POLLIN, 0};
  int ticks_before = ticks;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int n = poll(&in, 1, 100);
  long waited = ms_since(&start);
  printf("poll on an empty pipe for 100 ms: %d, revents %s\n", n, events_name(in.revents));
  printf("waited at least 100 ms: %s\n", waited >= 100 ? "yes" : "no");
  printf("other thread progressed: %s\n", ticks - ticks_before >= 5 ? "yes" : "no");
  expect(n == 0 && waited >= 100, "poll timeout");

  n = poll(&in, 1, 0);
  printf("poll with a zero timeout: %d, revents %s\n", n, events_name(in.revents));

  clock_gettime(CLOCK_MONOTONIC, &start);
  n = poll(NULL, 0, 50);
  waited = ms_since(&start);
  printf("poll(NULL, 0, 50): %d, slept at least 50 ms: %s\n", n, waited >= 50 ? "yes" : "no");
  expect(n == 0 && waited >= 50, "poll as a sleep");

  struct pollfd out = {p[1], POLLOUT, 0};
  n = poll(&out, 1, 1000);
  printf("poll for POLLOUT on the write end: %d, revents %s\n", n, events_name(out.revents));

  /* A thread writes after 30 ms, then closes its end 30 ms later. */
  struct delayed_write hello = {p[1], 30, "hello", 30};
  pthread_t writer;
  pthread_create(&writer, NULL, delayed_writer, &hello);
  n = poll(&in, 1, 2000);
  printf("poll while a thread writes: %d, revents %s\n", n, events_name(in.revents));
  ssize_t got = read(p[0], buf, sizeof buf);
  printf("read after it: %.*s\n", (int)(got > 0 ? got : 0), buf);
  n = poll(&in, 1, 2000);
  printf("poll while the writer closes its end: %d, revents %s\n", n, events_name(in.revents));
  pthread_join(writer, NULL);
  expect(n == 1 && in.revents == POLLHUP, "POLLHUP");

  /* fd -1 is ignored; a closed descriptor is POLLNVAL, reported at once. */
  close(p[0]);
  struct pollfd two[2] = {{-1, POLLIN, 0}, {p[0], POLLIN, 0}};
  clock_gettime(CLOCK_MONOTONIC, &start);
  n = poll(two, 2, 1000);
  waited = ms_since(&start);
  printf("poll on fd -1 and a closed fd: %d, revents %s and %s, at once: %s\n", n,
         events_name(two[0].revents), events_name(two[1].revents), waited < 500 ? "yes" : "no");

  /* Several descriptors, one of them twice: a thread writes into the second pipe. */
  int a[2], b[2];
  if (pipe(a) != 0 || pipe(b) != 0) return 2;
  struct pollfd three[3] = {{a[0], POLLIN, 0}, {b[0], POLLIN, 0}, {b[0], POLLIN | POLLPRI, 0}};
  struct delayed_write x = {b[1], 30, "x", -1};
  pthread_create(&writer, NULL, delayed_writer, &x);
  n = poll(three, 3, 2000);
  printf("poll on three entries: %d, revents %s, %s, %s\n", n, events_name(three[0].revents),
         events_name(three[1].revents), events_name(three[2].revents));
  pthread_join(writer, NULL);
  got = read(b[0], buf, sizeof buf);

  /* ppoll: a timespec, then no timeout while a thread writes. */
  struct timespec fifty_ms = {0, 50 * 1000 * 1000};
  struct pollfd ain = {a[0], POLLIN, 0};
  clock_gettime(CLOCK_MONOTONIC, &start);
  n = ppoll(&ain, 1, &fifty_ms, NULL);
  waited = ms_since(&start);
  printf("ppoll for 50 ms: %d, waited at least 50 ms: %s, timespec kept: %ld.%09ld\n", n,
         waited >= 50 ? "yes" : "no", (long)fifty_ms.tv_sec, fifty_ms.tv_nsec);
  struct delayed_write y = {a[1], 30, "y", -1};
  pthread_create(&writer, NULL, delayed_writer, &y);
  n = ppoll(&ain, 1, NULL, NULL);
  printf("ppoll without a timeout while a thread writes: %d, revents %s\n", n,
         events_name(ain.revents));
  pthread_join(writer, NULL);
  got = read(a[0], buf, sizeof buf);

  struct timespec bad = {0, 1000 * 1000 * 1000};
  errno = 0;
  n = ppoll(&ain, 1, &bad, NULL);
  printf("ppoll with tv_nsec = 1e9: %d, errno %s\n", n, errno_name(errno));

  /* The mask lets SIGUSR1 in: a kill from another thread ends ppoll with EINTR. */
  sigset_t nothing_blocked;
  sigemptyset(&nothing_blocked);
  pthread_t killer;
  pthread_create(&killer, NULL, delayed_kill, NULL);
  errno = 0;
  n = ppoll(&ain, 1, NULL, &nothing_blocked);
  int saved = errno;
  printf("ppoll letting SIGUSR1 in: %d, errno %s, handler ran %d time(s)\n", n, errno_name(saved),
         (int)usr1s);
  pthread_join(killer, NULL);
  expect(n == -1 && saved == EINTR && usr1s == 1, "ppoll EINTR");

  stop_ticking = 1;
  pthread_join(tick, NULL);
  close(a[0]);
  close(a[1]);
  close(b[0]);
  close(b[1]);
  return failures == 0 ? 0 : 1;
}
