/*
 * MigLab's DSM runtime: keeps a replica of a guest's RAM file on another node, over MPI.
 *
 *   mpirun -np 2 ... miglab-dsm SOURCE_RAM_FILE REPLICA_FILE [PAUSE_MS]
 *
 * Rank 0 (on the source node) maps the guest's RAM file read-only and never writes it. Rank 1 (on the
 * destination node) maps the replica in its own memory (node-local tmpfs). Changed pages are found by
 * page hashes (one 64-bit hash per 4 KiB page): this needs no kernel support (soft-dirty bits are not
 * used: the kernel this was written on has none, so that path could not be tested and is left out).
 * Only the file's data extents are read (SEEK_DATA): memory the guest never touched is a hole.
 *
 * Start: rank 1 hashes what the replica already holds and sends the hashes, so only differing pages
 * travel (a fresh replica is zeros: zero pages are not sent). Then background rounds, PAUSE_MS apart,
 * send the pages whose hash changed. Rank 0 reads commands on stdin (mpirun forwards it to rank 0):
 *   final   last round (the guest is stopped by then), acknowledged by rank 1, then exit 0
 *   skip    TEST ONLY: exit at once without the last round (the replica stays stale)
 *   cancel  or end of stdin: exit at once; the source file is never touched
 * A round's hashing is interrupted by a command, so `final` never waits for a background round.
 * Progress: one JSON object per line on stdout (rank 0), events ready, round, final, cancelled.
 */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include <mpi.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define BATCH 256 /* pages per message: 1 MiB, near the lab's best MPI bandwidth */
#define POLL_EVERY 2048 /* pages hashed between two looks at stdin (8 MiB) */
#define FINAL_THREADS 2 /* the final round hashes in parallel: the guest is stopped, its cores are free */

enum { TAG_HASHES = 1, TAG_CMD = 2, TAG_PAGES = 3, TAG_ACK = 4 };
enum { CMD_PAGES = 1, CMD_STOP = 2, CMD_ABORT = 3 };
enum { IN_NONE, IN_FINAL, IN_SKIP, IN_CANCEL };

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void die(const char *what, const char *path) {
  fprintf(stderr, "miglab-dsm: %s %s: %s\n", what, path, strerror(errno));
  MPI_Abort(MPI_COMM_WORLD, 2);
}

/* Four independent multiply-rotate lanes over the page's 64-bit words: fast, and any change to a
 * word changes the hash with overwhelming probability (a 1 in 2^64 collision would leave one page stale). */
static uint64_t page_hash(const unsigned char *p) {
  const uint64_t *w = (const uint64_t *)p;
  uint64_t a = 0x9e3779b97f4a7c15ULL, b = 0xc2b2ae3d27d4eb4fULL, c = 0x165667b19e3779f9ULL, d = 0x27d4eb2f165667c5ULL;
  for (int i = 0; i < PAGE / 8; i += 4) {
    a = ((a ^ w[i]) * 0xff51afd7ed558ccdULL); a ^= a >> 29;
    b = ((b ^ w[i + 1]) * 0xc4ceb9fe1a85ec53ULL); b ^= b >> 31;
    c = ((c ^ w[i + 2]) * 0xff51afd7ed558ccdULL); c ^= c >> 29;
    d = ((d ^ w[i + 3]) * 0xc4ceb9fe1a85ec53ULL); d ^= d >> 31;
  }
  uint64_t h = a ^ (b << 1) ^ (c << 2) ^ (d << 3);
  h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33;
  return h;
}

static uint64_t zero_hash;

/* Walks a file's data extents so holes (never-written guest memory, zeros) are not read at all. */
struct extents { int fd; uint64_t from, to; };

/* The hash of page i, reading it only when the file holds data there (a hole reads as zeros). */
static uint64_t hash_at(struct extents *x, const unsigned char *mem, uint64_t i) {
  uint64_t pos = i * PAGE;
  if (pos >= x->to) {
    off_t d = lseek(x->fd, (off_t)pos, SEEK_DATA);
    if (d < 0) {
      x->from = x->to = UINT64_MAX; /* no data from here on */
    } else {
      off_t e = lseek(x->fd, d, SEEK_HOLE);
      x->from = (uint64_t)d & ~(uint64_t)(PAGE - 1);
      x->to = e < 0 ? UINT64_MAX : (uint64_t)e;
    }
  }
  return pos < x->from ? zero_hash : page_hash(mem + pos);
}

/* One thread's share of the final round: the pages of [from, to) whose hash differs, listed at changed + from. */
struct share { int fd; const unsigned char *mem; const uint64_t *sent; uint64_t *changed; uint64_t from, to, n; };

static void *hash_share(void *arg) {
  struct share *s = arg;
  struct extents x = {s->fd, 0, 0};
  for (uint64_t i = s->from; i < s->to; i++)
    if (hash_at(&x, s->mem, i) != s->sent[i]) s->changed[s->from + s->n++] = i;
  return NULL;
}

/* Every page's hash checked by FINAL_THREADS threads; the changed pages listed in order. */
static uint64_t changed_pages_parallel(int fd, const unsigned char *mem, const uint64_t *sent, uint64_t *changed, uint64_t pages) {
  struct share shares[FINAL_THREADS];
  pthread_t threads[FINAL_THREADS];
  int started[FINAL_THREADS] = {0};
  for (int t = 0; t < FINAL_THREADS; t++)
    shares[t] = (struct share){fd, mem, sent, changed, pages * t / FINAL_THREADS, pages * (t + 1) / FINAL_THREADS, 0};
  for (int t = 1; t < FINAL_THREADS; t++)
    if (!(started[t] = pthread_create(&threads[t], NULL, hash_share, &shares[t]) == 0)) hash_share(&shares[t]);
  hash_share(&shares[0]);
  uint64_t n = shares[0].n;
  for (int t = 1; t < FINAL_THREADS; t++) {
    if (started[t]) pthread_join(threads[t], NULL);
    memmove(changed + n, changed + shares[t].from, shares[t].n * 8);
    n += shares[t].n;
  }
  return n;
}

/* The next command on stdin without blocking (IN_NONE when none has arrived). */
static int read_command(int wait_ms) {
  struct pollfd p = {0, POLLIN, 0};
  if (poll(&p, 1, wait_ms) <= 0) return IN_NONE;
  char line[64];
  size_t n = 0;
  for (;;) { /* one line, byte by byte: stdin may hold nothing after it */
    char ch;
    ssize_t r = read(0, &ch, 1);
    if (r <= 0) return IN_CANCEL; /* end of stdin: MigLab went away */
    if (ch == '\n') break;
    if (n < sizeof line - 1) line[n++] = ch;
  }
  line[n] = 0;
  if (strcmp(line, "final") == 0) return IN_FINAL;
  if (strcmp(line, "skip") == 0) return IN_SKIP;
  if (strcmp(line, "cancel") == 0) return IN_CANCEL;
  fprintf(stderr, "miglab-dsm: unknown command \"%s\" ignored\n", line);
  return IN_NONE;
}

static int source(const char *path, double pause_ms) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die("cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) die("cannot stat", path);
  uint64_t size = (uint64_t)st.st_size;
  if (size == 0 || size % PAGE) { fprintf(stderr, "miglab-dsm: %s is %" PRIu64 " bytes, not whole pages\n", path, size); MPI_Abort(MPI_COMM_WORLD, 2); }
  const unsigned char *mem = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) die("cannot map", path);
  MPI_Bcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  uint64_t pages = size / PAGE;
  uint64_t *sent = malloc(pages * 8); /* hash of what the replica holds, page by page */
  uint64_t *changed = malloc(pages * 8);
  unsigned char *buf = malloc(BATCH * (8 + PAGE));
  if (!sent || !changed || !buf) die("out of memory for", path);
  double t0 = now_ms();
  MPI_Recv(sent, (int)pages, MPI_UINT64_T, 1, TAG_HASHES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  printf("{\"event\":\"ready\",\"pages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"ms\":%.3f}\n", pages, size, now_ms() - t0);
  fflush(stdout);

  uint64_t total_bytes = 0;
  int round = 0, command = IN_NONE;
  for (;;) {
    int final = command == IN_FINAL;
    double start = now_ms();
    uint64_t n = 0;
    struct extents x = {fd, 0, 0};
    if (final) n = changed_pages_parallel(fd, mem, sent, changed, pages);
    else for (uint64_t i = 0; i < pages; i++) {
      if (!final && i % POLL_EVERY == 0 && (command = read_command(0)) != IN_NONE) break;
      if (hash_at(&x, mem, i) != sent[i]) changed[n++] = i;
    }
    if (!final && command != IN_NONE) {
      if (command == IN_FINAL) continue; /* the interrupted round is dropped: the final one starts now */
      break;
    }
    double hashed = now_ms();
    int64_t head[2] = {CMD_PAGES, (int64_t)n};
    MPI_Send(head, 2, MPI_INT64_T, 1, TAG_CMD, MPI_COMM_WORLD);
    for (uint64_t k = 0; k < n; k += BATCH) {
      uint64_t m = n - k < BATCH ? n - k : BATCH;
      int64_t *idx = (int64_t *)buf;
      unsigned char *data = buf + m * 8;
      for (uint64_t j = 0; j < m; j++) {
        uint64_t i = changed[k + j];
        idx[j] = (int64_t)i;
        memcpy(data + j * PAGE, mem + i * PAGE, PAGE);
        if (!final) sent[i] = page_hash(data + j * PAGE); /* exactly what travels, even if the page moved on since */
      }
      MPI_Send(buf, (int)(m * (8 + PAGE)), MPI_BYTE, 1, TAG_PAGES, MPI_COMM_WORLD);
    }
    int64_t ack;
    MPI_Recv(&ack, 1, MPI_INT64_T, 1, TAG_ACK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    double end = now_ms();
    uint64_t bytes = n * PAGE;
    total_bytes += bytes;
    printf("{\"event\":\"%s\",\"round\":%d,\"pages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"ms\":%.3f,\"hashMs\":%.3f,\"totalBytes\":%" PRIu64 "}\n",
           final ? "final" : "round", round, n, bytes, end - start, hashed - start, total_bytes);
    fflush(stdout);
    round++;
    if (final) break;
    command = read_command((int)pause_ms);
    if (command != IN_NONE && command != IN_FINAL) break;
  }
  int64_t head[2] = {command == IN_FINAL ? CMD_STOP : CMD_ABORT, 0};
  MPI_Send(head, 2, MPI_INT64_T, 1, TAG_CMD, MPI_COMM_WORLD);
  if (command != IN_FINAL) {
    printf("{\"event\":\"cancelled\",\"reason\":\"%s\",\"rounds\":%d,\"totalBytes\":%" PRIu64 "}\n", command == IN_SKIP ? "skip" : "cancel", round, total_bytes);
    fflush(stdout);
  }
  return 0;
}

static int replica(const char *path) {
  uint64_t size;
  MPI_Bcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  if (fd < 0) die("cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) die("cannot stat", path);
  if ((uint64_t)st.st_size != size && ftruncate(fd, (off_t)size) != 0) die("cannot size", path);
  unsigned char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) die("cannot map", path);
  uint64_t pages = size / PAGE;
  uint64_t *hashes = malloc(pages * 8);
  unsigned char *buf = malloc(BATCH * (8 + PAGE));
  if (!hashes || !buf) die("out of memory for", path);
  struct extents x = {fd, 0, 0};
  for (uint64_t i = 0; i < pages; i++) hashes[i] = hash_at(&x, mem, i);
  MPI_Send(hashes, (int)pages, MPI_UINT64_T, 0, TAG_HASHES, MPI_COMM_WORLD);
  for (;;) {
    int64_t head[2];
    MPI_Recv(head, 2, MPI_INT64_T, 0, TAG_CMD, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (head[0] != CMD_PAGES) break;
    for (int64_t k = 0; k < head[1]; k += BATCH) {
      int64_t m = head[1] - k < BATCH ? head[1] - k : BATCH;
      MPI_Recv(buf, (int)(m * (8 + PAGE)), MPI_BYTE, 0, TAG_PAGES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      const int64_t *idx = (const int64_t *)buf;
      for (int64_t j = 0; j < m; j++) {
        if (idx[j] < 0 || (uint64_t)idx[j] >= pages) { fprintf(stderr, "miglab-dsm: page %" PRId64 " out of range\n", idx[j]); MPI_Abort(MPI_COMM_WORLD, 2); }
        memcpy(mem + (uint64_t)idx[j] * PAGE, buf + m * 8 + (uint64_t)j * PAGE, PAGE);
      }
    }
    int64_t ack = head[1];
    MPI_Send(&ack, 1, MPI_INT64_T, 0, TAG_ACK, MPI_COMM_WORLD);
  }
  munmap(mem, size);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (argc < 3 || argc > 4 || ranks != 2) {
    if (rank == 0) fprintf(stderr, "usage: mpirun -np 2 %s SOURCE_RAM_FILE REPLICA_FILE [PAUSE_MS]  (rank 0 on the source node, rank 1 on the destination)\n", argv[0]);
    MPI_Finalize();
    return 2;
  }
  static const unsigned char zeros[PAGE];
  zero_hash = page_hash(zeros);
  double pause_ms = argc == 4 ? atof(argv[3]) : 20;
  int rc = rank == 0 ? source(argv[1], pause_ms) : replica(argv[2]);
  MPI_Finalize();
  return rc;
}
