/* Many threads print through one stdio stream (a pipe drained by a reader thread) with yields
   between lines: every line, printed by one call, must come out whole and in order. Under the
   shim all writers are greenlets of one OS thread, and stdio's stream lock is recursive per OS
   thread: a switch inside fprintf would let another greenlet into the locked stream and splice
   its line into the middle of this one. This shows none happens. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_threads.h"

enum { kWriters = 8, kLines = 500, kPayload = 90 };

static FILE* stream;
static int pipe_fds[2];
static pthread_barrier_t all_alive;

/* A line is "w<writer> l<line> <payload> <checksum>\n"; the payload depends on both. */
static void payload_of(int writer, int line, char* out) {
  for (int i = 0; i < kPayload; ++i) out[i] = (char)('a' + (writer * 7 + line * 3 + i) % 26);
  out[kPayload] = '\0';
}

static unsigned checksum_of(const char* s) {
  unsigned sum = 0;
  for (; *s != '\0'; ++s) sum = sum * 31 + (unsigned char)*s;
  return sum;
}

static void* writer(void* arg) {
  int id = (int)(long)arg;
  char payload[kPayload + 1];
  pthread_barrier_wait(&all_alive);
  for (int line = 0; line < kLines; ++line) {
    payload_of(id, line, payload);
    /* One call per line: stdio holds the stream's lock for the whole call, which writes to
       the pipe several times (the buffer is smaller than a line). */
    fprintf(stream, "w%d l%d %s %u\n", id, line, payload, checksum_of(payload));
    if (line % 7 == 0) sched_yield();
    if (line % 50 == 0) usleep(100);
  }
  return NULL;
}

static long intact[kWriters];
static long broken;
static int next_line[kWriters];
static long out_of_order;

static void check_line(char* text) {
  int id, line;
  unsigned sum;
  char payload[kPayload + 1];
  char expected[kPayload + 1];
  if (sscanf(text, "w%d l%d %90s %u", &id, &line, payload, &sum) != 4 || id < 0 || id >= kWriters) {
    ++broken;
    return;
  }
  payload_of(id, line, expected);
  if (strcmp(payload, expected) != 0 || sum != checksum_of(expected)) {
    ++broken;
    return;
  }
  if (line != next_line[id]) ++out_of_order;
  next_line[id] = line + 1;
  ++intact[id];
}

static void* reader(void* arg) {
  (void)arg;
  static char pending[4096];
  size_t used = 0;
  char chunk[1024];
  ssize_t n;
  while ((n = read(pipe_fds[0], chunk, sizeof chunk)) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      if (chunk[i] == '\n') {
        pending[used] = '\0';
        check_line(pending);
        used = 0;
      } else if (used + 1 < sizeof pending) {
        pending[used++] = chunk[i];
      } else {
        ++broken;
        used = 0;
      }
    }
  }
  return NULL;
}

int main(void) {
  if (pipe(pipe_fds) != 0) return 2;
  /* Room for everything, so a writer never waits for the reader inside stdio. */
  fcntl(pipe_fds[1], F_SETPIPE_SZ, 1 << 20);
  stream = fdopen(pipe_fds[1], "w");
  /* A buffer smaller than a line: stdio writes to the pipe several times per line. */
  static char buffer[64];
  setvbuf(stream, buffer, _IOFBF, sizeof buffer);
  pthread_barrier_init(&all_alive, NULL, kWriters + 1);

  pthread_t readers, writers[kWriters];
  pthread_create(&readers, NULL, reader, NULL);
  for (long i = 0; i < kWriters; ++i) pthread_create(&writers[i], NULL, writer, (void*)i);
  report_threads();
  pthread_barrier_wait(&all_alive);
  for (int i = 0; i < kWriters; ++i) pthread_join(writers[i], NULL);
  fclose(stream);
  pthread_join(readers, NULL);

  long total = 0;
  for (int i = 0; i < kWriters; ++i) {
    printf("writer %d: %ld intact lines\n", i, intact[i]);
    total += intact[i];
  }
  printf("intact: %ld of %d, broken: %ld, out of order within a writer: %ld\n", total,
         kWriters * kLines, broken, out_of_order);
  return broken == 0 && total == kWriters * kLines ? 0 : 1;
}
