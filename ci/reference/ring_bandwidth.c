/* The bound of any double copy between two cores: a minimal ring of 8 cells
 * of 32 KiB in shared memory, streamed from A to B without pause. A copies
 * SIZE-byte messages in, B copies them out, ITERATIONS times; a cell is
 * handed over with a turn word. Prints the streaming bandwidth. */
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reference_common.h"

enum { kCells = 8, kCell = 32768 };

struct turn {
  volatile uint32_t value;
  char pad[60];
};

int main(int argc, char** argv) {
  int a, b;
  long n;
  size_t size;
  parse_args(argc, argv, &a, &b, &n, &size);
  char* ring = mmap(NULL, kCells * (64 + kCell), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  volatile uint64_t* end_ns = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ring == MAP_FAILED || end_ns == MAP_FAILED) return 1;
  struct turn* turns = (struct turn*)ring;
  char* cells = ring + kCells * 64;
  char* buf = aligned_alloc(4096, size);
  memset(buf, 1, size);
  pid_t child = fork();
  const int sender = child != 0;
  pin(sender ? a : b);
  uint64_t k = 0;
  const uint64_t start = now_ns();
  for (long i = 0; i < n; i++) {
    for (size_t off = 0; off < size; off += kCell, k++) {
      const uint32_t c = (uint32_t)(k % kCells), round = (uint32_t)(k / kCells);
      const size_t len = size - off < kCell ? size - off : kCell;
      while (turns[c].value != 2 * round + (sender ? 0 : 1)) __builtin_ia32_pause();
      if (sender) memcpy(cells + (size_t)c * kCell, buf + off, len);
      else memcpy(buf + off, cells + (size_t)c * kCell, len);
      __atomic_store_n(&turns[c].value, 2 * round + (sender ? 1 : 2), __ATOMIC_RELEASE);
    }
  }
  if (!sender) {
    *end_ns = now_ns();
    _exit(0);
  }
  waitpid(child, NULL, 0);
  report("ring_bytes_per_second", (double)size * (double)n / ((double)(*end_ns - start) * 1e-9), "B/s");
  return 0;
}
