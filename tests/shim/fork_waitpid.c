/* One thread forks children and waits for them while another thread keeps ticking: waitpid
   gives each child's exit code, WNOHANG answers 0 while a child runs, wait() takes any child, a
   child killed by SIGTERM is reported as such, and ECHILD comes once none is left. Children
   prove the process they live in works and holds only the forking thread: one creates a thread,
   which sleeps, and joins it, sees none of the parent's other threads run, and finds a mutex
   another thread was waiting for free once it unlocks it; one is left by its forking thread,
   which returns, so that it ends (status 0) when the detached thread it started ends. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static int failures;

static void check(int ok, const char* what) {
  if (!ok) {
    printf("FAILED: %s\n", what);
    ++failures;
  }
}

static void print_status(const char* who, int status) {
  if (WIFEXITED(status)) {
    printf("%s: exited with %d\n", who, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    printf("%s: killed by %s\n", who, WTERMSIG(status) == SIGTERM ? "SIGTERM" : "another signal");
  } else {
    printf("%s: status %#x\n", who, (unsigned)status);
  }
}

static void report_no_child(const char* what, pid_t got) {
  const int error = errno;
  printf("%s: %d %s\n", what, (int)got, error == ECHILD ? "ECHILD" : strerror(error));
}

static pid_t fork_flushed(void) {
  fflush(stdout);  // or the child's exit() writes the parent's pending output again
  return fork();
}

static void* child_helper(void* arg) {
  usleep(20 * 1000);
  *(int*)arg = 42;
  return NULL;
}

static void* lock_waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&held);
  pthread_mutex_unlock(&held);
  return NULL;
}

static void* child_late_printer(void* arg) {
  (void)arg;
  usleep(30 * 1000);
  printf("returning child: its detached thread ran to the end\n");
  return NULL;
}

static void* forker(void* arg) {
  (void)arg;
  /* Not before main has counted the threads: a child must not inherit its half-written report. */
  pthread_mutex_lock(&gate_mutex);
  while (!gate_open) pthread_cond_wait(&gate_cond, &gate_mutex);
  pthread_mutex_unlock(&gate_mutex);
  pid_t kids[3];
  for (int i = 0; i < 3; ++i) {
    kids[i] = fork_flushed();
    if (kids[i] == 0) {
      usleep((useconds_t)(50 + 50 * i) * 1000);
      exit(10 + i);
    }
    check(kids[i] > 0, "fork");
  }
  int status = -1;
  printf("WNOHANG before the first child exits: %d\n", (int)waitpid(kids[0], &status, WNOHANG));

  const int ticks_before = ticks;
  for (int i = 0; i < 3; ++i) {
    const pid_t got = waitpid(kids[i], &status, 0);
    check(got == kids[i], "waitpid returns the child's pid");
    char who[32];
    snprintf(who, sizeof who, "child %d", i);
    print_status(who, status);
  }
  printf("progressed while waiting: %s\n", ticks > ticks_before + 3 ? "yes" : "no");

  /* A child that makes a thread of its own and joins it. The parent's other threads do not run
     in it (the ticker stands still), and a mutex this thread held at the fork, which another
     thread was waiting for, is simply free once unlocked there. */
  pthread_mutex_lock(&held);
  pthread_t waiter;
  pthread_create(&waiter, NULL, lock_waiter, NULL);
  usleep(10 * 1000);  // the waiter is blocked on the mutex by now
  const pid_t threaded = fork_flushed();
  if (threaded == 0) {
    const int ticks_in_child = ticks;
    int value = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, child_helper, &value) != 0) _exit(101);
    if (pthread_join(t, NULL) != 0) _exit(102);
    usleep(30 * 1000);
    if (ticks != ticks_in_child) exit(97);
    pthread_mutex_unlock(&held);
    if (pthread_mutex_trylock(&held) != 0) exit(98);
    exit(value);
  }
  pthread_mutex_unlock(&held);
  pthread_join(waiter, NULL);
  status = -1;
  const pid_t any = wait(&status);
  check(any == threaded, "wait() returns the only child");
  print_status("threaded child, through wait()", status);

  /* A child killed while it sleeps. */
  const pid_t sleeper = fork_flushed();
  if (sleeper == 0) {
    sleep(10);
    _exit(103);
  }
  usleep(20 * 1000);
  kill(sleeper, SIGTERM);
  check(waitpid(sleeper, &status, 0) == sleeper, "waitpid on the killed child");
  print_status("sleeping child", status);

  report_no_child("waitpid(-1) with no child left", waitpid(-1, &status, 0));
  report_no_child("wait() with no child left", wait(NULL));
  report_no_child("waitpid(1) of a process that is not a child", waitpid(1, &status, 0));
  return NULL;
}

/* Forks, then returns in the child without exiting: the child's last thread is the detached
   one, and the child ends with status 0 when it does. */
static void* returning_forker(void* arg) {
  pid_t* child = arg;
  *child = fork_flushed();
  if (*child == 0) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, child_late_printer, NULL) != 0) _exit(104);
    pthread_attr_destroy(&attr);
  }
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  pthread_t tick_thread, fork_thread;
  pthread_create(&tick_thread, NULL, ticker, NULL);
  pthread_create(&fork_thread, NULL, forker, NULL);
  report_threads();
  pthread_mutex_lock(&gate_mutex);
  gate_open = 1;
  pthread_cond_signal(&gate_cond);
  pthread_mutex_unlock(&gate_mutex);
  pthread_join(fork_thread, NULL);

  pid_t child = -1;
  pthread_t t;
  pthread_create(&t, NULL, returning_forker, &child);
  pthread_join(t, NULL);
  int status = -1;
  check(waitpid(child, &status, 0) == child, "waitpid on the returning child");
  print_status("returning child", status);

  stop_ticking = 1;
  pthread_join(tick_thread, NULL);
  printf("%s\n", failures == 0 ? "all checks passed" : "some checks failed");
  return failures == 0 ? 0 : 1;
}
