/* Single-core memcpy bandwidth at SIZE bytes: one process copies a SIZE-byte
 * buffer into another, ITERATIONS times, on CPU_A.
 * Usage: memcpy_bandwidth CPU_A CPU_B ITERATIONS SIZE  (CPU_B unused) */
#include <string.h>

#include "reference_common.h"

int main(int argc, char** argv) {
  int a, b;
  long n;
  size_t size;
  parse_args(argc, argv, &a, &b, &n, &size);
  (void)b;
  pin(a);
  char* src = aligned_alloc(4096, size);
  char* dst = aligned_alloc(4096, size);
  memset(src, 1, size);
  memset(dst, 2, size);
  for (int i = 0; i < 10; i++) memcpy(dst, src, size); /* warm the caches and the TLB */
  const uint64_t start = now_ns();
  for (long i = 0; i < n; i++) {
    memcpy(dst, src, size);
    __asm__ volatile("" : : "r"(dst) : "memory"); /* keep every copy */
  }
  const uint64_t elapsed = now_ns() - start;
  report("memcpy_bytes_per_second", (double)size * (double)n / ((double)elapsed * 1e-9), "B/s");
  return 0;
}
