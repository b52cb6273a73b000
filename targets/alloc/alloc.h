/*
 * alloc.h -- a crash-consistent pool allocator over a persistent-memory file
 *
 * Pool file layout (all integers little-endian uint64, offsets from the
 * start of the file; "pointers" in the pool are such offsets, 0 is NULL):
 *
 *   0      page 0, unused, so that offset 0 is never a valid pointer
 *   4096   static area (4 KiB): the application's root pointers
 *   8192   guard page, unused
 *   12288  pool header: signature "PMFIT-ALLOC-v1" (16 bytes, NUL-padded),
 *          then at 12304 the total size of the pool (= the file size)
 *   16384  heap: 64-byte chunks grouped into clumps, up to size - 64
 *   size-64  chain terminator: a clump header whose first word is 0
 *
 * A clump starts with a 64-byte header, followed by its data:
 *
 *   +0   size | state   size of the clump in bytes, header included (a
 *                        multiple of 64); the state lives in the low 6 bits
 *   +8   pending[0]     offset of a pointer to set (0: slot unused)
 *   +16                 value to set it to
 *   +24  pending[1]     offset, value
 *   +40  pending[2]     offset, value
 *   +56  unused
 *
 * The clumps follow each other from 16384, each starting where the previous
 * one ends, and cover the heap exactly up to the terminator.
 *
 * States: FREE -> RESERVED -> ACTIVATING -> ACTIVE -> FREEING -> FREE.
 * A reserved clump belongs to nobody until it is activated: its pending
 * assignments (set by alloc_onactive) link it into the application's data at
 * activation, all or nothing. The same mechanism unlinks an active clump at
 * alloc_free (alloc_onfree). Recovery, run by alloc_open, returns RESERVED
 * clumps to FREE, finishes ACTIVATING and FREEING clumps, drops pending
 * assignments of FREE and ACTIVE clumps and coalesces adjacent FREE clumps.
 *
 * Every PM update is an aligned 8-byte store in a single line followed by
 * pmem_persist, in the order documented at each function.
 */
#ifndef PMFIT_ALLOC_H
#define PMFIT_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALLOC_STATIC_OFF 4096u
#define ALLOC_STATIC_SIZE 4096u
#define ALLOC_HDR_OFF 12288u
#define ALLOC_HEAP_OFF 16384u
#define ALLOC_CHUNK 64u
#define ALLOC_NPENDING 3
#define ALLOC_SIGNATURE "PMFIT-ALLOC-v1"
#define ALLOC_SIGNATURE_LEN 16
/* the smallest pool: one header-only clump and the terminator */
#define ALLOC_MIN_SIZE (ALLOC_HEAP_OFF + 2 * ALLOC_CHUNK)
/* a sanity limit on pool sizes (and on offsets read from a pool) */
#define ALLOC_MAX_SIZE (1ull << 40)

/* the root slot I of the static area (I in 0..511) */
#define ALLOC_ROOT(i) (ALLOC_STATIC_OFF + 8u * (uint64_t)(i))
#define ALLOC_NROOTS (ALLOC_STATIC_SIZE / 8)

enum alloc_state {
	ALLOC_FREE = 1,
	ALLOC_RESERVED = 2,
	ALLOC_ACTIVATING = 3,
	ALLOC_ACTIVE = 4,
	ALLOC_FREEING = 5,
};
#define ALLOC_STATE_MASK 63u

struct alloc_hdr {
	char signature[ALLOC_SIGNATURE_LEN];
	uint64_t size;
};

struct alloc_assign {
	uint64_t off;	/* where to store (0: unused slot) */
	uint64_t val;	/* what to store */
};

struct alloc_clump {
	uint64_t size_state;
	struct alloc_assign pending[ALLOC_NPENDING];
	uint64_t unused;
};

struct alloc_pool {
	int fd;
	char *base;
	uint64_t size;
	char err[256];	/* the last error, for the caller's message */
};

/* what recovery did */
struct alloc_recovery {
	unsigned reserved;	/* RESERVED clumps returned to FREE */
	unsigned activated;	/* ACTIVATING clumps finished */
	unsigned freed;		/* FREEING clumps finished */
	unsigned dropped;	/* pending assignments dropped (FREE, ACTIVE) */
	unsigned coalesced;	/* merges of adjacent FREE clumps */
};

/* per-state totals, for alloc check's table (index: enum alloc_state) */
struct alloc_stats {
	struct {
		uint64_t bytes, clumps, largest, smallest;
	} state[ALLOC_FREEING + 1];
};

/* alloc_state_name -- "FREE", "RESERVED"... or "INVALID" */
const char *alloc_state_name(unsigned state);

/*
 * alloc_create -- create the pool file PATH of SIZE bytes (a multiple of 64,
 * at least ALLOC_MIN_SIZE); fails if PATH exists. Returns 0, or -1 with a
 * message in ERR.
 */
int alloc_create(const char *path, uint64_t size, char *err, size_t errlen);

/*
 * alloc_map -- open and map the pool file PATH and check its header, without
 * recovering it. Returns NULL with a message in ERR on failure.
 */
struct alloc_pool *alloc_map(const char *path, char *err, size_t errlen);

/*
 * alloc_recover -- bring a mapped pool back to a consistent state (see
 * above); REC (may be NULL) receives what was done. Returns 0, or -1 (with
 * pool->err set) when the clump chain is damaged: nothing is changed then.
 */
int alloc_recover(struct alloc_pool *pool, struct alloc_recovery *rec);

/*
 * alloc_open -- alloc_map + alloc_recover. Returns NULL with a message in ERR
 * on failure.
 */
struct alloc_pool *alloc_open(const char *path, struct alloc_recovery *rec,
		char *err, size_t errlen);

/* alloc_close -- unmap and close */
void alloc_close(struct alloc_pool *pool);

/*
 * alloc_verify -- check the invariants that hold after recovery: the chain
 * covers the heap exactly, every clump is FREE or ACTIVE, no pending
 * assignments, no two adjacent FREE clumps. Each problem is printed to OUT
 * (may be NULL) as one line starting with PREFIX; STATS (may be NULL)
 * receives per-state totals. Returns the number of problems.
 */
unsigned alloc_verify(struct alloc_pool *pool, FILE *out, const char *prefix,
		struct alloc_stats *stats);

/*
 * alloc_reserve -- reserve a clump with at least SIZE bytes of data, first
 * fit. Returns the offset of its data, or 0 when no clump is large enough.
 */
uint64_t alloc_reserve(struct alloc_pool *pool, uint64_t size);

/*
 * alloc_onactive -- when the RESERVED clump at PTR is activated, store VALUE
 * at offset PARENTP. alloc_onfree -- the same when the ACTIVE clump at PTR is
 * freed. Up to ALLOC_NPENDING of them per clump. Return 0, or -1 with
 * pool->err set.
 */
int alloc_onactive(struct alloc_pool *pool, uint64_t ptr, uint64_t parentp,
		uint64_t value);
int alloc_onfree(struct alloc_pool *pool, uint64_t ptr, uint64_t parentp,
		uint64_t value);

/*
 * alloc_activate -- persist the data of the RESERVED clump at PTR and make it
 * ACTIVE, performing its pending assignments. alloc_free -- make the ACTIVE
 * clump at PTR FREE, performing its pending assignments, and coalesce it with
 * free neighbours. Return 0, or -1 with pool->err set (nothing changed).
 */
int alloc_activate(struct alloc_pool *pool, uint64_t ptr);
int alloc_free(struct alloc_pool *pool, uint64_t ptr);

/*
 * alloc_lookup -- the state of the clump whose data starts at PTR, or -1 when
 * PTR is not the data offset of any clump of the chain. *DATASIZE (may be
 * NULL) receives the clump's data size. Walks the chain: O(clumps).
 */
int alloc_lookup(struct alloc_pool *pool, uint64_t ptr, uint64_t *datasize);

/* alloc_datasize -- data bytes of the clump at PTR (trusted PTR) */
uint64_t alloc_datasize(struct alloc_pool *pool, uint64_t ptr);

/* alloc_target_ok -- may a pending assignment store to offset OFF? */
int alloc_target_ok(const struct alloc_pool *pool, uint64_t off);

/* alloc_at -- the address of pool offset OFF */
static inline void *
alloc_at(const struct alloc_pool *pool, uint64_t off)
{
	return pool->base + off;
}

/* alloc_load -- read the pointer-sized value at pool offset OFF */
static inline uint64_t
alloc_load(const struct alloc_pool *pool, uint64_t off)
{
	return *(const volatile uint64_t *)(pool->base + off);
}

#ifdef __cplusplus
}
#endif

#endif /* PMFIT_ALLOC_H */
