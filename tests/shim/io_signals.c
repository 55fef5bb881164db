/* A signal handler interrupts blocked socket and pipe calls as natively: without SA_RESTART recv,
   accept and connect fail with EINTR and a send that had sent part of its data returns that
   count; with SA_RESTART a read goes on waiting and gets the data written after the signal,
   except on a socket with SO_RCVTIMEO set, which is never restarted (signal(7)). The signal is
   sent to the main thread by another thread with pthread_kill. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

static pthread_t main_thread;
static volatile sig_atomic_t handled;
static int data_fd = -1;  // written to after the signal, when >= 0

static void on_usr1(int sig) {
  (void)sig;
  ++handled;
}

static void handle(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = flags;
  sigaction(SIGUSR1, &sa, NULL);
}

static void* poke(void* arg) {
  (void)arg;
  usleep(40 * 1000);
  pthread_kill(main_thread, SIGUSR1);
  if (data_fd >= 0) {
    usleep(30 * 1000);
    write(data_fd, "after", 5);
  }
  return NULL;
}

static pthread_t poke_later(int fd) {
  data_fd = fd;
  pthread_t t;
  pthread_create(&t, NULL, poke, NULL);
  return t;
}

static void show(const char* what, long r, int err) {
  if (r < 0) {
    printf("%s: -1 %s, handler ran %d time(s)\n", what, errno_name(err), (int)handled);
  } else {
    printf("%s: %ld, handler ran %d time(s)\n", what, r, (int)handled);
  }
  handled = 0;
}

int main(void) {
  main_thread = pthread_self();
  char buf[16];
  int s[2];

  handle(0);
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  pthread_t t = poke_later(-1);
  report_threads();
  long r = recv(s[0], buf, sizeof buf, 0);
  show("recv, handler without SA_RESTART", r, errno);
  pthread_join(t, NULL);

  handle(SA_RESTART);
  int p[2];
  pipe(p);
  t = poke_later(p[1]);
  memset(buf, 0, sizeof buf);
  r = read(p[0], buf, sizeof buf);
  show("read on a pipe, handler with SA_RESTART", r, errno);
  printf("  it read \"%s\"\n", buf);
  pthread_join(t, NULL);
  close(p[0]);
  close(p[1]);

  struct timeval two_seconds = {2, 0};
  setsockopt(s[0], SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
  t = poke_later(s[1]);
  r = recv(s[0], buf, sizeof buf, 0);
  show("recv with SO_RCVTIMEO, handler with SA_RESTART", r, errno);
  pthread_join(t, NULL);
  r = recv(s[0], buf, sizeof buf, 0);
  show("recv of what came after", r, errno);

  handle(0);
  size_t big = 8 << 20;
  char* data = calloc(1, big);
  t = poke_later(-1);
  r = send(s[1], data, big, 0);
  printf("send of 8 MiB into a socket nobody reads: %s, handler ran %d time(s)\n",
         r > 0 && (size_t)r < big ? "part of it" : errno_name(errno), (int)handled);
  handled = 0;
  pthread_join(t, NULL);
  free(data);
  close(s[0]);
  close(s[1]);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, (struct sockaddr*)&addr, sizeof addr);
  listen(listener, 0);
  socklen_t len = sizeof addr;
  getsockname(listener, (struct sockaddr*)&addr, &len);
  t = poke_later(-1);
  r = accept(listener, NULL, NULL);
  show("accept, handler without SA_RESTART", r, errno);
  pthread_join(t, NULL);

  // The backlog of 0 is full after one connection: the next SYN is dropped, connect waits.
  int first = socket(AF_INET, SOCK_STREAM, 0);
  connect(first, (struct sockaddr*)&addr, sizeof addr);
  int second = socket(AF_INET, SOCK_STREAM, 0);
  t = poke_later(-1);
  r = connect(second, (struct sockaddr*)&addr, sizeof addr);
  show("connect, handler without SA_RESTART", r, errno);
  pthread_join(t, NULL);
  close(second);
  close(first);
  close(listener);
  return 0;
}
