/* Fifty threads each block in poll on their end of a socketpair (every other one also on a pipe
   nobody writes into), and the main thread writes to them one by one in a fixed order: each
   wakes for its own byte. Built with _FORTIFY_SOURCE, as distribution binaries are, so poll
   goes through glibc's __poll_chk. Results are collected and printed after the joins. */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "report_threads.h"

enum { kThreads = 50 };

struct poller {
  int index;
  int socket;         /* this thread's end */
  int peer;           /* the main thread's end */
  volatile int ready; /* in poll (or about to be) */
  int result;
  short revents[2];
  char byte;
};

static struct poller pollers[kThreads];
static int silent_pipe[2];

static void* poll_one(void* arg) {
  struct poller* p = arg;
  struct pollfd fds[2] = {{p->socket, POLLIN, 0}, {silent_pipe[0], POLLIN, 0}};
  /* Not a constant: the fortified poll checks the count against the array at run time. */
  volatile nfds_t count = p->index % 2 == 0 ? 1 : 2;
  p->ready = 1;
  p->result = poll(fds, count, 5000);
  p->revents[0] = fds[0].revents;
  p->revents[1] = fds[1].revents;
  if (p->result > 0 && (fds[0].revents & POLLIN)) {
    if (read(p->socket, &p->byte, 1) != 1) p->byte = '?';
  }
  return NULL;
}

int main(void) {
  if (pipe(silent_pipe) != 0) return 2;
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 2;
    pollers[i].index = i;
    pollers[i].socket = pair[0];
    pollers[i].peer = pair[1];
    pthread_create(&threads[i], NULL, poll_one, &pollers[i]);
  }
  for (int i = 0; i < kThreads; ++i) {
    while (!pollers[i].ready) usleep(1000);
  }
  usleep(20 * 1000); /* all of them inside poll */
  report_threads();

  /* Odd indexes first, then even ones, each from the highest down. */
  for (int parity = 1; parity >= 0; --parity) {
    for (int i = kThreads - 1; i >= 0; --i) {
      if (i % 2 != parity) continue;
      char byte = (char)('A' + i % 26);
      if (write(pollers[i].peer, &byte, 1) != 1) return 2;
    }
  }

  int woken = 0, right_byte = 0;
  for (int i = 0; i < kThreads; ++i) {
    pthread_join(threads[i], NULL);
    if (pollers[i].result == 1 && pollers[i].revents[0] == POLLIN && pollers[i].revents[1] == 0) {
      ++woken;
    }
    if (pollers[i].byte == (char)('A' + i % 26)) ++right_byte;
  }
  for (int i = 0; i < kThreads; i += 7) {
    printf("thread %2d: poll %d, revents 0x%x and 0x%x, byte %c\n", i, pollers[i].result,
           (unsigned)pollers[i].revents[0], (unsigned)(unsigned short)pollers[i].revents[1],
           pollers[i].byte);
  }
  printf("threads woken with POLLIN on their socket alone: %d of %d\n", woken, kThreads);
  printf("threads that read their own byte: %d of %d\n", right_byte, kThreads);
  for (int i = 0; i < kThreads; ++i) {
    close(pollers[i].socket);
    close(pollers[i].peer);
  }
  close(silent_pipe[0]);
  close(silent_pipe[1]);
  return woken == kThreads && right_byte == kThreads ? 0 : 1;
}
