/* Shared by the reference programs: pinning, the clock, and the result line.
 *
 * The reference programs are the smallest possible C programs for one
 * measurement each. ci/accuracy runs them beside ipcatlas, in the same run on
 * the same cores, and prints the ratio. They share no code with ipcatlas. */
#ifndef IPCATLAS_REFERENCE_COMMON_H
#define IPCATLAS_REFERENCE_COMMON_H

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    perror("sched_setaffinity");
    exit(1);
  }
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Usage: PROGRAM CPU_A CPU_B ITERATIONS [SIZE] */
static void parse_args(int argc, char** argv, int* a, int* b, long* iterations, size_t* size) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s CPU_A CPU_B ITERATIONS [SIZE]\n", argv[0]);
    exit(2);
  }
  *a = atoi(argv[1]);
  *b = atoi(argv[2]);
  *iterations = atol(argv[3]);
  if (size) *size = argc > 4 ? (size_t)atol(argv[4]) : 1;
}

/* One line, machine-readable: the measured value and its unit. */
static void report(const char* what, double value, const char* unit) { printf("%s %.3f %s\n", what, value, unit); }

#endif
