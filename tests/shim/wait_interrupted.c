/* A signal handler interrupts a wait for a child as it interrupts the system call: installed
   without SA_RESTART, waitpid and waitid fail with EINTR while the child still runs (the child is
   reaped afterwards with its status intact); installed with SA_RESTART, they resume and return
   the child. Another thread keeps running all along. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static volatile sig_atomic_t alarms;

static void on_alarm(int signal) {
  (void)signal;
  ++alarms;
}

static pid_t child_exiting_after(int ms, int code) {
  fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    usleep((useconds_t)ms * 1000);
    _exit(code);
  }
  return pid;
}

static void alarm_in_50ms(void) {
  struct itimerval in = {{0, 0}, {0, 50 * 1000}};
  setitimer(ITIMER_REAL, &in, NULL);
}

static void round_with(int flags, const char* name) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);

  pid_t child = child_exiting_after(250, 4);
  alarm_in_50ms();
  int status = 0;
  pid_t got = waitpid(child, &status, 0);
  if (got == -1) {
    printf("%s: waitpid -1 %s\n", name, errno_name(errno));
    got = waitpid(child, &status, 0);
  }
  printf("%s: waitpid gave the child: %s, exit code %d\n", name, got == child ? "yes" : "no",
         WEXITSTATUS(status));

  child = child_exiting_after(250, 6);
  alarm_in_50ms();
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_ALL, 0, &info, WEXITED) == -1) {
    printf("%s: waitid -1 %s\n", name, errno_name(errno));
    waitid(P_ALL, 0, &info, WEXITED);
  }
  printf("%s: waitid gave the child: %s, exit code %d\n", name, info.si_pid == child ? "yes" : "no",
         info.si_status);
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, ticker, NULL);
  report_threads();
  round_with(0, "without SA_RESTART");
  round_with(SA_RESTART, "with SA_RESTART");
  printf("handler runs: %d\n", (int)alarms);
  stop_ticking = 1;
  pthread_join(t, NULL);
  return 0;
}
