/*
 * UDP echo server for migration experiments: sends every datagram back to its sender, so a prober
 * outside the guest sees exactly when the guest stops and resumes answering.
 * Usage: udp-echo PORT
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  long port = strtol(argv[1], NULL, 10);
  if (port <= 0 || port > 65535) {
    fprintf(stderr, "udp-echo: bad port %s\n", argv[1]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("udp-echo: bind");
    return 1;
  }
  printf("udp-echo: port %ld\n", port);
  fflush(stdout);
  char buf[65536];
  for (;;) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len);
    if (n >= 0) sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);
  }
}
