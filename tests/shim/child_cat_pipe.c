/* A pipe that threads of this process have waited on is then handed to a child `cat` (started
   with posix_spawn) as its stdin, while a thread keeps writing into it slowly: the child must
   find the pipe blocking as it was made (no O_NONBLOCK left behind: cat would fail with EAGAIN)
   and copy everything to its stdout, another pipe this process reads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_threads.h"

extern char** environ;

enum { kLines = 20 };

static int to_cat[2], from_cat[2];
static char received[4096];
static size_t received_len;

static void* early_writer(void* arg) {
  (void)arg;
  usleep(20 * 1000);  // the reader below waits on the empty pipe meanwhile
  const char hello[] = "hello\n";
  write(to_cat[1], hello, sizeof hello - 1);
  return NULL;
}

static void* slow_writer(void* arg) {
  (void)arg;
  for (int i = 0; i < kLines; ++i) {
    char line[32];
    int n = snprintf(line, sizeof line, "line %d\n", i);
    write(to_cat[1], line, (size_t)n);
    usleep(2 * 1000);  // cat finds the pipe empty between lines
  }
  close(to_cat[1]);
  return NULL;
}

static void* collector(void* arg) {
  (void)arg;
  for (;;) {
    ssize_t n = read(from_cat[0], received + received_len, sizeof received - 1 - received_len);
    if (n <= 0) break;
    received_len += (size_t)n;
  }
  close(from_cat[0]);
  return NULL;
}

int main(void) {
  if (pipe(to_cat) != 0 || pipe(from_cat) != 0) return 1;

  // Cooperative I/O on the pipe first: a read that has to wait for another thread's write.
  pthread_t early;
  pthread_create(&early, NULL, early_writer, NULL);
  char first[16] = {0};
  ssize_t got = read(to_cat[0], first, sizeof first - 1);
  pthread_join(early, NULL);
  printf("read before the child: %zd bytes: %s", got, first);
  printf("pipe flags: read end %s, write end %s\n",
         (fcntl(to_cat[0], F_GETFL) & O_NONBLOCK) ? "O_NONBLOCK" : "blocking",
         (fcntl(to_cat[1], F_GETFL) & O_NONBLOCK) ? "O_NONBLOCK" : "blocking");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_cat[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_cat[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, to_cat[1]);
  posix_spawn_file_actions_addclose(&actions, from_cat[0]);
  char* argv[] = {"cat", NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, "cat", &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    printf("posix_spawnp: %s\n", strerror(rc));
    return 1;
  }
  close(to_cat[0]);
  close(from_cat[1]);

  pthread_t writer, reader;
  pthread_create(&reader, NULL, collector, NULL);
  pthread_create(&writer, NULL, slow_writer, NULL);
  report_threads();
  pthread_join(writer, NULL);
  pthread_join(reader, NULL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  char expected[4096];
  size_t expected_len = 0;
  for (int i = 0; i < kLines; ++i) {
    expected_len +=
        (size_t)snprintf(expected + expected_len, sizeof expected - expected_len, "line %d\n", i);
  }
  int same = received_len == expected_len && memcmp(received, expected, expected_len) == 0;
  printf("cat exited with status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  printf("cat copied %zu bytes, all as written: %s\n", received_len, same ? "yes" : "no");
  return same && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
