/* errno around socket and pipe calls: a value left by a failing call survives another call that
   waits and then succeeds, in each of several threads; writing to a peer that is gone fails with
   EPIPE and raises SIGPIPE only as the program asked (MSG_NOSIGNAL: no signal; SIGPIPE ignored:
   no death; a handler: called once per failing call). Built with _FORTIFY_SOURCE, as
   distribution binaries are: the waiting reads go through __recv_chk, __read_chk and
   __recvfrom_chk. */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "report_threads.h"

#include "program_support.h"

enum { kThreads = 4 };

static int pairs[kThreads][2];
static int pipes[kThreads][2];
static int kept[kThreads];
static volatile sig_atomic_t sigpipes;
static volatile size_t want = 8;  // not a constant: the fortified calls check it at run time

static void* late_sender(void* arg) {
  int i = (int)(long)arg;
  usleep((unsigned)(10 + 5 * i) * 1000);
  send(pairs[i][1], "ping", 4, 0);
  usleep(5 * 1000);
  if (write(pipes[i][1], "pong", 4) != 4) perror("write");
  usleep(5 * 1000);
  send(pairs[i][1], "more", 4, 0);
  return NULL;
}

static void* waiter(void* arg) {
  int i = (int)(long)arg;
  char buf[8];
  errno = 0;
  close(-1);  // EBADF
  int ok = errno == EBADF;
  ssize_t n = recv(pairs[i][0], buf, want, 0);  // waits, then succeeds
  ok = ok && n == 4 && errno == EBADF;
  errno = 1000 + i;
  n = read(pipes[i][0], buf, want);  // waits, then succeeds
  ok = ok && n == 4 && errno == 1000 + i;
  errno = 2000 + i;
  n = recvfrom(pairs[i][0], buf, want, 0, NULL, NULL);  // waits, then succeeds
  ok = ok && n == 4 && errno == 2000 + i;
  kept[i] = ok;
  return NULL;
}

static void on_sigpipe(int sig) {
  (void)sig;
  ++sigpipes;
}

int main(void) {
  pthread_t senders[kThreads], waiters[kThreads];
  for (long i = 0; i < kThreads; ++i) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]) != 0 || pipe(pipes[i]) != 0) return 1;
    pthread_create(&waiters[i], NULL, waiter, (void*)i);
    pthread_create(&senders[i], NULL, late_sender, (void*)i);
  }
  report_threads();
  for (int i = 0; i < kThreads; ++i) {
    pthread_join(senders[i], NULL);
    pthread_join(waiters[i], NULL);
    printf("thread %d kept errno across its waits: %s\n", i, kept[i] ? "yes" : "no");
    close(pairs[i][0]);
    close(pairs[i][1]);
    close(pipes[i][0]);
    close(pipes[i][1]);
  }

  // The peer is gone: sendmsg with MSG_NOSIGNAL fails with EPIPE and the process lives on.
  int s[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  close(s[1]);
  struct iovec v[2] = {{"a", 1}, {"b", 1}};
  struct msghdr m = {0};
  m.msg_iov = v;
  m.msg_iovlen = 2;
  errno = 0;
  ssize_t n = sendmsg(s[0], &m, MSG_NOSIGNAL);
  printf("sendmsg MSG_NOSIGNAL to a closed peer: %zd %s\n", n, errno_name(errno));

  // With a handler: each failing call raises SIGPIPE once.
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigpipe;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGPIPE, &sa, NULL);
  n = send(s[0], "x", 1, 0);
  printf("send to a closed peer: %zd %s, SIGPIPE handled %d time(s)\n", n, errno_name(errno),
         (int)sigpipes);
  n = write(s[0], "x", 1);
  printf("write to a closed peer: %zd %s, SIGPIPE handled %d time(s)\n", n, errno_name(errno),
         (int)sigpipes);
  n = sendmsg(s[0], &m, MSG_NOSIGNAL);
  printf("sendmsg MSG_NOSIGNAL again: %zd %s, SIGPIPE handled %d time(s)\n", n, errno_name(errno),
         (int)sigpipes);

  // SIGPIPE ignored: EPIPE without MSG_NOSIGNAL, on a socket and on a pipe.
  signal(SIGPIPE, SIG_IGN);
  n = send(s[0], "x", 1, 0);
  printf("send with SIGPIPE ignored: %zd %s\n", n, errno_name(errno));
  n = writev(s[0], v, 2);
  printf("writev with SIGPIPE ignored: %zd %s\n", n, errno_name(errno));
  close(s[0]);
  int p[2];
  if (pipe(p) != 0) return 1;
  close(p[0]);
  n = write(p[1], "x", 1);
  printf("write to a pipe without a reader: %zd %s\n", n, errno_name(errno));
  close(p[1]);
  printf("SIGPIPE handled %d time(s) in all\n", (int)sigpipes);
  return 0;
}
