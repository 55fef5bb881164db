/* Signal masks are per thread: the usual "block in main, sigwait in a signal thread" pattern,
   and a worker that blocks SIGALRM for itself without keeping it from the main thread, whose
   sleep the alarm interrupts. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "report_threads.h"

static sem_t received;
static int usr1_count;
static int term_seen;
static volatile int worker_blocks_alarm = -1;
static volatile int worker_done;

static void* signal_thread(void* arg) {
  sigset_t* waited = arg;
  for (;;) {
    int sig = 0;
    int rc = sigwait(waited, &sig);
    if (rc != 0) {
      printf("sigwait failed: %s\n", strerror(rc));
      return NULL;
    }
    if (sig == SIGTERM) {
      term_seen = 1;
      sem_post(&received);
      return NULL;
    }
    if (sig == SIGUSR1) ++usr1_count;
    sem_post(&received);
  }
}

static void* worker(void* arg) {
  (void)arg;
  sigset_t alarm_only, now;
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm_only, NULL);
  pthread_sigmask(SIG_BLOCK, NULL, &now);
  worker_blocks_alarm = sigismember(&now, SIGALRM);
  while (!worker_done) usleep(5 * 1000);
  return NULL;
}

static void on_alarm(int sig) { (void)sig; }

int main(void) {
  sem_init(&received, 0, 0);
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGUSR1);
  sigaddset(&waited, SIGTERM);
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &waited, NULL); /* inherited by the threads made next */
  pthread_sigmask(SIG_BLOCK, &usr2, NULL);

  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_handler = on_alarm;
  sigaction(SIGALRM, &a, NULL);

  pthread_t s, w;
  pthread_create(&s, NULL, signal_thread, &waited);
  pthread_create(&w, NULL, worker, NULL);
  while (worker_blocks_alarm < 0) usleep(1000);
  report_threads();

  sigset_t mine;
  pthread_sigmask(SIG_BLOCK, NULL, &mine);
  printf("worker blocks SIGALRM: %s; main blocks SIGALRM: %s, SIGUSR1: %s\n",
         worker_blocks_alarm ? "yes" : "no", sigismember(&mine, SIGALRM) ? "yes" : "no",
         sigismember(&mine, SIGUSR1) ? "yes" : "no");

  /* The alarm goes to the main thread, which does not block it, and cuts its sleep short. */
  struct itimerval t = {{0, 0}, {0, 100 * 1000}};
  setitimer(ITIMER_REAL, &t, NULL);
  errno = 0;
  unsigned left = sleep(2);
  printf("main's sleep(2) interrupted by the alarm: left %u, errno %s\n", left,
         errno == EINTR ? "EINTR" : "not EINTR");

  for (int i = 0; i < 3; ++i) {
    kill(getpid(), SIGUSR1);
    sem_wait(&received);
  }
  printf("signal thread took %d SIGUSR1 with sigwait\n", usr1_count);

  siginfo_t info;
  struct timespec short_wait = {0, 50 * 1000 * 1000};
  errno = 0;
  int rc = sigtimedwait(&usr2, &info, &short_wait);
  printf("sigtimedwait with nothing pending: %d, errno %s\n", rc,
         errno == EAGAIN ? "EAGAIN" : "other");
  kill(getpid(), SIGUSR2);
  rc = sigtimedwait(&usr2, &info, &short_wait);
  printf("sigtimedwait with SIGUSR2 pending: %s, si_signo %s\n",
         rc == SIGUSR2 ? "SIGUSR2" : "other", info.si_signo == SIGUSR2 ? "SIGUSR2" : "other");

  kill(getpid(), SIGTERM);
  sem_wait(&received);
  pthread_join(s, NULL);
  worker_done = 1;
  pthread_join(w, NULL);
  printf("SIGTERM taken by sigwait: %s\n", term_seen ? "yes" : "no");
  return 0;
}
