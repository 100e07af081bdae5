/*
 * MigLab MPI ping-pong: rank 0 and rank 1 bounce a message back and forth for each size.
 * Prints one raw line per size: `pingpong <bytes> <round trips> <seconds>`; MigLab derives
 * latency (half a round trip) and bandwidth from these, so every figure can be recomputed.
 * Ranks beyond 1 only take part in the barriers.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BYTES (2 << 20) /* 8 B, 32 B, … 2 MiB */

/* Fewer round trips for big messages: each size takes a comparable, short time. */
static int trips_for(long bytes) {
  if (bytes <= 4096) return 1000;
  if (bytes <= 65536) return 200;
  if (bytes <= 1 << 20) return 50;
  return 20;
}

int main(int argc, char **argv) {
  int rank, size;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) {
    if (rank == 0) fprintf(stderr, "pingpong: needs 2 ranks, got %d\n", size);
    MPI_Finalize();
    return 2;
  }
  char *buf = malloc(MAX_BYTES);
  if (!buf) MPI_Abort(MPI_COMM_WORLD, 3);
  memset(buf, rank + 1, MAX_BYTES);
  char host[MPI_MAX_PROCESSOR_NAME];
  int len;
  MPI_Get_processor_name(host, &len);
  /* Each rank says where it runs, so a report shows the ranks were on different nodes. */
  if (rank < 2) printf("rank %d %s\n", rank, host);
  fflush(stdout);
  for (long bytes = 8; bytes <= MAX_BYTES; bytes *= 4) {
    int trips = trips_for(bytes);
    MPI_Barrier(MPI_COMM_WORLD);
    /* One untimed round trip warms up the connection and the buffers. */
    for (int warm = 0; warm < 2; warm++) {
      int n = warm ? trips : 1;
      double t0 = MPI_Wtime();
      for (int i = 0; i < n; i++) {
        if (rank == 0) {
          MPI_Send(buf, (int)bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
          MPI_Recv(buf, (int)bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (rank == 1) {
          MPI_Recv(buf, (int)bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          MPI_Send(buf, (int)bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
        }
      }
      double t = MPI_Wtime() - t0;
      if (warm && rank == 0) printf("pingpong %ld %d %.9f\n", bytes, trips, t);
    }
    fflush(stdout);
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
