/* A writer thread pushes 1 MiB through a pipe with writev (three buffers a call) to a reader
   thread that starts late and takes it in small readv calls (two buffers), so the writer fills
   the pipe's 64 KiB and has to wait many times. Every byte arrives, in order. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

#include "report_threads.h"

enum { kTotal = 1 << 20, kChunk = 10000 };

static int fds[2];
static unsigned long writer_sum, reader_sum;
static long written, read_bytes, reads;
static int writer_done_before_reader_started = -1;
static volatile int reader_started;

static unsigned char byte_at(long i) { return (unsigned char)(i * 131 + (i >> 9)); }

static void* writer(void* arg) {
  (void)arg;
  static unsigned char a[kChunk / 4], b[kChunk / 2], c[kChunk - kChunk / 4 - kChunk / 2];
  long at = 0;
  while (at < kTotal) {
    struct iovec v[3] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
    long want = kTotal - at < kChunk ? kTotal - at : kChunk;
    long left = want;
    for (int k = 0; k < 3; ++k) {
      if ((long)v[k].iov_len > left) v[k].iov_len = (size_t)left;
      for (size_t j = 0; j < v[k].iov_len; ++j) {
        unsigned char x = byte_at(at + (want - left) + (long)j);
        ((unsigned char*)v[k].iov_base)[j] = x;
        writer_sum = writer_sum * 31 + x;
      }
      left -= (long)v[k].iov_len;
    }
    ssize_t n = writev(fds[1], v, 3);
    if (n != want) {
      fprintf(stderr, "writev: %zd of %ld\n", n, want);
      break;
    }
    at += n;
  }
  written = at;
  writer_done_before_reader_started = !reader_started;
  close(fds[1]);
  return NULL;
}

static void* reader(void* arg) {
  (void)arg;
  usleep(50 * 1000);  // the writer fills the pipe meanwhile
  reader_started = 1;
  unsigned char x[100], y[155];
  long at = 0;
  int in_order = 1;
  for (;;) {
    struct iovec v[2] = {{x, sizeof x}, {y, sizeof y}};
    ssize_t n = readv(fds[0], v, 2);
    if (n <= 0) break;
    ++reads;
    for (ssize_t j = 0; j < n; ++j) {
      unsigned char got = j < (ssize_t)sizeof x ? x[j] : y[j - sizeof x];
      if (got != byte_at(at + j)) in_order = 0;
      reader_sum = reader_sum * 31 + got;
    }
    at += n;
  }
  read_bytes = at;
  if (!in_order) fprintf(stderr, "bytes out of order\n");
  close(fds[0]);
  return NULL;
}

int main(void) {
  if (pipe(fds) != 0) return 1;
  pthread_t w, r;
  pthread_create(&r, NULL, reader, NULL);
  pthread_create(&w, NULL, writer, NULL);
  report_threads();
  pthread_join(w, NULL);
  pthread_join(r, NULL);
  printf("written: %ld, read: %ld\n", written, read_bytes);
  printf("checksums equal: %s\n", writer_sum == reader_sum ? "yes" : "no");
  printf("writer had to wait for the late reader: %s\n",
         writer_done_before_reader_started == 0 ? "yes" : "no");
  printf("many small reads: %s\n", reads > kTotal / 255 - 1 ? "yes" : "no");
  return written == kTotal && read_bytes == kTotal && writer_sum == reader_sum ? 0 : 1;
}
