/* Signals interrupt blocking calls as natively: a process-directed SIGALRM (setitimer) goes to
   the main thread, whose sleep then ends early with the time left, whether or not its handler
   has SA_RESTART; pthread_kill aims at one thread. Another thread keeps running meanwhile. */
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

#include "program_support.h"

static volatile sig_atomic_t alarms;
static volatile sig_atomic_t usr1s;

static void on_alarm(int sig) {
  (void)sig;
  ++alarms;
}

static void on_usr1(int sig, siginfo_t* info, void* context) {
  (void)context;
  if (sig == SIGUSR1 && info->si_signo == SIGUSR1) ++usr1s;
}

/* Natively a process-directed signal may go to any thread that does not block it: the other
   threads block SIGALRM, so that it is always the main thread's. */
static void block_alarm(void) {
  sigset_t alarm_only;
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm_only, NULL);
}

/* The shared ticker, with SIGALRM blocked: the alarms are for the main thread. */
static void* ticker_without_alarms(void* arg) {
  block_alarm();
  return ticker(arg);
}

static void alarm_in(long ms) {
  struct itimerval t = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &t, NULL);
}

static void install(int flags) {
  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_handler = on_alarm;
  a.sa_flags = flags;
  sigemptyset(&a.sa_mask);
  sigaction(SIGALRM, &a, NULL);
}

static sem_t gate;

static void* post_later(void* arg) {
  (void)arg;
  block_alarm();
  usleep(300 * 1000);
  sem_post(&gate);
  return NULL;
}

static volatile int sleeper_result = -2;
static volatile int sleeper_errno;
static volatile int sleeper_ready;

static void* sleeper(void* arg) {
  (void)arg;
  block_alarm();
  struct timespec req = {2, 0}, rem = {0, 0};
  sleeper_ready = 1;
  sleeper_result = nanosleep(&req, &rem);
  sleeper_errno = errno;
  return NULL;
}

int main(void) {
  pthread_t tick;
  pthread_create(&tick, NULL, ticker_without_alarms, NULL);
  report_threads();

  /* Without SA_RESTART: sleep(3) is cut short after 300 ms, with 2 whole seconds left. */
  install(0);
  alarm_in(300);
  errno = 0;
  unsigned left = sleep(3);
  printf("sleep(3) interrupted: left %u, errno %s, alarms %d\n", left, errno_name(errno), alarms);

  /* With SA_RESTART a sleep still ends early (signal(7)): nanosleep gives EINTR and what is left.
   */
  install(SA_RESTART);
  alarm_in(200);
  struct timespec req = {1, 0}, rem = {0, 0};
  errno = 0;
  int rc = nanosleep(&req, &rem);
  long rem_ms = rem.tv_sec * 1000 + rem.tv_nsec / 1000000;
  printf("nanosleep(1 s): %d, errno %s, rem within 650..850 ms: %s, alarms %d\n", rc,
         errno_name(errno), rem_ms >= 650 && rem_ms <= 850 ? "yes" : "no", alarms);

  /* usleep and clock_nanosleep (which returns the error). */
  alarm_in(100);
  errno = 0;
  rc = usleep(1000 * 1000);
  printf("usleep(1 s): %d, errno %s, alarms %d\n", rc, errno_name(errno), alarms);
  alarm_in(100);
  rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
  printf("clock_nanosleep(1 s): returns %s, alarms %d\n", errno_name(rc), alarms);

  /* sem_wait: EINTR without SA_RESTART; with it the wait goes on until a post. */
  install(0);
  sem_init(&gate, 0, 0);
  alarm_in(100);
  errno = 0;
  rc = sem_wait(&gate);
  printf("sem_wait: %d, errno %s, alarms %d\n", rc, errno_name(errno), alarms);
  install(SA_RESTART);
  pthread_t poster;
  pthread_create(&poster, NULL, post_later, NULL);
  alarm_in(100);
  errno = 0;
  rc = sem_wait(&gate);
  printf("sem_wait under SA_RESTART: %d, errno %s, alarms %d\n", rc, errno_name(errno), alarms);
  pthread_join(poster, NULL);
  sem_destroy(&gate);

  /* A signal that arrives while the main thread is not blocked interrupts nothing later. */
  install(0);
  alarm_in(50);
  struct timespec now, until;
  clock_gettime(CLOCK_MONOTONIC, &now);
  do {
    clock_gettime(CLOCK_MONOTONIC, &until);
  } while ((until.tv_sec - now.tv_sec) * 1000 + (until.tv_nsec - now.tv_nsec) / 1000000 < 150);
  errno = 0;
  rc = usleep(100 * 1000);
  printf("usleep after the alarm was handled: %d, errno %s, alarms %d\n", rc, errno_name(errno),
         alarms);

  /* pthread_kill interrupts the target thread's sleep, not the main thread's. */
  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_sigaction = on_usr1;
  a.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &a, NULL);
  pthread_t s;
  pthread_create(&s, NULL, sleeper, NULL);
  while (!sleeper_ready) usleep(1000);
  usleep(100 * 1000);
  pthread_kill(s, SIGUSR1);
  pthread_join(s, NULL);
  printf("pthread_kill: the sleeping thread's nanosleep returned %d, errno %s, usr1 handled %d\n",
         sleeper_result, errno_name(sleeper_errno), usr1s);

  /* sigaction reports what the program installed. */
  struct sigaction seen;
  sigaction(SIGUSR1, NULL, &seen);
  printf("sigaction reports the program's handler: %s, SA_SIGINFO: %s\n",
         seen.sa_sigaction == on_usr1 ? "yes" : "no", (seen.sa_flags & SA_SIGINFO) ? "yes" : "no");
  void (*old)(int) = signal(SIGALRM, SIG_IGN);
  printf("signal() returns the previous handler: %s\n", old == on_alarm ? "yes" : "no");

  stop_ticking = 1;
  pthread_join(tick, NULL);
  printf("ticker progressed meanwhile: %s\n", ticks > 50 ? "yes" : "no");
  return 0;
}
