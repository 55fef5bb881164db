/* libev_echo: the peer for cogent's epoll backend, which itself sits on libev. A TCP echo server
 * written the way a libev user would: one thread, one loop, an ev_io watcher per connection,
 * nonblocking sockets, callbacks.
 *
 *   libev_echo [--host 127.0.0.1] [--port N]    (N = 0: any free port)
 *
 * Prints `listening on N` once it listens. Each readiness reads once into the connection's buffer
 * and writes it straight back; when a write comes up short the watcher is switched from EV_READ
 * to EV_WRITE until the rest is sent, so a slow reader never makes the buffer grow. SIGINT or
 * SIGTERM (ev_signal) ends it with status 0.
 */
#define _GNU_SOURCE /* accept4 */

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kBufferSize = 64 * 1024 };

struct connection {
  ev_io io;      /* first, so the watcher pointer is the connection pointer */
  size_t length; /* bytes read, being written back */
  size_t sent;
  unsigned char buffer[kBufferSize];
};

static void fail(const char* call, int err) {
  fprintf(stderr, "libev_echo: %s: %s\n", call, strerror(err));
}

static void close_connection(struct ev_loop* loop, struct connection* c) {
  ev_io_stop(loop, &c->io);
  close(c->io.fd);
  free(c);
}

/* Switches the watcher between EV_READ and EV_WRITE. libev batches the epoll_ctl until the next
 * poll, and drops it if the mask ends up as it was. */
static void watch(struct ev_loop* loop, struct connection* c, int events) {
  ev_io_stop(loop, &c->io);
  ev_io_set(&c->io, c->io.fd, events);
  ev_io_start(loop, &c->io);
}

/* Writes what is left of the buffer. 1 when all of it went; 0 when the connection was closed or
 * now waits for EV_WRITE. */
static int write_back(struct ev_loop* loop, struct connection* c) {
  while (c->sent < c->length) {
    const ssize_t n = send(c->io.fd, c->buffer + c->sent, c->length - c->sent, MSG_NOSIGNAL);
    if (n >= 0) {
      c->sent += (size_t)n;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      close_connection(loop, c);
      return 0;
    }
    if (!(c->io.events & EV_WRITE)) watch(loop, c, EV_WRITE);
    return 0;
  }
  if (c->io.events & EV_WRITE) watch(loop, c, EV_READ);
  return 1;
}

static void on_connection(struct ev_loop* loop, ev_io* w, int revents) {
  struct connection* c = (struct connection*)w;
  if (revents & EV_WRITE) {
    write_back(loop, c);
    return;
  }
  /* One read per readiness: the loop is level-triggered, so data left behind is reported again,
   * and reading on to EAGAIN would cost a syscall per message. */
  ssize_t n;
  do {
    n = recv(w->fd, c->buffer, kBufferSize, 0);
  } while (n < 0 && errno == EINTR);
  if (n == 0 || (n < 0 && errno != EAGAIN)) {
    close_connection(loop, c);
    return;
  }
  if (n < 0) return;
  c->length = (size_t)n;
  c->sent = 0;
  write_back(loop, c);
}

static void on_accept(struct ev_loop* loop, ev_io* w, int revents) {
  (void)revents;
  for (;;) {
    const int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      /* EAGAIN: the queue is empty. ECONNABORTED: the peer reset a queued connection. Anything
       * else (EMFILE...) is worth a line; level-triggered, the listener is reported again. */
      if (errno == ECONNABORTED || errno == EINTR) continue;
      if (errno != EAGAIN) fail("accept4", errno);
      return;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct connection* c = malloc(sizeof *c); /* the buffer needs no zeroing */
    if (c == NULL) {
      fail("malloc", ENOMEM);
      close(fd);
      continue;
    }
    ev_io_init(&c->io, on_connection, fd, EV_READ);
    ev_io_start(loop, &c->io);
  }
}

static void on_signal(struct ev_loop* loop, ev_signal* w, int revents) {
  (void)w;
  (void)revents;
  ev_break(loop, EVBREAK_ALL);
}

static int open_listener(const char* host, int port) {
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
    fail(host, EINVAL);
    return -1;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail("socket", errno);
    return -1;
  }
  const int one = 1;
  const char* call = NULL;
  socklen_t length = sizeof address;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    call = "setsockopt(SO_REUSEADDR)";
  } else if (bind(fd, (struct sockaddr*)&address, sizeof address) != 0) {
    call = "bind";
  } else if (listen(fd, SOMAXCONN) != 0) {
    call = "listen";
  } else if (getsockname(fd, (struct sockaddr*)&address, &length) != 0) {
    call = "getsockname";
  }
  if (call != NULL) {
    fail(call, errno);
    close(fd);
    return -1;
  }
  printf("listening on %d\n", ntohs(address.sin_port));
  fflush(stdout);
  return fd;
}

static void usage(const char* why) {
  fprintf(stderr, "libev_echo: %s\nusage: libev_echo [--host 127.0.0.1] [--port N]\n", why);
  exit(2);
}

static void raise_fd_limit(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) usage("missing value after an option");
    if (strcmp(argv[i], "--host") == 0) {
      host = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0) {
      char* end = NULL;
      const long v = strtol(argv[++i], &end, 10);
      if (*end != '\0' || end == argv[i] || v < 0 || v > 65535) usage("--port: 0 to 65535");
      port = (int)v;
    } else {
      usage("unknown option");
    }
  }
  raise_fd_limit();
  signal(SIGPIPE, SIG_IGN);

  /* The default loop, because only it may watch signals; epoll as cogent's epoll backend uses. */
  struct ev_loop* loop = ev_default_loop(EVBACKEND_EPOLL | EVFLAG_NOENV);
  if (loop == NULL) {
    fprintf(stderr, "libev_echo: no epoll backend in libev\n");
    return 1;
  }
  const int listen_fd = open_listener(host, port);
  if (listen_fd < 0) return 1;
  ev_io listener;
  ev_io_init(&listener, on_accept, listen_fd, EV_READ);
  ev_io_start(loop, &listener);
  ev_signal sigterm, sigint;
  ev_signal_init(&sigterm, on_signal, SIGTERM);
  ev_signal_start(loop, &sigterm);
  ev_signal_init(&sigint, on_signal, SIGINT);
  ev_signal_start(loop, &sigint);

  ev_run(loop, 0);
  /* Connections are not walked and freed: the process ends here and the kernel closes them. */
  close(listen_fd);
  return 0;
}
