/* threaded_echo_server: a TCP echo server written the legacy way, the program the shim benchmark
 * (bench/shim_bench.sh) runs natively and under libcogent_preload.so. Plain C, blocking calls,
 * one pthread per client with default attributes (8 MiB stacks, no tuning), nothing that knows
 * about cogent:
 *
 *   threaded_echo_server [--port] N      (N = 0: any free port)
 *
 * Listens on 127.0.0.1 and prints `listening on N` once it does (the protocol of
 * bench/echo_bench.sh). The main thread accepts in a blocking loop and starts a detached thread
 * per connection, which reads and writes the bytes back until the client closes. SIGTERM ends the
 * process with status 0; SIGPIPE is ignored, so a client that resets only ends its own thread.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void on_sigterm(int sig) {
  (void)sig;
  _exit(0);
}

/* Writes all of buf; 0 on success, -1 with errno set. */
static int write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static void* serve_client(void* arg) {
  int fd = (int)(intptr_t)arg;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      break; /* a reset: this client is gone */
    }
    if (write_all(fd, buf, (size_t)n) != 0) break;
  }
  close(fd);
  return NULL;
}

static void usage(const char* why) {
  fprintf(stderr, "threaded_echo_server: %s\nusage: threaded_echo_server [--port] N\n", why);
  exit(2);
}

int main(int argc, char** argv) {
  const char* port_text = NULL;
  if (argc == 2) {
    port_text = argv[1];
  } else if (argc == 3 && strcmp(argv[1], "--port") == 0) {
    port_text = argv[2];
  } else {
    usage("expected a port");
  }
  char* end = NULL;
  long port = strtol(port_text, &end, 10);
  if (end == port_text || *end != '\0' || port < 0 || port > 65535) usage("port: 0 to 65535");

  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_sigterm);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) {
    perror("threaded_echo_server: socket");
    return 1;
  }
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0) {
    perror("threaded_echo_server: bind");
    return 1;
  }
  if (listen(listener, SOMAXCONN) != 0) {
    perror("threaded_echo_server: listen");
    return 1;
  }
  socklen_t addr_len = sizeof addr;
  if (getsockname(listener, (struct sockaddr*)&addr, &addr_len) != 0) {
    perror("threaded_echo_server: getsockname");
    return 1;
  }
  printf("listening on %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  for (;;) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;
      fprintf(stderr, "threaded_echo_server: accept: %s\n", strerror(err));
      if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) return 1;
      /* Out of descriptors or memory: back off and let the queue wait. */
      struct timespec pause = {0, 100 * 1000 * 1000};
      nanosleep(&pause, NULL);
      continue;
    }
    pthread_t thread;
    int err = pthread_create(&thread, NULL, serve_client, (void*)(intptr_t)fd);
    if (err != 0) {
      /* Typically EAGAIN: the thread limit or memory for its stack. This client is turned away. */
      fprintf(stderr, "threaded_echo_server: pthread_create: %s\n", strerror(err));
      close(fd);
      continue;
    }
    pthread_detach(thread);
  }
}
