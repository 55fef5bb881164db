/* A thread blocked on a descriptor that another thread closes is woken with EBADF under the shim
   (natively it would keep waiting, so this program would hang): recv on a socket closed with
   close(), read on a pipe replaced with dup2(), accept on a listener closed with close_range(),
   send into a full socket buffer closed with close(), recv on a socket whose stdio stream is
   closed with fclose(). A thread waiting on another descriptor is left alone. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "report_threads.h"

enum { kRecv, kRead, kAccept, kSend };

struct blocked {
  int kind;
  int fd;
  const char* what;
  long result;
  int error;
};

static void* block(void* arg) {
  struct blocked* b = arg;
  static char big[1 << 20];
  char buf[16];
  switch (b->kind) {
    case kRecv:
      b->result = recv(b->fd, buf, sizeof buf, 0);
      break;
    case kRead:
      b->result = read(b->fd, buf, sizeof buf);
      break;
    case kAccept:
      b->result = accept(b->fd, NULL, NULL);
      break;
    case kSend:
      b->result = send(b->fd, big, sizeof big, MSG_NOSIGNAL);
      break;
  }
  b->error = errno;
  return NULL;
}

static void report(const struct blocked* b) {
  printf("%s: %ld %s\n", b->what, b->result,
         b->result < 0 ? (b->error == EBADF ? "EBADF" : strerror(b->error)) : "");
}

int main(void) {
  int s[2], other[2], p[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  socketpair(AF_UNIX, SOCK_STREAM, 0, other);
  pthread_t t, bystander;

  // recv, closed with close(); a thread waiting on another socket stays.
  struct blocked waiting = {kRecv, other[0], "recv on the other socket", 0, 0};
  pthread_create(&bystander, NULL, block, &waiting);
  struct blocked b = {kRecv, s[0], "recv on a socket closed by another thread", 0, 0};
  pthread_create(&t, NULL, block, &b);
  usleep(30 * 1000);
  report_threads();
  close(s[0]);
  pthread_join(t, NULL);
  report(&b);
  send(other[1], "still here", 10, 0);
  pthread_join(bystander, NULL);
  report(&waiting);
  close(s[1]);

  // read on a pipe, replaced with dup2().
  pipe(p);
  int replacement = dup(other[1]);
  b = (struct blocked){kRead, p[0], "read on a pipe replaced by dup2", 0, 0};
  pthread_create(&t, NULL, block, &b);
  usleep(30 * 1000);
  dup2(replacement, p[0]);
  pthread_join(t, NULL);
  report(&b);
  close(p[0]);
  close(p[1]);
  close(replacement);

  // accept, closed with close_range().
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, (struct sockaddr*)&addr, sizeof addr);
  listen(listener, 4);
  b = (struct blocked){kAccept, listener, "accept on a listener closed by close_range", 0, 0};
  pthread_create(&t, NULL, block, &b);
  usleep(30 * 1000);
  close_range((unsigned)listener, (unsigned)listener, 0);
  pthread_join(t, NULL);
  report(&b);

  // send into a full buffer, closed with close().
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  b = (struct blocked){kSend, s[0], "send into a full buffer, closed", 0, 0};
  pthread_create(&t, NULL, block, &b);
  usleep(30 * 1000);
  close(s[0]);
  pthread_join(t, NULL);
  printf("send into a full buffer, closed: %s\n",
         b.result > 0 ? "returned what it had sent"
                      : (b.error == EBADF ? "EBADF" : strerror(b.error)));
  close(s[1]);

  // recv on a socket whose stdio stream is closed with fclose().
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  FILE* stream = fdopen(s[0], "r");
  b = (struct blocked){kRecv, s[0], "recv on a socket closed by fclose", 0, 0};
  pthread_create(&t, NULL, block, &b);
  usleep(30 * 1000);
  fclose(stream);
  pthread_join(t, NULL);
  report(&b);
  close(s[1]);
  close(other[0]);
  close(other[1]);
  return 0;
}
