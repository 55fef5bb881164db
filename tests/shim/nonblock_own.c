/* Descriptors the program makes non-blocking itself (pipe2 O_NONBLOCK, SOCK_NONBLOCK, fcntl
   F_SETFL, ioctl FIONBIO, accept4 SOCK_NONBLOCK) answer EAGAIN at once, and F_GETFL shows
   O_NONBLOCK exactly as set and cleared; once cleared, a read waits for another thread's write.
   The flag belongs to the open file description: set through a dup, it shows on the original. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static void show(const char* what, long r) {
  printf("%s: %ld %s\n", what, r, r < 0 ? errno_name(errno) : "");
}

static const char* nonblock_flag(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return errno_name(errno);
  return (flags & O_NONBLOCK) ? "O_NONBLOCK set" : "O_NONBLOCK clear";
}

struct delayed {
  int fd;
  int socket;
  const char* text;
};

static void* write_later(void* arg) {
  struct delayed* d = arg;
  usleep(30 * 1000);
  if (d->socket) {
    send(d->fd, d->text, strlen(d->text), 0);
  } else {
    write(d->fd, d->text, strlen(d->text));
  }
  return NULL;
}

static void read_when_written(const char* what, int rfd, int wfd, int socket, const char* text) {
  struct delayed d = {wfd, socket, text};
  pthread_t t;
  pthread_create(&t, NULL, write_later, &d);
  char buf[64] = {0};
  ssize_t n = socket ? recv(rfd, buf, sizeof buf - 1, 0) : read(rfd, buf, sizeof buf - 1);
  printf("%s: %zd \"%s\"\n", what, n, n > 0 ? buf : "");
  pthread_join(t, NULL);
}

static void* idle(void* arg) {
  (void)arg;
  usleep(10 * 1000);
  return NULL;
}

int main(void) {
  pthread_t idler;
  pthread_create(&idler, NULL, idle, NULL);
  report_threads();
  pthread_join(idler, NULL);
  char buf[16];

  int p[2];
  pipe2(p, O_NONBLOCK);
  printf("pipe2 O_NONBLOCK read end: %s\n", nonblock_flag(p[0]));
  show("read on an empty O_NONBLOCK pipe", read(p[0], buf, sizeof buf));
  struct iovec v = {buf, sizeof buf};
  show("readv on an empty O_NONBLOCK pipe", readv(p[0], &v, 1));
  static char fill[4096];
  long filled = 0;
  for (;;) {
    ssize_t n = write(p[1], fill, sizeof fill);
    if (n < 0) break;
    filled += n;
  }
  printf("filled the O_NONBLOCK pipe with %ld bytes, then: %s\n", filled, errno_name(errno));
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_NONBLOCK);
  fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) & ~O_NONBLOCK);
  printf("after F_SETFL without it: %s, %s\n", nonblock_flag(p[0]), nonblock_flag(p[1]));
  while (filled > 0) filled -= read(p[0], fill, sizeof fill);
  read_when_written("read on the pipe made blocking again", p[0], p[1], 0, "later");
  close(p[0]);
  close(p[1]);

  int s[2];
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s);
  printf("socketpair SOCK_NONBLOCK: %s\n", nonblock_flag(s[0]));
  show("recv on an empty SOCK_NONBLOCK socket", recv(s[0], buf, sizeof buf, 0));
  show("read on it", read(s[0], buf, sizeof buf));
  int off = 0;
  ioctl(s[0], FIONBIO, &off);
  printf("after FIONBIO 0: %s\n", nonblock_flag(s[0]));
  read_when_written("recv on the socket made blocking again", s[0], s[1], 1, "socket");
  int on = 1;
  ioctl(s[0], FIONBIO, &on);
  printf("after FIONBIO 1: %s\n", nonblock_flag(s[0]));
  show("recv again", recv(s[0], buf, sizeof buf, 0));
  close(s[0]);
  close(s[1]);

  int q[2];
  pipe(q);
  printf("pipe: %s\n", nonblock_flag(q[0]));
  fcntl(q[0], F_SETFL, O_NONBLOCK);
  printf("F_SETFL O_NONBLOCK: %s\n", nonblock_flag(q[0]));
  show("read on the empty pipe", read(q[0], buf, sizeof buf));
  int copy = dup(q[0]);
  printf("its dup: %s\n", nonblock_flag(copy));
  fcntl(copy, F_SETFL, 0);
  printf("cleared through the dup, the original: %s\n", nonblock_flag(q[0]));
  read_when_written("read on the original", q[0], q[1], 0, "shared");
  close(copy);
  close(q[0]);
  close(q[1]);

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, (struct sockaddr*)&addr, sizeof addr);
  listen(listener, 4);
  printf("listener SOCK_NONBLOCK: %s\n", nonblock_flag(listener));
  show("accept with nobody connecting", accept(listener, NULL, NULL));
  socklen_t len = sizeof addr;
  getsockname(listener, (struct sockaddr*)&addr, &len);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  show("connect", connect(client, (struct sockaddr*)&addr, sizeof addr));
  int server = -1;
  while (server < 0) {
    server = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    if (server < 0 && errno != EAGAIN) break;
  }
  printf("accept4 SOCK_NONBLOCK: %s; the listener: %s\n", nonblock_flag(server),
         nonblock_flag(listener));
  show("recv on the accepted socket", recv(server, buf, sizeof buf, 0));
  printf("client: %s\n", nonblock_flag(client));
  close(client);
  close(server);
  close(listener);
  return 0;
}
