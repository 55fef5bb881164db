/* Socket calls fail with native errno values (ECONNREFUSED, EBADF, ENOTSOCK, EINVAL, ENOTCONN,
   EISCONN...), and the datagram and message calls move data between threads as natively:
   sendto/recvfrom over UDP with the sender's address, recvmsg/sendmsg with two buffers each,
   MSG_TRUNC on a SOCK_SEQPACKET message, MSG_PEEK and MSG_WAITALL that wait for data. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static void show(const char* what, long r) {
  printf("%-44s %ld %s\n", what, r, r < 0 ? errno_name(errno) : "");
}

static struct sockaddr_in loopback(unsigned short port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

static unsigned short port_of(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr*)&a, &len);
  return ntohs(a.sin_port);
}

static int udp_server;

static void* udp_echo(void* arg) {
  (void)arg;
  char buf[64];
  struct sockaddr_in from;
  socklen_t len = sizeof from;
  ssize_t n = recvfrom(udp_server, buf, sizeof buf, 0, (struct sockaddr*)&from, &len);
  if (n < 0) return NULL;
  for (ssize_t i = 0; i < n; ++i)
    buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
  sendto(udp_server, buf, (size_t)n, 0, (struct sockaddr*)&from, len);
  return NULL;
}

static int pair[2];

static void* send_two_parts(void* arg) {
  (void)arg;
  usleep(20 * 1000);
  char a[] = "hello", b[] = ", two buffers";
  struct iovec v[2] = {{a, 5}, {b, sizeof b - 1}};
  struct msghdr m = {0};
  m.msg_iov = v;
  m.msg_iovlen = 2;
  sendmsg(pair[1], &m, 0);
  return NULL;
}

static void* send_slowly(void* arg) {
  (void)arg;
  const char* parts[] = {"wait", "all ", "of it"};
  for (int i = 0; i < 3; ++i) {
    usleep(10 * 1000);
    send(pair[1], parts[i], strlen(parts[i]), 0);
  }
  return NULL;
}

int main(void) {
  char buf[64];

  // A port that is bound but not listening refuses connections.
  int bound = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = loopback(0);
  bind(bound, (struct sockaddr*)&a, sizeof a);
  struct sockaddr_in refused = loopback(port_of(bound));
  int c = socket(AF_INET, SOCK_STREAM, 0);
  show("connect to a port nobody listens on:",
       connect(c, (struct sockaddr*)&refused, sizeof refused));
  show("connect again after the refusal:", connect(c, (struct sockaddr*)&refused, sizeof refused));
  close(c);

  int p[2];
  pipe(p);
  int closed = socket(AF_INET, SOCK_STREAM, 0);
  close(closed);
  show("recv on -1:", recv(-1, buf, sizeof buf, 0));
  show("recv on a closed descriptor:", recv(closed, buf, sizeof buf, 0));
  show("read on a closed descriptor:", read(closed, buf, sizeof buf));
  show("connect on a closed descriptor:",
       connect(closed, (struct sockaddr*)&refused, sizeof refused));
  show("accept on a closed descriptor:", accept(closed, NULL, NULL));
  show("send on a closed descriptor:", send(closed, "x", 1, 0));
  show("recv on a pipe:", recv(p[0], buf, sizeof buf, 0));
  show("send on a pipe:", send(p[1], "x", 1, 0));
  show("connect on a pipe:", connect(p[0], (struct sockaddr*)&refused, sizeof refused));
  show("accept on a pipe:", accept(p[0], NULL, NULL));
  close(p[0]);
  close(p[1]);

  int fresh = socket(AF_INET, SOCK_STREAM, 0);
  show("accept on a socket that does not listen:", accept(fresh, NULL, NULL));
  show("recv on an unconnected stream socket:", recv(fresh, buf, sizeof buf, 0));
  show("send with MSG_NOSIGNAL, unconnected:", send(fresh, "x", 1, MSG_NOSIGNAL));
  show("connect with a short address:", connect(fresh, (struct sockaddr*)&refused, 3));
  struct sockaddr_in6 six = {0};
  six.sin6_family = AF_INET6;
  show("connect to an IPv6 address:", connect(fresh, (struct sockaddr*)&six, sizeof six));
  close(fresh);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  a = loopback(0);
  bind(listener, (struct sockaddr*)&a, sizeof a);
  listen(listener, 1);
  struct sockaddr_in there = loopback(port_of(listener));
  c = socket(AF_INET, SOCK_STREAM, 0);
  show("connect to a listener:", connect(c, (struct sockaddr*)&there, sizeof there));
  show("connect once more:", connect(c, (struct sockaddr*)&there, sizeof there));
  close(c);
  close(listener);
  close(bound);

  // UDP between two threads.
  udp_server = socket(AF_INET, SOCK_DGRAM, 0);
  a = loopback(0);
  bind(udp_server, (struct sockaddr*)&a, sizeof a);
  pthread_t echo;
  pthread_create(&echo, NULL, udp_echo, NULL);
  report_threads();
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  show("send on an unconnected UDP socket:", send(udp, "x", 1, 0));
  struct sockaddr_in server = loopback(port_of(udp_server));
  usleep(10 * 1000);
  show("sendto the UDP echo thread:",
       sendto(udp, "datagram", 8, 0, (struct sockaddr*)&server, sizeof server));
  struct sockaddr_in from;
  socklen_t from_len = sizeof from;
  memset(buf, 0, sizeof buf);
  ssize_t n = recvfrom(udp, buf, sizeof buf, 0, (struct sockaddr*)&from, &from_len);
  printf("recvfrom: %zd \"%s\" from the server's port: %s, address length %u\n", n, buf,
         ntohs(from.sin_port) == port_of(udp_server) ? "yes" : "no", (unsigned)from_len);
  pthread_join(echo, NULL);
  close(udp);
  close(udp_server);

  // recvmsg into two buffers, waiting for another thread's sendmsg of two buffers.
  socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
  pthread_t sender;
  pthread_create(&sender, NULL, send_two_parts, NULL);
  char x[8] = {0}, y[32] = {0};
  struct iovec v[2] = {{x, 7}, {y, 31}};
  struct msghdr m = {0};
  m.msg_iov = v;
  m.msg_iovlen = 2;
  n = recvmsg(pair[0], &m, 0);
  printf("recvmsg: %zd bytes: \"%s\" + \"%s\", flags %d\n", n, x, y, m.msg_flags);
  pthread_join(sender, NULL);

  // MSG_PEEK waits, then leaves the data; MSG_WAITALL waits for all of it.
  pthread_create(&sender, NULL, send_slowly, NULL);
  memset(buf, 0, sizeof buf);
  n = recv(pair[0], buf, 4, MSG_PEEK);
  printf("recv MSG_PEEK: %zd \"%s\"\n", n, buf);
  memset(buf, 0, sizeof buf);
  n = recv(pair[0], buf, 13, MSG_WAITALL);
  printf("recv MSG_WAITALL of 13: %zd \"%s\"\n", n, buf);
  pthread_join(sender, NULL);
  close(pair[0]);
  close(pair[1]);

  // A SOCK_SEQPACKET message too long for the buffers is cut, with MSG_TRUNC.
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair);
  pthread_create(&sender, NULL, send_two_parts, NULL);
  memset(x, 0, sizeof x);
  memset(y, 0, sizeof y);
  v[1].iov_len = 4;
  m.msg_flags = 0;
  n = recvmsg(pair[0], &m, 0);
  printf("recvmsg of a long message: %zd bytes: \"%s\" + \"%s\", MSG_TRUNC: %s\n", n, x, y,
         (m.msg_flags & MSG_TRUNC) ? "yes" : "no");
  pthread_join(sender, NULL);
  close(pair[1]);
  show("recv once the peer closed:", recv(pair[0], buf, sizeof buf, 0));
  close(pair[0]);
  return 0;
}
