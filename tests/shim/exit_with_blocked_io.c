/* main returns while other threads are blocked in recv, read, accept, send and connect: the
   process ends at once with main's status, and output flushed before is all there is. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "report_threads.h"

enum { kRecv, kRead, kAccept, kSend, kConnect, kKinds };

static int s[2], p[2], full[2], listener;
static struct sockaddr_in addr;
static volatile int blocked[kKinds];

static void* block(void* arg) {
  static char big[1 << 22];
  char buf[16];
  int kind = (int)(long)arg;
  blocked[kind] = 1;
  switch (kind) {
    case kRecv:
      recv(s[0], buf, sizeof buf, 0);
      break;
    case kRead:
      read(p[0], buf, sizeof buf);
      break;
    case kAccept:
      accept(listener, NULL, NULL);
      break;
    case kSend:
      send(full[0], big, sizeof big, 0);
      break;
    case kConnect: {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      connect(c, (struct sockaddr*)&addr, sizeof addr);
      break;
    }
  }
  printf("thread %d was not expected to return\n", kind);
  return NULL;
}

int main(void) {
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  socketpair(AF_UNIX, SOCK_STREAM, 0, full);
  pipe(p);
  listener = socket(AF_INET, SOCK_STREAM, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, (struct sockaddr*)&addr, sizeof addr);
  listen(listener, 0);
  socklen_t len = sizeof addr;
  getsockname(listener, (struct sockaddr*)&addr, &len);
  // Fills the listener's queue (backlog 0): the connecting thread's SYN is dropped.
  int first = socket(AF_INET, SOCK_STREAM, 0);
  connect(first, (struct sockaddr*)&addr, sizeof addr);

  pthread_t t[kKinds];
  for (long k = 0; k < kKinds; ++k) pthread_create(&t[k], NULL, block, (void*)k);
  usleep(50 * 1000);
  report_threads();
  int all = 1;
  for (int k = 0; k < kKinds; ++k) all = all && blocked[k];
  printf("threads blocked in recv, read, accept, send and connect: %s\n", all ? "yes" : "no");
  fflush(stdout);
  return 3;
}
