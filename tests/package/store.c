/*
 * store.c -- a user's small PM program with a planted ordering bug, for the
 * pack-install test: compiled in a fresh project with $(npx pmfit cflags).
 *
 *   store create FILE    a 4096-byte file with no record
 *   store set FILE N     store record N
 *   store check FILE     exit 0 when the file holds no record or a whole one
 *
 * The record's value and checksum share one cache line, its valid flag is
 * on another. The bug: set persists the flag first, then the value and
 * checksum, so a crash in between leaves a valid flag over an empty record.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pmfit.h"

struct pool {
	uint64_t value;
	uint64_t checksum;
	uint8_t pad[48];
	uint64_t valid;
};

static uint64_t checksum_of(uint64_t value)
{
	return value * 0x9e3779b97f4a7c15ull + 1;
}

static void persist(const void *addr)
{
	__asm__ __volatile__("clflush (%0)\n\tsfence" ::"r"(addr) : "memory");
}

static struct pool *open_pool(const char *file, int create)
{
	int fd = open(file, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR, 0644);
	if (fd < 0 || (create && ftruncate(fd, 4096) != 0)) {
		perror(file);
		exit(2);
	}
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	close(fd);
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (strcmp(argv[1], "create") == 0) {
		open_pool(argv[2], 1);
		return 0;
	}
	struct pool *pool = open_pool(argv[2], 0);
	if (strcmp(argv[1], "set") == 0 && argc == 4) {
		uint64_t value = strtoull(argv[3], NULL, 10);
		pmfit_region_begin();
		pool->valid = 1; /* the bug: the flag before the data */
		persist(&pool->valid);
		pool->value = value;
		pool->checksum = checksum_of(value);
		persist(&pool->value);
		pmfit_region_end();
		return 0;
	}
	if (strcmp(argv[1], "check") == 0) {
		if (pool->valid && pool->checksum != checksum_of(pool->value)) {
			printf("valid record with a wrong checksum: value %llu\n", (unsigned long long)pool->value);
			return 1;
		}
		return 0;
	}
	return 2;
}
