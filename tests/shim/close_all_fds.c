/* A daemon-style program closes every descriptor it does not know, after its threads are
   running: a loop of close() up to the limit, then closefrom(). Its threads must keep working
   (sleeping, talking over a new pipe, a child through fork and exec). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_threads.h"

static int channel[2];
static volatile int slept;

static void* sleeper(void* arg) {
  (void)arg;
  usleep(150 * 1000);
  slept = 1;
  return NULL;
}

static void* writer(void* arg) {
  (void)arg;
  usleep(50 * 1000);
  const char msg[] = "still talking";
  if (write(channel[1], msg, sizeof msg) != (ssize_t)sizeof msg) return (void*)1;
  return NULL;
}

int main(void) {
  int before[2];
  if (pipe(before) != 0) return 2;
  pthread_t s;
  pthread_create(&s, NULL, sleeper, NULL);
  usleep(10 * 1000);
  report_threads();

  for (int fd = 3; fd < 1024; ++fd) close(fd);
  printf("the program's own pipe is closed: %s\n",
         fcntl(before[0], F_GETFD) == -1 && errno == EBADF ? "yes" : "no");
  closefrom(3);

  if (pipe(channel) != 0) return 3;
  pthread_t w;
  pthread_create(&w, NULL, writer, NULL);
  char got[32] = {0};
  ssize_t n = read(channel[0], got, sizeof got);
  printf("a new pipe between threads: %zd bytes, \"%s\"\n", n, got);
  pthread_join(w, NULL);
  pthread_join(s, NULL);
  printf("the sleeping thread woke: %s\n", slept ? "yes" : "no");

  pid_t child = fork();
  if (child == 0) {
    closefrom(3);
    execl("/bin/sh", "sh", "-c", "exit 7", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("a child that closed everything and ran sh: exit %d\n",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
