/* A minimal process_vm_readv loop: process A reads a SIZE-byte buffer of
 * process B, ITERATIONS times, A and B pinned as given. Prints the bandwidth.
 * This is the cost of the copy alone, with no signalling around it. */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reference_common.h"

int main(int argc, char** argv) {
  int a, b;
  long n;
  size_t size;
  parse_args(argc, argv, &a, &b, &n, &size);
  char* remote = aligned_alloc(4096, size);
  memset(remote, 7, size);
  pid_t target = fork();
  if (target == 0) {
    pin(b);
    for (;;) pause();
  }
  pin(a);
  char* local = aligned_alloc(4096, size);
  memset(local, 0, size);
  struct iovec here = {local, size}, there = {remote, size}; /* same address in the forked target */
  for (int i = 0; i < 10; i++) process_vm_readv(target, &here, 1, &there, 1, 0);
  const uint64_t start = now_ns();
  for (long i = 0; i < n; i++) {
    if (process_vm_readv(target, &here, 1, &there, 1, 0) != (ssize_t)size) {
      perror("process_vm_readv");
      return 1;
    }
  }
  const uint64_t elapsed = now_ns() - start;
  kill(target, 9);
  waitpid(target, NULL, 0);
  report("cma_read_bytes_per_second", (double)size * (double)n / ((double)elapsed * 1e-9), "B/s");
  return 0;
}
