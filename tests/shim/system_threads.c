/* system() while other threads run: the exit status of `exit 3`, the shell's output between the
   program's own flushed lines, 127 for a command the shell cannot find, system(NULL) nonzero;
   two threads in system() at once each get their own status, SIGINT is ignored while any of them
   waits and the program's handler is back afterwards, with SIGCHLD unblocked again. A ticker
   thread keeps going while the shell sleeps. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static volatile int in_system;

static void on_sigint(int signal) { (void)signal; }

static void print_status(const char* what, int status) {
  if (status == -1) {
    printf("%s: -1\n", what);
  } else if (WIFEXITED(status)) {
    printf("%s: exited with %d\n", what, WEXITSTATUS(status));
  } else {
    printf("%s: status %#x\n", what, (unsigned)status);
  }
}

struct job {
  const char* command;
  int status;
};

static void* run_system(void* arg) {
  struct job* j = arg;
  in_system = 1;
  j->status = system(j->command);
  return NULL;
}

static const char* sigint_disposition(void) {
  struct sigaction sa;
  sigaction(SIGINT, NULL, &sa);
  if (sa.sa_handler == SIG_IGN) return "ignored";
  if (sa.sa_handler == on_sigint) return "the program's handler";
  return "something else";
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);

  pthread_t tick_thread;
  pthread_create(&tick_thread, NULL, ticker, NULL);
  report_threads();

  print_status("system(\"exit 3\")", system("exit 3"));

  printf("before the shell\n");
  fflush(stdout);
  const int ticks_before = ticks;
  const int hi = system("sleep 0.1; echo hi");
  printf("after the shell\n");
  print_status("system(\"sleep 0.1; echo hi\")", hi);
  printf("progressed while the shell slept: %s\n", ticks > ticks_before + 3 ? "yes" : "no");

  print_status("a command the shell cannot find",
               system("cogent-test-no-such-command 2>/dev/null"));
  printf("system(NULL): %s\n", system(NULL) != 0 ? "nonzero" : "zero");

  struct job slow = {"sleep 0.15; exit 4", -2};
  struct job quick = {"sleep 0.05; exit 5", -2};
  pthread_t a, b;
  pthread_create(&a, NULL, run_system, &slow);
  pthread_create(&b, NULL, run_system, &quick);
  while (!in_system) usleep(1000);
  usleep(30 * 1000);
  printf("SIGINT while a thread is in system(): %s\n", sigint_disposition());
  pthread_join(b, NULL);
  printf("SIGINT while one thread is still in system(): %s\n", sigint_disposition());
  pthread_join(a, NULL);
  print_status("first concurrent system()", slow.status);
  print_status("second concurrent system()", quick.status);
  printf("SIGINT once no thread is in system(): %s\n", sigint_disposition());
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  printf("SIGCHLD blocked afterwards: %s\n", sigismember(&mask, SIGCHLD) ? "yes" : "no");

  stop_ticking = 1;
  pthread_join(tick_thread, NULL);
  return 0;
}
