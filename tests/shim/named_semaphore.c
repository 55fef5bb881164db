/* A named semaphore between two threads, and between two processes. sem_open creates it (EEXIST
   for a second O_EXCL create), a thread blocked in sem_wait on it is woken by the main thread's
   sem_post, the two ping-pong through a pair of named semaphores, a second sem_open of the same
   name gives the same semaphore, a child process (this program again, run with posix_spawn)
   posts one of them while the main thread waits for it, and after sem_unlink the name is gone
   (ENOENT) while the open semaphore still works. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

extern char** environ;

enum { kRounds = 5 };

static char ping_name[64], pong_name[64];
static sem_t *ping, *pong;
static int replies;

static void* ponger(void* arg) {
  (void)arg;
  for (int i = 0; i < kRounds; ++i) {
    if (sem_wait(ping) != 0) return NULL;
    ++replies;
    sem_post(pong);
  }
  return NULL;
}

/* The child process: opens the semaphore by name, posts it once, and exits. */
static int child_post(const char* sem_name) {
  sem_t* s = sem_open(sem_name, 0);
  if (s == SEM_FAILED) return 2;
  usleep(50 * 1000);
  const int rc = sem_post(s);
  sem_close(s);
  return rc == 0 ? 0 : 3;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "post") == 0) return child_post(argv[2]);

  snprintf(ping_name, sizeof ping_name, "/cogent-shim-ping-%ld", (long)getpid());
  snprintf(pong_name, sizeof pong_name, "/cogent-shim-pong-%ld", (long)getpid());
  ping = sem_open(ping_name, O_CREAT | O_EXCL, 0600, 0);
  pong = sem_open(pong_name, O_CREAT | O_EXCL, 0600, 0);
  if (ping == SEM_FAILED || pong == SEM_FAILED) {
    printf("sem_open: %s\n", errno_name(errno));
    return 1;
  }
  errno = 0;
  sem_t* again = sem_open(ping_name, O_CREAT | O_EXCL, 0600, 0);
  printf("second exclusive create: %s\n", again == SEM_FAILED ? errno_name(errno) : "created");

  pthread_t t;
  pthread_create(&t, NULL, ponger, NULL);
  report_threads();
  usleep(20 * 1000);
  printf("replies before the first ping: %d\n", replies);
  int pongs = 0;
  for (int i = 0; i < kRounds; ++i) {
    sem_post(ping);
    if (sem_wait(pong) == 0) ++pongs;
  }
  pthread_join(t, NULL);
  printf("rounds: %d, replies: %d\n", pongs, replies);

  sem_t* same = sem_open(ping_name, 0);
  printf("opened again: %s\n", same == SEM_FAILED ? errno_name(errno) : "yes");
  sem_post(same);
  int value = -1;
  sem_getvalue(ping, &value);
  printf("a post through the second handle shows through the first: %d\n", value);
  errno = 0;
  printf("sem_trywait through the first: %d\n", sem_trywait(ping));
  sem_close(same);

  char* child_argv[] = {argv[0], "post", pong_name, NULL};
  pid_t child;
  const int spawned = posix_spawn(&child, "/proc/self/exe", NULL, NULL, child_argv, environ);
  if (spawned != 0) {
    printf("posix_spawn: %s\n", strerror(spawned));
    return 1;
  }
  const int waited = sem_wait(pong);
  printf("posted by another process: %s\n", waited == 0 ? "yes" : errno_name(errno));
  int status = -1;
  waitpid(child, &status, 0);
  printf("child exit status: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  printf("unlink: %d\n", sem_unlink(ping_name));
  errno = 0;
  sem_t* gone = sem_open(ping_name, 0);
  printf("open after unlink: %s\n", gone == SEM_FAILED ? errno_name(errno) : "opened");
  sem_post(ping);
  sem_getvalue(ping, &value);
  printf("the open semaphore still works: %d\n", value);
  errno = 0;
  const int tried = sem_trywait(ping);
  printf("sem_trywait: %d, then: ", tried);
  const int empty = sem_trywait(ping);
  printf("%d %s\n", empty, empty != 0 ? errno_name(errno) : "");
  sem_close(ping);
  sem_close(pong);
  sem_unlink(pong_name);
  return 0;
}
