/*
 * twolog.c -- a small multithreaded program to try pmfit on: two threads
 * append records to logs of their own in one 12 MiB file, mapped with plain
 * mmap(MAP_SHARED) and made durable with clwb and sfence (no library). A
 * record is a payload line and a commit line; the commit word may reach PM
 * only after the payload, so a crash never leaves a committed record that is
 * not whole. The threads need no lock (each has its own log), so their
 * appends are in flight at once; pmfit's schedules interleave them.
 *
 *   twolog create FILE              a fresh zeroed 12 MiB log file
 *   twolog append FILE N [--bug]    each of the two threads appends N
 *                                   records, each one pmfit region; --bug
 *                                   makes the commit durable before the
 *                                   payload is flushed
 *   twolog check FILE               exit 1 unless every committed record is
 *                                   whole; prints the committed count
 *
 * Build: cc $(npx pmfit cflags) -O2 -Wall twolog.c -o twolog -pthread
 */
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pmfit.h"

#define FILE_BYTES ((size_t)12 << 20)
#define THREADS 2
#define LOG_RECORDS (FILE_BYTES / THREADS / sizeof(struct record))
#define LINE 64

/* A record fills two cache lines: the payload's, then the commit word's. */
struct record {
	uint64_t seq;
	uint64_t data[6];
	uint64_t sum;
	uint64_t committed;
	uint64_t unused[7];
};

static struct record *Logs;
static int Appends;
static int Bug;

/* persist -- write back the lines of [p, p + len) and wait for them */
static void
persist(const void *p, size_t len)
{
	uintptr_t line = (uintptr_t)p & ~(uintptr_t)(LINE - 1);
	for (; line < (uintptr_t)p + len; line += LINE)
		__asm__ __volatile__("clwb %0" : "+m"(*(volatile char *)line));
	__asm__ __volatile__("sfence" ::: "memory");
}

static uint64_t
checksum(const struct record *r)
{
	uint64_t sum = r->seq;
	for (int i = 0; i < 6; i++)
		sum = sum * 31 + r->data[i];
	return sum;
}

static void *
appender(void *arg)
{
	struct record *log = Logs + (uintptr_t)arg * LOG_RECORDS;
	for (int i = 0; i < Appends; i++) {
		struct record *r = &log[i];
		pmfit_region_begin();
		r->seq = (uint64_t)i + 1;
		for (int k = 0; k < 6; k++)
			r->data[k] = (uintptr_t)arg * 1000 + (uint64_t)i * 10 + (uint64_t)k;
		r->sum = checksum(r);
		if (!Bug)
			persist(r, offsetof(struct record, committed));
		r->committed = 1;
		persist(&r->committed, sizeof(r->committed));
		if (Bug) /* too late: the commit may already be durable alone */
			persist(r, offsetof(struct record, committed));
		pmfit_region_end();
	}
	return NULL;
}

static int
check(void)
{
	int committed = 0, torn = 0;
	for (uintptr_t t = 0; t < THREADS; t++) {
		const struct record *log = Logs + t * LOG_RECORDS;
		for (size_t i = 0; i < LOG_RECORDS && log[i].committed; i++) {
			committed++;
			if (log[i].seq != i + 1 || log[i].sum != checksum(&log[i])) {
				printf("log %lu record %zu committed but not whole\n", (unsigned long)t, i);
				torn = 1;
			}
		}
	}
	printf("%d committed records\n", committed);
	return torn;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: twolog create|append|check FILE [N [--bug]]\n");
		return 2;
	}
	const int create = strcmp(argv[1], "create") == 0;
	int fd = open(argv[2], create ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0644);
	if (fd < 0 || (create && ftruncate(fd, FILE_BYTES) != 0)) {
		perror(argv[2]);
		return 2;
	}
	if (create)
		return close(fd) == 0 ? 0 : 2;
	Logs = mmap(NULL, FILE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (Logs == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	if (strcmp(argv[1], "check") == 0)
		return check();
	if (strcmp(argv[1], "append") != 0 || argc < 4) {
		fprintf(stderr, "usage: twolog append FILE N [--bug]\n");
		return 2;
	}
	Appends = atoi(argv[3]);
	Bug = argc > 4 && strcmp(argv[4], "--bug") == 0;
	pthread_t threads[THREADS];
	for (uintptr_t t = 0; t < THREADS; t++)
		pthread_create(&threads[t], NULL, appender, (void *)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);
	return 0;
}
