/* A thread-per-connection echo server on 127.0.0.1 (one thread accepting, one thread per
   connection echoing with read/write) and 16 client threads, each sending 100 messages of
   1 B to 64 KiB and checking every echo byte for byte. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "report_threads.h"

enum { kClients = 16, kMessages = 100, kLargest = 65536 };

static int listener;
static struct sockaddr_in server_addr;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int handlers_running, go;
static long served_bytes, served_connections;
static long client_bytes[kClients], client_mismatches[kClients], client_errors[kClients];

static size_t message_size(int client, int i) {
  if (i == 0) return 1;
  if (i == kMessages - 1) return kLargest;
  return 1 + (size_t)((client * 7919L + i * 104729L) % kLargest);
}

static unsigned char message_byte(int client, int i, size_t j) {
  return (unsigned char)(client * 31 + i * 17 + j * 7 + (j >> 8));
}

static int write_all(int fd, const unsigned char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_exact(int fd, unsigned char* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void* handler(void* arg) {
  int fd = (int)(long)arg;
  no_delay(fd);
  pthread_mutex_lock(&mutex);
  ++handlers_running;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&mutex);
  unsigned char buf[16384];
  long bytes = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    if (write_all(fd, buf, (size_t)n) != 0) break;
    bytes += n;
  }
  close(fd);
  pthread_mutex_lock(&mutex);
  served_bytes += bytes;
  ++served_connections;
  pthread_mutex_unlock(&mutex);
  return NULL;
}

static void* acceptor(void* arg) {
  pthread_t* handlers = arg;
  for (int i = 0; i < kClients; ++i) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
      perror("accept");
      exit(1);
    }
    pthread_create(&handlers[i], NULL, handler, (void*)(long)fd);
  }
  close(listener);
  return NULL;
}

static void* client(void* arg) {
  int c = (int)(long)arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  no_delay(fd);
  if (connect(fd, (struct sockaddr*)&server_addr, sizeof server_addr) != 0) {
    perror("connect");
    exit(1);
  }
  pthread_mutex_lock(&mutex);
  while (!go) pthread_cond_wait(&changed, &mutex);
  pthread_mutex_unlock(&mutex);
  unsigned char* out = malloc(kLargest);
  unsigned char* in = malloc(kLargest);
  for (int i = 0; i < kMessages; ++i) {
    size_t n = message_size(c, i);
    for (size_t j = 0; j < n; ++j) out[j] = message_byte(c, i, j);
    memset(in, 0, n);
    if (write_all(fd, out, n) != 0 || read_exact(fd, in, n) != 0) {
      ++client_errors[c];
      break;
    }
    if (memcmp(in, out, n) != 0) ++client_mismatches[c];
    client_bytes[c] += (long)n;
  }
  free(out);
  free(in);
  close(fd);
  return NULL;
}

int main(void) {
  listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  server_addr.sin_family = AF_INET;
  server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof server_addr;
  if (bind(listener, (struct sockaddr*)&server_addr, sizeof server_addr) != 0 ||
      listen(listener, kClients) != 0 ||
      getsockname(listener, (struct sockaddr*)&server_addr, &len) != 0) {
    perror("listen");
    return 1;
  }
  pthread_t accepting, handlers[kClients], clients[kClients];
  pthread_create(&accepting, NULL, acceptor, handlers);
  for (long c = 0; c < kClients; ++c) pthread_create(&clients[c], NULL, client, (void*)c);

  pthread_mutex_lock(&mutex);
  while (handlers_running < kClients) pthread_cond_wait(&changed, &mutex);
  report_threads();
  go = 1;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&mutex);

  for (int c = 0; c < kClients; ++c) pthread_join(clients[c], NULL);
  pthread_join(accepting, NULL);
  for (int c = 0; c < kClients; ++c) pthread_join(handlers[c], NULL);

  long expected = 0, bytes = 0, mismatches = 0, errors = 0;
  for (int c = 0; c < kClients; ++c) {
    for (int i = 0; i < kMessages; ++i) expected += (long)message_size(c, i);
    bytes += client_bytes[c];
    mismatches += client_mismatches[c];
    errors += client_errors[c];
  }
  printf("clients: %d, messages each: %d\n", kClients, kMessages);
  printf("bytes echoed back: %ld (expected %ld)\n", bytes, expected);
  printf("mismatched echoes: %ld, failed exchanges: %ld\n", mismatches, errors);
  printf("server: %ld connections, %ld bytes\n", served_connections, served_bytes);
  return bytes == expected && mismatches == 0 && errors == 0 ? 0 : 1;
}
