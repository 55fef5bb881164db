/* A pool of 8 threads all blocked in accept on one listener serves 64 connections (each thread
   answers the connections it accepts), and a pool of 4 threads all blocked in recvfrom on one UDP
   socket answers 64 datagrams: every connection and every datagram is served exactly once. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "report_threads.h"

enum { kAcceptors = 8, kConnections = 64, kUdpWorkers = 4, kDatagrams = 64 };

static int listener, udp_server;
static struct sockaddr_in tcp_addr, udp_addr;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static int accepted_total, datagrams_total;

static void* acceptor(void* arg) {
  (void)arg;
  for (;;) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) return NULL;  // the listener was closed at the end
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      for (ssize_t i = 0; i < n; ++i) buf[i] = (char)(buf[i] + 1);
      write(fd, buf, (size_t)n);
    }
    close(fd);
    pthread_mutex_lock(&mutex);
    ++accepted_total;
    pthread_mutex_unlock(&mutex);
  }
}

static void* udp_worker(void* arg) {
  (void)arg;
  for (;;) {
    char buf[32];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(udp_server, buf, sizeof buf, 0, (struct sockaddr*)&from, &len);
    if (n <= 0) return NULL;
    if (n == 4 && memcmp(buf, "stop", 4) == 0) return NULL;
    sendto(udp_server, buf, (size_t)n, 0, (struct sockaddr*)&from, len);
    pthread_mutex_lock(&mutex);
    ++datagrams_total;
    pthread_mutex_unlock(&mutex);
  }
}

static struct sockaddr_in bound(int fd) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr*)&a, sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr*)&a, &len);
  return a;
}

int main(void) {
  listener = socket(AF_INET, SOCK_STREAM, 0);
  tcp_addr = bound(listener);
  listen(listener, kConnections);
  udp_server = socket(AF_INET, SOCK_DGRAM, 0);
  udp_addr = bound(udp_server);

  pthread_t acceptors[kAcceptors], workers[kUdpWorkers];
  for (int i = 0; i < kAcceptors; ++i) pthread_create(&acceptors[i], NULL, acceptor, NULL);
  for (int i = 0; i < kUdpWorkers; ++i) pthread_create(&workers[i], NULL, udp_worker, NULL);
  usleep(20 * 1000);
  report_threads();

  int answered = 0;
  for (int c = 0; c < kConnections; ++c) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    connect(fd, (struct sockaddr*)&tcp_addr, sizeof tcp_addr);
    char msg[16], reply[16] = {0};
    int n = snprintf(msg, sizeof msg, "conn %d", c);
    write(fd, msg, (size_t)n);
    ssize_t got = read(fd, reply, sizeof reply - 1);
    for (int i = 0; i < n; ++i) msg[i] = (char)(msg[i] + 1);
    if (got == n && memcmp(reply, msg, (size_t)n) == 0) ++answered;
    close(fd);
  }

  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  int echoed = 0;
  for (int d = 0; d < kDatagrams; ++d) {
    char msg[16], reply[16] = {0};
    int n = snprintf(msg, sizeof msg, "dgram %d", d);
    sendto(udp, msg, (size_t)n, 0, (struct sockaddr*)&udp_addr, sizeof udp_addr);
    ssize_t got = recv(udp, reply, sizeof reply - 1, 0);
    if (got == n && memcmp(reply, msg, (size_t)n) == 0) ++echoed;
  }
  for (int i = 0; i < kUdpWorkers; ++i) {
    sendto(udp, "stop", 4, 0, (struct sockaddr*)&udp_addr, sizeof udp_addr);
  }
  for (int i = 0; i < kUdpWorkers; ++i) pthread_join(workers[i], NULL);
  close(udp);

  // Every acceptor is back in accept: shutting the listener down wakes them all (EINVAL).
  shutdown(listener, SHUT_RDWR);
  for (int i = 0; i < kAcceptors; ++i) pthread_join(acceptors[i], NULL);
  close(listener);
  close(udp_server);
  printf("connections answered: %d of %d, accepted: %d\n", answered, kConnections, accepted_total);
  printf("datagrams echoed: %d of %d, served: %d\n", echoed, kDatagrams, datagrams_total);
  return answered == kConnections && echoed == kDatagrams ? 0 : 1;
}
