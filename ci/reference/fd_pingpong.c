/* A minimal write/read ping-pong over a pipe pair or an AF_UNIX stream socket
 * pair: the least code that can move SIZE bytes back and forth. Prints the
 * one-way time (half the round trip).
 * Usage: fd_pingpong pipe|unix CPU_A CPU_B ITERATIONS SIZE */
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reference_common.h"

static void xfer(int fd, char* buf, size_t size, int writing) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = writing ? write(fd, buf + done, size - done) : read(fd, buf + done, size - done);
    if (n <= 0) {
      perror("io");
      _exit(1);
    }
    done += (size_t)n;
  }
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s pipe|unix CPU_A CPU_B ITERATIONS SIZE\n", argv[0]);
    return 2;
  }
  const int use_pipe = strcmp(argv[1], "pipe") == 0;
  int a, b;
  long n;
  size_t size;
  parse_args(argc - 1, argv + 1, &a, &b, &n, &size);
  int a_out, a_in, b_out, b_in;
  if (use_pipe) {
    int p1[2], p2[2];
    if (pipe(p1) || pipe(p2)) return 1;
    a_out = p1[1];
    b_in = p1[0];
    b_out = p2[1];
    a_in = p2[0];
  } else {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 1;
    a_out = a_in = sv[0];
    b_out = b_in = sv[1];
  }
  char* buf = calloc(1, size);
  pid_t child = fork();
  if (child == 0) {
    pin(b);
    for (long i = 0; i < n + 100; i++) {
      xfer(b_in, buf, size, 0);
      xfer(b_out, buf, size, 1);
    }
    _exit(0);
  }
  pin(a);
  uint64_t start = 0;
  for (long i = 0; i < n + 100; i++) {
    if (i == 100) start = now_ns();
    xfer(a_out, buf, size, 1);
    xfer(a_in, buf, size, 0);
  }
  const uint64_t elapsed = now_ns() - start;
  waitpid(child, NULL, 0);
  report(use_pipe ? "pipe_one_way_ns" : "unix_one_way_ns", (double)elapsed / (double)n / 2, "ns");
  return 0;
}
