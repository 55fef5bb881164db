/* popen() while other threads run: one thread reads a command's output line by line with fgets
   while a ticker keeps going; a "w" stream feeds `cat > FILE`, whose pclose status is 0 and whose
   file then holds the lines; pclose gives `exit 5` as 5 << 8; bad modes are EINVAL; "re" and
   "we" streams work; and a child started by a later popen() does not keep an earlier stream's
   pipe open (POSIX), so the earlier one's reader sees its end while the later child still runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static void print_close(const char* what, int status) {
  if (status == -1) {
    printf("%s: -1 %s\n", what, strerror(errno));
  } else {
    printf("%s: %d (exit code %d)\n", what, status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
}

static void* reader(void* arg) {
  (void)arg;
  const int ticks_before = ticks;
  FILE* in = popen("sleep 0.1; printf 'a\\nb\\n'", "r");
  if (in == NULL) {
    printf("popen r failed: %s\n", strerror(errno));
    return NULL;
  }
  printf("fileno of the read stream is a descriptor: %s\n", fileno(in) >= 0 ? "yes" : "no");
  char line[64];
  while (fgets(line, sizeof line, in) != NULL) printf("read: %s", line);
  printf("progressed while reading: %s\n", ticks > ticks_before + 3 ? "yes" : "no");
  print_close("pclose of the reader", pclose(in));
  return NULL;
}

static void write_and_read_back(const char* mode) {
  char path[] = "/tmp/cogent-popen-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return;
  close(fd);
  char command[128];
  snprintf(command, sizeof command, "cat > %s", path);
  FILE* out = popen(command, mode);
  if (out == NULL) {
    printf("popen %s failed: %s\n", mode, strerror(errno));
    unlink(path);
    return;
  }
  for (int i = 1; i <= 3; ++i) fprintf(out, "line %d through \"%s\"\n", i, mode);
  char what[64];
  snprintf(what, sizeof what, "pclose of cat with mode \"%s\"", mode);
  print_close(what, pclose(out));
  FILE* back = fopen(path, "r");
  char line[64];
  while (back != NULL && fgets(line, sizeof line, back) != NULL) printf("file: %s", line);
  if (back != NULL) fclose(back);
  unlink(path);
}

static void bad_mode(const char* mode) {
  errno = 0;
  FILE* f = popen("true", mode);
  const int error = errno;
  printf("popen mode \"%s\": %s %s\n", mode, f == NULL ? "NULL" : "a stream",
         error == EINVAL ? "EINVAL" : strerror(error));
  if (f != NULL) pclose(f);
}

/* An earlier "w" stream's pipe is closed in the child of a later popen(): cat sees the end of
   its input as soon as the earlier stream is closed, while the later child still sleeps. */
static void earlier_streams_closed_in_children(void) {
  FILE* first = popen("cat > /dev/null", "w");
  FILE* second = popen("sleep 0.3; echo second done", "r");
  if (first == NULL || second == NULL) {
    printf("popen failed: %s\n", strerror(errno));
    return;
  }
  fputs("some input\n", first);
  print_close("pclose of the earlier stream", pclose(first));
  struct pollfd p = {fileno(second), POLLIN, 0};
  printf("later child still running then: %s\n", poll(&p, 1, 0) == 0 ? "yes" : "no");
  char line[64];
  while (fgets(line, sizeof line, second) != NULL) printf("read: %s", line);
  print_close("pclose of the later stream", pclose(second));
}

int main(void) {
  pthread_t tick_thread, read_thread;
  pthread_create(&tick_thread, NULL, ticker, NULL);
  pthread_create(&read_thread, NULL, reader, NULL);
  report_threads();
  pthread_join(read_thread, NULL);

  write_and_read_back("w");
  write_and_read_back("we");

  FILE* five = popen("exit 5", "r");
  print_close("pclose of exit 5", pclose(five));
  FILE* re = popen("echo through re", "re");
  char line[64];
  if (re != NULL && fgets(line, sizeof line, re) != NULL) printf("read: %s", line);
  printf("\"re\" stream is close-on-exec: %s\n",
         re != NULL && (fcntl(fileno(re), F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
  print_close("pclose of the re stream", pclose(re));

  bad_mode("rw");
  bad_mode("x");
  bad_mode("");

  earlier_streams_closed_in_children();

  stop_ticking = 1;
  pthread_join(tick_thread, NULL);
  return 0;
}
