/* A signal handler interrupts poll, select and epoll_wait with EINTR even when installed with
   SA_RESTART (they are never restarted: signal(7)); select then leaves its sets as given and
   the time not slept in its timeout. pthread_kill interrupts the poll of the thread it aims at
   only, and a thread whose ppoll mask lets a signal in that every thread blocks takes that
   signal alone: the main thread's sleep meanwhile runs to its end. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static volatile sig_atomic_t alarms, usr1s, usr2s;
static int p[2];

struct call_result {
  volatile int in_call;
  volatile int done;
  int result;
  int error;
};

static void on_alarm(int sig) {
  (void)sig;
  ++alarms;
}
static void on_usr1(int sig) {
  (void)sig;
  ++usr1s;
}
static void on_usr2(int sig) {
  (void)sig;
  ++usr2s;
}

static void install(int sig, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(sig, &action, NULL);
}

/* Every 50 ms until stopped: a call entered late (a loaded machine) is still interrupted. */
static void alarms_every_50_ms(int on) {
  struct itimerval t = {{0, on ? 50 * 1000 : 0}, {0, on ? 50 * 1000 : 0}};
  setitimer(ITIMER_REAL, &t, NULL);
}

static void* poll_forever(void* arg) {
  struct call_result* r = arg;
  struct pollfd in = {p[0], POLLIN, 0};
  r->in_call = 1;
  errno = 0;
  r->result = poll(&in, 1, -1);
  r->error = errno;
  r->done = 1;
  return NULL;
}

static void* ppoll_letting_usr1_in(void* arg) {
  struct call_result* r = arg;
  struct pollfd in = {p[0], POLLIN, 0};
  sigset_t nothing_blocked;
  sigemptyset(&nothing_blocked);
  r->in_call = 1;
  errno = 0;
  r->result = ppoll(&in, 1, NULL, &nothing_blocked);
  r->error = errno;
  return NULL;
}

static void* kill_process_later(void* arg) {
  (void)arg;
  usleep(50 * 1000);
  kill(getpid(), SIGUSR1);
  return NULL;
}

int main(void) {
  /* SIGUSR1 is blocked in every thread (they inherit the mask); only a ppoll lets it in. */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  install(SIGALRM, on_alarm);
  install(SIGUSR1, on_usr1);
  install(SIGUSR2, on_usr2);
  if (pipe(p) != 0) return 2;
  pthread_t tick;
  pthread_create(&tick, NULL, ticker, NULL);
  report_threads();

  struct pollfd in = {p[0], POLLIN, 0};
  alarms_every_50_ms(1);
  errno = 0;
  int n = poll(&in, 1, -1);
  int error = errno;
  alarms_every_50_ms(0);
  printf("poll without a timeout, SIGALRM every 50 ms: %d, errno %s, handler ran: %s\n", n,
         errno_name(error), alarms > 0 ? "yes" : "no");

  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(p[0], &readable);
  struct timeval three_s = {3, 0};
  int alarms_before = alarms;
  alarms_every_50_ms(1);
  errno = 0;
  n = select(p[0] + 1, &readable, NULL, NULL, &three_s);
  error = errno;
  alarms_every_50_ms(0);
  printf("select for 3 s, SIGALRM every 50 ms: %d, errno %s, set kept %d, left over 2 s: %s\n", n,
         errno_name(error), FD_ISSET(p[0], &readable), three_s.tv_sec >= 2 ? "yes" : "no");
  printf("handler ran: %s\n", alarms > alarms_before ? "yes" : "no");

  int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev);
  alarms_before = alarms;
  alarms_every_50_ms(1);
  errno = 0;
  n = epoll_wait(epfd, &ev, 1, -1);
  error = errno;
  alarms_every_50_ms(0);
  printf("epoll_wait without a timeout, SIGALRM every 50 ms: %d, errno %s, handler ran: %s\n", n,
         errno_name(error), alarms > alarms_before ? "yes" : "no");

  /* pthread_kill interrupts the poll of its target (sent again until it has: the first may come
     before the poll); this thread's sleeps go on. */
  struct call_result target = {0, 0, -2, 0};
  pthread_t poller;
  pthread_create(&poller, NULL, poll_forever, &target);
  int slept = 0;
  while (!target.done) {
    if (target.in_call) pthread_kill(poller, SIGUSR2);
    struct timespec twenty_ms = {0, 20 * 1000 * 1000};
    slept |= nanosleep(&twenty_ms, NULL);
  }
  pthread_join(poller, NULL);
  printf("thread poll hit by pthread_kill: %d, errno %s, handler ran: %s; main slept: %d\n",
         target.result, errno_name(target.error), usr2s > 0 ? "yes" : "no", slept);

  /* A process-directed SIGUSR1 goes to the only thread letting it in: its ppoll. */
  struct call_result masked = {0, 0, -2, 0};
  pthread_t ppoller, killer;
  pthread_create(&ppoller, NULL, ppoll_letting_usr1_in, &masked);
  pthread_create(&killer, NULL, kill_process_later, NULL);
  struct timespec two_hundred_ms = {0, 200 * 1000 * 1000};
  slept = nanosleep(&two_hundred_ms, NULL);
  pthread_join(killer, NULL);
  pthread_join(ppoller, NULL);
  printf("thread ppoll letting SIGUSR1 in: %d, errno %s, handler ran %d time(s); main slept: %d\n",
         masked.result, errno_name(masked.error), (int)usr1s, slept);

  stop_ticking = 1;
  pthread_join(tick, NULL);
  close(epfd);
  close(p[0]);
  close(p[1]);
  return alarms >= 3 && usr1s == 1 && usr2s >= 1 ? 0 : 1;
}
