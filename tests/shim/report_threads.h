/* For the differential runner: when COGENT_TEST_THREADS names a file, writes there how many OS
   threads the process has now ("Threads:" of /proc/self/status). Programs call it at a moment
   when all their threads are alive; stdout is left alone so that it stays comparable. */
#ifndef COGENT_TESTS_SHIM_REPORT_THREADS_H
#define COGENT_TESTS_SHIM_REPORT_THREADS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report_threads(void) {
  const char* path = getenv("COGENT_TEST_THREADS");
  if (path == NULL) return;
  FILE* status = fopen("/proc/self/status", "r");
  if (status == NULL) return;
  char line[256];
  long threads = -1;
  while (fgets(line, sizeof line, status) != NULL) {
    if (strncmp(line, "Threads:", 8) == 0) threads = strtol(line + 8, NULL, 10);
  }
  fclose(status);
  FILE* out = fopen(path, "w");
  if (out == NULL) return;
  fprintf(out, "%ld\n", threads);
  fclose(out);
}

#endif
