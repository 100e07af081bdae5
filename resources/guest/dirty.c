/*
 * Memory dirtier for migration experiments: keeps SIZE MiB resident and writes each 4 KiB page in
 * turn at RATE MiB/s, cycling through the buffer, so the hypervisor sees a steady dirty rate.
 * Usage: dirty SIZE_MIB RATE_MIB_PER_S   (RATE 0 = allocate and touch once, then idle)
 *
 * Consistency check (for migrations that copy memory themselves, e.g. MigLab's DSM runtime): each
 * write stamps the page with a sequence number one higher than the last, so the page about to be
 * written must hold the stamp it got exactly one cycle before. A page that went back in time (a
 * stale copy after a migration) holds an older stamp; one from the future, a newer one. The first
 * mismatches are printed as `MIGLAB-DIRTY-BAD`, and every completed cycle as
 * `MIGLAB-DIRTY-CYCLE cycle=N bad=B` (B: mismatches so far) on the console.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SIZE_MIB RATE_MIB_PER_S\n", argv[0]);
    return 2;
  }
  long size_mib = strtol(argv[1], NULL, 10);
  long rate_mib = strtol(argv[2], NULL, 10);
  if (size_mib <= 0 || rate_mib < 0) {
    fprintf(stderr, "dirty: SIZE must be > 0 and RATE >= 0\n");
    return 2;
  }
  uint64_t pages = (uint64_t)size_mib * (1024 * 1024 / PAGE);
  unsigned char *buf = malloc(pages * PAGE);
  if (!buf) {
    fprintf(stderr, "dirty: cannot allocate %ld MiB\n", size_mib);
    return 1;
  }
  memset(buf, 0, pages * PAGE); /* make every page resident before the clock starts; stamp 0: never written */
  printf("dirty: %ld MiB at %ld MiB/s\n", size_mib, rate_mib);
  fflush(stdout);
  if (rate_mib == 0)
    for (;;) pause();

  double pages_per_s = (double)rate_mib * (1024 * 1024 / PAGE);
  /* After a pause (e.g. migration downtime) catch up at most 100 ms of work, not one huge burst. */
  uint64_t max_burst = (uint64_t)(pages_per_s / 10) + 1;
  double start = now_s();
  uint64_t done = 0, cursor = 0, seq = 0, bad = 0, cycle = 0;
  struct timespec tick = {0, 1000000};
  for (;;) {
    uint64_t due = (uint64_t)((now_s() - start) * pages_per_s);
    if (due > done + max_burst) done = due - max_burst;
    while (done < due) {
      volatile uint64_t *stamp = (volatile uint64_t *)(buf + cursor * PAGE);
      uint64_t want = seq >= pages ? seq + 1 - pages : 0;
      if (*stamp != want && ++bad <= 5) {
        printf("MIGLAB-DIRTY-BAD page=%llu stamp=%llu want=%llu\n", (unsigned long long)cursor, (unsigned long long)*stamp, (unsigned long long)want);
        fflush(stdout);
      }
      *stamp = ++seq;
      if (++cursor == pages) {
        cursor = 0;
        printf("MIGLAB-DIRTY-CYCLE cycle=%llu bad=%llu\n", (unsigned long long)++cycle, (unsigned long long)bad);
        fflush(stdout);
      }
      done++;
    }
    nanosleep(&tick, NULL);
  }
}
