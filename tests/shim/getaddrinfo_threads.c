/* Eight threads resolve names at the same time, each its own kind of question, again and again:
   "localhost" (from /etc/hosts), the literals "127.0.0.1" and "::1" with AI_NUMERICHOST, the
   wildcard addresses of AI_PASSIVE, a name that AI_NUMERICHOST refuses (EAI_NONAME),
   gethostbyname and gethostbyname_r, gethostbyaddr and getnameinfo. Only /etc/hosts and numeric
   forms: no network. Every round must give the same answer; the answers are printed sorted. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report_threads.h"

enum { kThreads = 8, kRounds = 20, kAnswer = 512 };

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static char answers[kThreads][kAnswer];
static int unstable[kThreads];

static void append(char* out, const char* fmt, const char* a, const char* b) {
  size_t used = strlen(out);
  snprintf(out + used, kAnswer - used, fmt, a, b);
}

static void describe_list(const char* question, const struct addrinfo* list, char* out) {
  for (const struct addrinfo* ai = list; ai != NULL; ai = ai->ai_next) {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ai->ai_family == AF_INET) {
      const struct sockaddr_in* sin = (const void*)ai->ai_addr;
      inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
      port = ntohs(sin->sin_port);
    } else if (ai->ai_family == AF_INET6) {
      const struct sockaddr_in6* sin6 = (const void*)ai->ai_addr;
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
      port = ntohs(sin6->sin6_port);
    }
    char where[96];
    snprintf(where, sizeof where, "%s port %u %s", host, port,
             ai->ai_socktype == SOCK_STREAM  ? "stream"
             : ai->ai_socktype == SOCK_DGRAM ? "dgram"
                                             : "other");
    append(out, "%s: %s\n", question, where);
  }
}

static void ask(const char* question, const char* node, const char* service, int family,
                int socktype, int flags, char* out) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = socktype;
  hints.ai_flags = flags;
  struct addrinfo* list = NULL;
  const int rc = getaddrinfo(node, service, &hints, &list);
  if (rc != 0) {
    append(out, "%s: %s\n", question, rc == EAI_NONAME ? "EAI_NONAME" : gai_strerror(rc));
    return;
  }
  describe_list(question, list, out);
  freeaddrinfo(list);
}

static void describe_host(const char* question, const struct hostent* h, char* out) {
  if (h == NULL) {
    append(out, "%s: %s\n", question, "no entry");
    return;
  }
  append(out, "%s: name %s\n", question, h->h_name);
  for (char** a = h->h_addr_list; *a != NULL; ++a) {
    char host[INET6_ADDRSTRLEN];
    inet_ntop(h->h_addrtype, *a, host, sizeof host);
    append(out, "%s: address %s\n", question, host);
  }
}

static void resolve(int kind, char* out) {
  out[0] = '\0';
  switch (kind) {
    case 0:
      ask("localhost tcp/80 inet", "localhost", "80", AF_INET, SOCK_STREAM, 0, out);
      break;
    case 1:
      ask("127.0.0.1 udp/8080 numeric", "127.0.0.1", "8080", AF_UNSPEC, SOCK_DGRAM,
          AI_NUMERICHOST | AI_NUMERICSERV, out);
      break;
    case 2:
      ask("::1 tcp/443 numeric", "::1", "443", AF_INET6, SOCK_STREAM, AI_NUMERICHOST, out);
      break;
    case 3:
      ask("passive inet tcp/9000", NULL, "9000", AF_INET, SOCK_STREAM, AI_PASSIVE, out);
      ask("passive inet6 tcp/9000", NULL, "9000", AF_INET6, SOCK_STREAM, AI_PASSIVE, out);
      break;
    case 4:
      ask("a name with AI_NUMERICHOST", "name.invalid", "80", AF_UNSPEC, SOCK_STREAM,
          AI_NUMERICHOST, out);
      break;
    case 5: {
      struct hostent* h = gethostbyname("localhost");
      describe_host("gethostbyname localhost", h, out);
      break;
    }
    case 6: {
      struct hostent entry, *found = NULL;
      char buffer[1024];
      int herr = -1;
      const int rc = gethostbyname_r("127.0.0.1", &entry, buffer, sizeof buffer, &found, &herr);
      append(out, "%s: %s\n", "gethostbyname_r 127.0.0.1 returns", rc == 0 ? "0" : "an error");
      describe_host("gethostbyname_r 127.0.0.1", found, out);
      break;
    }
    case 7: {
      struct in_addr loopback;
      inet_pton(AF_INET, "127.0.0.1", &loopback);
      describe_host("gethostbyaddr 127.0.0.1", gethostbyaddr(&loopback, sizeof loopback, AF_INET),
                    out);
      struct sockaddr_in sin;
      memset(&sin, 0, sizeof sin);
      sin.sin_family = AF_INET;
      sin.sin_port = htons(8080);
      sin.sin_addr = loopback;
      char host[64], serv[16];
      const int rc = getnameinfo((const struct sockaddr*)&sin, sizeof sin, host, sizeof host, serv,
                                 sizeof serv, NI_NUMERICSERV);
      if (rc == 0) {
        append(out, "getnameinfo 127.0.0.1:8080: %s %s\n", host, serv);
      } else {
        append(out, "%s: %s\n", "getnameinfo 127.0.0.1:8080", gai_strerror(rc));
      }
      break;
    }
  }
}

static void* resolver(void* arg) {
  const int kind = (int)(long)arg;
  pthread_mutex_lock(&gate_mutex);
  while (!gate_open) pthread_cond_wait(&gate_cond, &gate_mutex);
  pthread_mutex_unlock(&gate_mutex);
  char again[kAnswer];
  resolve(kind, answers[kind]);
  for (int round = 1; round < kRounds; ++round) {
    resolve(kind, again);
    if (strcmp(again, answers[kind]) != 0) unstable[kind] = 1;
  }
  return NULL;
}

static int by_text(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

int main(void) {
  pthread_t threads[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&threads[i], NULL, resolver, (void*)i);
  report_threads();  // before any lookup: the resolver's own threads are not the program's
  pthread_mutex_lock(&gate_mutex);
  gate_open = 1;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_mutex);
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);

  char* lines[kThreads * 16];
  int count = 0;
  for (int i = 0; i < kThreads; ++i) {
    for (char* line = strtok(answers[i], "\n"); line != NULL && count < kThreads * 16;
         line = strtok(NULL, "\n")) {
      lines[count++] = line;
    }
  }
  qsort(lines, (size_t)count, sizeof lines[0], by_text);
  for (int i = 0; i < count; ++i) printf("%s\n", lines[i]);
  int stable = 1;
  for (int i = 0; i < kThreads; ++i) stable = stable && !unstable[i];
  printf("every round gave the same answer: %s\n", stable ? "yes" : "no");
  return stable ? 0 : 1;
}
