/* The floor: one cache line bounced between two cores. Process A writes an
 * odd number into the line and waits for B to write the next even number.
 * Prints the one-way time (half the round trip). */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reference_common.h"

int main(int argc, char** argv) {
  int a, b;
  long n;
  parse_args(argc, argv, &a, &b, &n, NULL);
  volatile uint64_t* line = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (line == MAP_FAILED) return 1;
  pid_t child = fork();
  if (child == 0) {
    pin(b);
    for (long i = 0; i < n + 1000; i++) {
      while (*line != (uint64_t)(2 * i + 1)) __builtin_ia32_pause();
      *line = (uint64_t)(2 * i + 2);
    }
    _exit(0);
  }
  pin(a);
  uint64_t start = 0;
  for (long i = 0; i < n + 1000; i++) {
    if (i == 1000) start = now_ns(); /* 1000 warm-up round trips */
    *line = (uint64_t)(2 * i + 1);
    while (*line != (uint64_t)(2 * i + 2)) __builtin_ia32_pause();
  }
  const uint64_t elapsed = now_ns() - start;
  waitpid(child, NULL, 0);
  report("cacheline_one_way_ns", (double)elapsed / (double)n / 2, "ns");
  return 0;
}
