/*
 * idle_threads.c -- bench:threads's traced program: main runs REGIONS
 * regions of STORES stores each (a store per line of the first 4 KiB of
 * FILE, then a clwb of the line and an sfence every 8 stores) while IDLE
 * other threads never touch PM:
 *
 *   idle_threads sleep IDLE REGIONS STORES FILE   they wait on a condition
 *                                                 variable until main is done
 *   idle_threads work IDLE REGIONS STORES FILE    they compute (no system
 *                                                 call, no PM) until main is
 *                                                 done
 *
 * Exit status 0; usage errors 2.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fixture.h"
#include "pmfit.h"

static void *
worker(void *arg)
{
	volatile uint64_t sum = (uint64_t)(intptr_t)arg;
	while (!fixture_idle_released())
		sum = sum * 6364136223846793005ull + 1;
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: idle_threads sleep|work IDLE REGIONS STORES FILE\n");
		return 2;
	}
	const int sleeping = strcmp(argv[1], "sleep") == 0;
	const int idle = atoi(argv[2]);
	const int regions = atoi(argv[3]);
	const int stores = atoi(argv[4]);
	volatile uint64_t *pm = fixture_map(argv[5], 4096);
	pthread_t *t = calloc((size_t)idle + 1, sizeof(*t));
	for (int i = 0; i < idle; i++)
		pthread_create(&t[i], NULL, sleeping ? fixture_idle : worker, (void *)(intptr_t)i);
	for (int r = 0; r < regions; r++) {
		pmfit_region_begin();
		for (int i = 0; i < stores; i++) {
			volatile uint64_t *word = &pm[(i % 64) * 8];
			*word = (uint64_t)(r * stores + i);
			if (i % 8 == 7) {
				__asm__ __volatile__("clwb %0" : "+m"(*word));
				__asm__ __volatile__("sfence" ::: "memory");
			}
		}
		pmfit_region_end();
	}
	fixture_idle_release();
	for (int i = 0; i < idle; i++)
		pthread_join(t[i], NULL);
	free(t);
	return 0;
}
