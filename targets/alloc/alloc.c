/*
 * alloc.c -- a crash-consistent pool allocator over a persistent-memory file
 *
 * On-media format (alloc.h has the details): page 0 unused; static area of
 * 512 u64 root slots at 4096; guard page at 8192; header at 12288
 * ("PMFIT-ALLOC-v1", then the total size at 12304); clumps from 16384, each
 * a 64-byte header (u64 size|state, three (offset, value) pending
 * assignments) followed by its data; a zero header at size - 64 ends the
 * chain. This file has no CLI of its own: see main.c (alloc) and tree.c.
 *
 * The on-media format and the states are described in alloc.h. The rule
 * that makes it crash consistent: every change to the clump chain is a single
 * aligned 8-byte store (atomic with respect to power failure, as it cannot
 * tear inside a cache line), persisted before the next step starts, and the
 * order of the steps is such that recovery can always tell what to do from
 * the state of each clump:
 *
 *   reserve:  write and persist the new FREE clump of a split (invisible
 *             until the size of the clump it is carved from shrinks), clear
 *             and persist the pending list, then set size|RESERVED.
 *   onactive/onfree: value first, persist, then the offset (which is what
 *             makes the slot pending), persist.
 *   activate: persist the data, set ACTIVATING, do each assignment and
 *             persist it, clear the list, set ACTIVE. Recovery redoes the
 *             assignments of an ACTIVATING clump (they are idempotent).
 *   free:     the same with FREEING and FREE, then coalesce with the free
 *             neighbours, one persisted size store per merge.
 *
 * Stores that must reach a line in a given order are volatile (so the
 * compiler neither reorders nor merges them) and, within one line, follow
 * program order; a power failure can leave any of the line's intermediate
 * versions, so each of them must make sense to recovery.
 */
#define _GNU_SOURCE
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpmem.h"
#include "pmfit.h"

static const char *const State_names[] = {
	[0] = "INVALID",
	[ALLOC_FREE] = "FREE",
	[ALLOC_RESERVED] = "RESERVED",
	[ALLOC_ACTIVATING] = "ACTIVATING",
	[ALLOC_ACTIVE] = "ACTIVE",
	[ALLOC_FREEING] = "FREEING",
};

/*
 * alloc_state_name -- printable name of a state value
 */
const char *
alloc_state_name(unsigned state)
{
	if (state >= ALLOC_FREE && state <= ALLOC_FREEING)
		return State_names[state];
	return State_names[0];
}

/*
 * seterr -- record a message for the caller in pool->err
 */
__attribute__((format(printf, 2, 3)))
static void
seterr(struct alloc_pool *pool, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pool->err, sizeof(pool->err), fmt, ap);
	va_end(ap);
}

/*
 * fmterr -- format a message into a caller's buffer (may be NULL)
 */
__attribute__((format(printf, 3, 4)))
static void
fmterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * store64 -- one 8-byte store that the compiler may not drop, merge or move
 * across other volatile stores
 */
static inline void
store64(uint64_t *p, uint64_t v)
{
	*(volatile uint64_t *)p = v;
}

/*
 * load64 -- one 8-byte load from PM (the image may change under a crash
 * test's feet only between runs, but a volatile read keeps the order of
 * reads and writes obvious)
 */
static inline uint64_t
load64(const uint64_t *p)
{
	return *(const volatile uint64_t *)p;
}

/*
 * clump -- the header of the clump at heap offset OFF
 */
static inline struct alloc_clump *
clump(const struct alloc_pool *pool, uint64_t off)
{
	return (struct alloc_clump *)(pool->base + off);
}

#define SIZE_OF(ss) ((ss) & ~(uint64_t)ALLOC_STATE_MASK)
#define STATE_OF(ss) ((unsigned)((ss) & ALLOC_STATE_MASK))

/* offset of the chain terminator */
static inline uint64_t
heap_end(const struct alloc_pool *pool)
{
	return pool->size - ALLOC_CHUNK;
}

/*
 * clear_pending -- drop every pending assignment of C and persist
 *
 * Each slot's offset goes first: a slot is pending exactly when its offset
 * is non-zero, so every intermediate version of the line has only whole
 * assignments pending.
 */
static void
clear_pending(struct alloc_clump *c)
{
	for (int i = 0; i < ALLOC_NPENDING; i++) {
		store64(&c->pending[i].off, 0);
		store64(&c->pending[i].val, 0);
	}
	pmem_persist(c, sizeof(*c));
}

/*
 * set_size_state -- the one store that moves a clump to a new state or size
 */
static void
set_size_state(struct alloc_clump *c, uint64_t size, unsigned state)
{
	store64(&c->size_state, size | state);
	pmem_persist(&c->size_state, sizeof(c->size_state));
}

/*
 * run_pending -- perform the pending assignments of C, each persisted
 */
static void
run_pending(struct alloc_pool *pool, struct alloc_clump *c)
{
	for (int i = 0; i < ALLOC_NPENDING; i++) {
		uint64_t off = load64(&c->pending[i].off);
		if (off == 0)
			continue;
		uint64_t *target = (uint64_t *)alloc_at(pool, off);
		store64(target, load64(&c->pending[i].val));
		pmem_persist(target, sizeof(*target));
	}
}

/*
 * alloc_target_ok -- may a pending assignment store to OFF?
 *
 * It must be an aligned word of the static area or of the heap (callers of
 * onactive/onfree are trusted not to point into a clump header; recovery
 * checks that too, see target_in_data).
 */
int
alloc_target_ok(const struct alloc_pool *pool, uint64_t off)
{
	if (off % 8 != 0)
		return 0;
	if (off >= ALLOC_STATIC_OFF &&
			off + 8 <= ALLOC_STATIC_OFF + ALLOC_STATIC_SIZE)
		return 1;
	return off >= ALLOC_HEAP_OFF && off + 8 <= heap_end(pool);
}

/*
 * alloc_create -- create and format a new pool file (see alloc.h)
 *
 * The first clump is written before the header: a file without the
 * signature is not a pool, so a crash during creation leaves no half pool.
 * Formatting is a traced region (the file exists and is mapped by then), so
 * that pmfit explores crashes inside creation like any other operation.
 */
int
alloc_create(const char *path, uint64_t size, char *err, size_t errlen)
{
	if (size % ALLOC_CHUNK != 0 || size < ALLOC_MIN_SIZE ||
			size > ALLOC_MAX_SIZE) {
		fmterr(err, errlen, "bad pool size %" PRIu64 " (a multiple of "
				"64 from %u to %llu)", size,
				ALLOC_MIN_SIZE, ALLOC_MAX_SIZE);
		errno = EINVAL;
		return -1;
	}

	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0666);
	if (fd < 0) {
		fmterr(err, errlen, "cannot create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		fmterr(err, errlen, "cannot set size: %s", strerror(errno));
		goto fail;
	}

	char *base = pmem_map(fd, size);
	if (base == NULL) {
		fmterr(err, errlen, "cannot map: %s", strerror(errno));
		goto fail;
	}
	struct alloc_pool pool = { .fd = fd, .base = base, .size = size };

	pmfit_region_begin();
	/* the fresh file is all zeros: pending lists and terminator are set */
	struct alloc_clump *first = clump(&pool, ALLOC_HEAP_OFF);
	set_size_state(first, heap_end(&pool) - ALLOC_HEAP_OFF, ALLOC_FREE);

	struct alloc_hdr *hdr = alloc_at(&pool, ALLOC_HDR_OFF);
	hdr->size = size;
	memcpy(hdr->signature, ALLOC_SIGNATURE, sizeof(ALLOC_SIGNATURE));
	pmem_persist(hdr, sizeof(*hdr));
	pmfit_region_end();

	pmem_unmap(base, size);
	if (close(fd) != 0) {
		fmterr(err, errlen, "cannot close: %s", strerror(errno));
		return -1;
	}
	return 0;
fail:
	close(fd);
	unlink(path);
	return -1;
}

/*
 * alloc_map -- open, map and check the header of a pool (see alloc.h)
 */
struct alloc_pool *
alloc_map(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		fmterr(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}

	struct stat st;
	if (fstat(fd, &st) != 0) {
		fmterr(err, errlen, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fmterr(err, errlen, "not a regular file");
		goto fail;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (size < ALLOC_MIN_SIZE || size % ALLOC_CHUNK != 0 ||
			size > ALLOC_MAX_SIZE) {
		fmterr(err, errlen, "not a pool (size %" PRIu64 ")", size);
		goto fail;
	}

	char *base = pmem_map(fd, size);
	if (base == NULL) {
		fmterr(err, errlen, "cannot map: %s", strerror(errno));
		goto fail;
	}
	const struct alloc_hdr *hdr =
		(const struct alloc_hdr *)(base + ALLOC_HDR_OFF);
	if (memcmp(hdr->signature, ALLOC_SIGNATURE,
				sizeof(ALLOC_SIGNATURE)) != 0) {
		fmterr(err, errlen, "not a pool (bad signature)");
		goto unmap;
	}
	if (hdr->size != size) {
		fmterr(err, errlen, "pool header says %" PRIu64
				" bytes, the file has %" PRIu64,
				hdr->size, size);
		goto unmap;
	}

	struct alloc_pool *pool = calloc(1, sizeof(*pool));
	if (pool == NULL) {
		fmterr(err, errlen, "out of memory");
		goto unmap;
	}
	pool->fd = fd;
	pool->base = base;
	pool->size = size;
	return pool;

unmap:
	pmem_unmap(base, size);
fail:
	close(fd);
	return NULL;
}

/*
 * alloc_close -- unmap and close a pool
 */
void
alloc_close(struct alloc_pool *pool)
{
	if (pool == NULL)
		return;
	pmem_unmap(pool->base, pool->size);
	close(pool->fd);
	free(pool);
}

/*
 * check_chain -- walk the clump chain without changing anything
 *
 * Returns 0 when it covers the heap exactly with valid states, else -1 with
 * pool->err describing the first problem. Sizes only grow the offset, so the
 * walk ends.
 */
static int
check_chain(struct alloc_pool *pool)
{
	uint64_t end = heap_end(pool);
	uint64_t off = ALLOC_HEAP_OFF;
	for (;;) {
		uint64_t ss = load64(&clump(pool, off)->size_state);
		if (ss == 0) {
			if (off != end) {
				seterr(pool, "clump chain ends at %" PRIu64
						", expected %" PRIu64,
						off, end);
				return -1;
			}
			return 0;
		}
		uint64_t size = SIZE_OF(ss);
		unsigned state = STATE_OF(ss);
		if (size == 0 || size > end - off) {
			seterr(pool, "clump at %" PRIu64 " has bad size %"
					PRIu64, off, size);
			return -1;
		}
		if (state < ALLOC_FREE || state > ALLOC_FREEING) {
			seterr(pool, "clump at %" PRIu64 " has bad state %u",
					off, state);
			return -1;
		}
		off += size;
	}
}

/*
 * target_in_data -- is OFF a word in the static area or in a clump's data?
 *
 * Recovery uses it before redoing an assignment read back from the pool, so
 * that a damaged pending list cannot make it overwrite a clump header.
 */
static int
target_in_data(struct alloc_pool *pool, uint64_t off)
{
	if (!alloc_target_ok(pool, off))
		return 0;
	if (off < ALLOC_HEAP_OFF)
		return 1;
	uint64_t c = ALLOC_HEAP_OFF;
	for (;;) {
		uint64_t size = SIZE_OF(load64(&clump(pool, c)->size_state));
		if (size == 0)
			return 0;
		if (off < c + size)
			return off >= c + ALLOC_CHUNK;
		c += size;
	}
}

/*
 * coalesce_next -- merge the FREE clump at OFF with the FREE clumps after it
 *
 * One persisted store per merge; the absorbed header becomes plain data.
 * Returns the number of merges.
 */
static unsigned
coalesce_next(struct alloc_pool *pool, uint64_t off)
{
	unsigned merges = 0;
	struct alloc_clump *c = clump(pool, off);
	uint64_t size = SIZE_OF(load64(&c->size_state));
	for (;;) {
		uint64_t nss = load64(&clump(pool, off + size)->size_state);
		if (nss == 0 || STATE_OF(nss) != ALLOC_FREE)
			return merges;
		size += SIZE_OF(nss);
		set_size_state(c, size, ALLOC_FREE);
		merges++;
	}
}

/*
 * alloc_recover -- bring a mapped pool to a consistent state (see alloc.h)
 */
int
alloc_recover(struct alloc_pool *pool, struct alloc_recovery *rec)
{
	struct alloc_recovery dummy;
	if (rec == NULL)
		rec = &dummy;
	memset(rec, 0, sizeof(*rec));

	if (check_chain(pool) != 0)
		return -1;

	/* refuse before writing anything if a redo would store off limits */
	for (uint64_t off = ALLOC_HEAP_OFF;;) {
		struct alloc_clump *c = clump(pool, off);
		uint64_t ss = load64(&c->size_state);
		if (ss == 0)
			break;
		unsigned state = STATE_OF(ss);
		if (state == ALLOC_ACTIVATING || state == ALLOC_FREEING)
			for (int i = 0; i < ALLOC_NPENDING; i++) {
				uint64_t t = load64(&c->pending[i].off);
				if (t != 0 && !target_in_data(pool, t)) {
					seterr(pool, "%s clump at %" PRIu64
						" has a pending assignment to "
						"bad offset %" PRIu64,
						alloc_state_name(state),
						off, t);
					return -1;
				}
			}
		off += SIZE_OF(ss);
	}

	for (uint64_t off = ALLOC_HEAP_OFF;;) {
		struct alloc_clump *c = clump(pool, off);
		uint64_t ss = load64(&c->size_state);
		if (ss == 0)
			break;
		uint64_t size = SIZE_OF(ss);
		int npending = 0;
		for (int i = 0; i < ALLOC_NPENDING; i++)
			npending += load64(&c->pending[i].off) != 0;

		switch (STATE_OF(ss)) {
		case ALLOC_RESERVED:
			/* nobody can know about it: give it back */
			if (npending)
				clear_pending(c);
			set_size_state(c, size, ALLOC_FREE);
			rec->reserved++;
			break;
		case ALLOC_ACTIVATING:
			run_pending(pool, c);
			clear_pending(c);
			set_size_state(c, size, ALLOC_ACTIVE);
			rec->activated++;
			break;
		case ALLOC_FREEING:
			run_pending(pool, c);
			clear_pending(c);
			set_size_state(c, size, ALLOC_FREE);
			rec->freed++;
			break;
		default:
			/* onfree recorded, free never started; or leftovers */
			if (npending) {
				clear_pending(c);
				rec->dropped += (unsigned)npending;
			}
			break;
		}
		off += size;
	}

	for (uint64_t off = ALLOC_HEAP_OFF;;) {
		uint64_t ss = load64(&clump(pool, off)->size_state);
		if (ss == 0)
			break;
		if (STATE_OF(ss) == ALLOC_FREE) {
			rec->coalesced += coalesce_next(pool, off);
			ss = load64(&clump(pool, off)->size_state);
		}
		off += SIZE_OF(ss);
	}
	return 0;
}

/*
 * alloc_open -- map and recover a pool
 */
struct alloc_pool *
alloc_open(const char *path, struct alloc_recovery *rec, char *err,
		size_t errlen)
{
	struct alloc_pool *pool = alloc_map(path, err, errlen);
	if (pool == NULL)
		return NULL;
	/* the region pmfit crashes to test recovery itself (--depth 2) */
	pmfit_recovery_begin();
	int ret = alloc_recover(pool, rec);
	pmfit_recovery_end();
	if (ret != 0) {
		fmterr(err, errlen, "damaged pool: %s", pool->err);
		alloc_close(pool);
		return NULL;
	}
	return pool;
}

/*
 * report -- print one verification problem
 */
__attribute__((format(printf, 3, 4)))
static void
report(FILE *out, const char *prefix, const char *fmt, ...)
{
	if (out == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs(prefix, out);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	va_end(ap);
}

/*
 * alloc_verify -- check the post-recovery invariants (see alloc.h)
 */
unsigned
alloc_verify(struct alloc_pool *pool, FILE *out, const char *prefix,
		struct alloc_stats *stats)
{
	unsigned problems = 0;
	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));

	if (check_chain(pool) != 0) {
		report(out, prefix, "%s", pool->err);
		return 1;
	}

	unsigned prev_state = 0;
	for (uint64_t off = ALLOC_HEAP_OFF;;) {
		struct alloc_clump *c = clump(pool, off);
		uint64_t ss = load64(&c->size_state);
		if (ss == 0)
			break;
		uint64_t size = SIZE_OF(ss);
		unsigned state = STATE_OF(ss);

		if (state != ALLOC_FREE && state != ALLOC_ACTIVE) {
			report(out, prefix, "clump at %" PRIu64 " is %s",
					off, alloc_state_name(state));
			problems++;
		}
		for (int i = 0; i < ALLOC_NPENDING; i++) {
			uint64_t t = load64(&c->pending[i].off);
			if (t != 0) {
				report(out, prefix, "clump at %" PRIu64
					" has a pending assignment to %"
					PRIu64, off, t);
				problems++;
			}
		}
		if (state == ALLOC_FREE && prev_state == ALLOC_FREE) {
			report(out, prefix, "clump at %" PRIu64 " is FREE "
					"after a FREE clump (not coalesced)",
					off);
			problems++;
		}
		if (stats != NULL) {
			__typeof__(stats->state[0]) *s = &stats->state[state];
			s->bytes += size;
			s->clumps++;
			if (size > s->largest)
				s->largest = size;
			if (s->smallest == 0 || size < s->smallest)
				s->smallest = size;
		}
		prev_state = state;
		off += size;
	}
	return problems;
}

/*
 * alloc_reserve -- first-fit reservation (see alloc.h)
 *
 * The remainder of a split becomes a FREE clump when it is at least two
 * chunks; a one-chunk remainder (a bare header) stays in the reservation.
 */
uint64_t
alloc_reserve(struct alloc_pool *pool, uint64_t size)
{
	if (size > pool->size) {
		seterr(pool, "no room for %" PRIu64 " bytes", size);
		return 0;
	}
	uint64_t need = (size + ALLOC_CHUNK - 1) / ALLOC_CHUNK * ALLOC_CHUNK +
		ALLOC_CHUNK;

	uint64_t off = ALLOC_HEAP_OFF;
	uint64_t csize;
	for (;;) {
		uint64_t ss = load64(&clump(pool, off)->size_state);
		if (ss == 0) {
			seterr(pool, "no free clump for %" PRIu64 " bytes",
					size);
			return 0;
		}
		csize = SIZE_OF(ss);
		if (STATE_OF(ss) == ALLOC_FREE && csize >= need)
			break;
		off += csize;
	}

	struct alloc_clump *c = clump(pool, off);
	if (csize - need >= 2 * ALLOC_CHUNK) {
		/* not part of the chain until c's size shrinks below */
		struct alloc_clump *rest = clump(pool, off + need);
		for (int i = 0; i < ALLOC_NPENDING; i++) {
			store64(&rest->pending[i].off, 0);
			store64(&rest->pending[i].val, 0);
		}
		store64(&rest->size_state, (csize - need) | ALLOC_FREE);
		pmem_persist(rest, sizeof(*rest));
		csize = need;
	}
	clear_pending(c);
	set_size_state(c, csize, ALLOC_RESERVED);
	return off + ALLOC_CHUNK;
}

/*
 * header_of -- the clump header of data offset PTR when PTR could be one
 *
 * Cheap shape check only (alignment and range); alloc_lookup does the full
 * chain walk. Sets pool->err and returns NULL when PTR is impossible.
 */
static struct alloc_clump *
header_of(struct alloc_pool *pool, uint64_t ptr)
{
	if (ptr < ALLOC_HEAP_OFF + ALLOC_CHUNK || ptr >= heap_end(pool) ||
			ptr % ALLOC_CHUNK != 0) {
		seterr(pool, "%" PRIu64 " is not a clump's data offset", ptr);
		return NULL;
	}
	return clump(pool, ptr - ALLOC_CHUNK);
}

/*
 * add_pending -- record one pending assignment in the clump at PTR, which
 * must be in state WANT
 */
static int
add_pending(struct alloc_pool *pool, uint64_t ptr, unsigned want,
		uint64_t parentp, uint64_t value)
{
	struct alloc_clump *c = header_of(pool, ptr);
	if (c == NULL)
		return -1;
	unsigned state = STATE_OF(load64(&c->size_state));
	if (state != want) {
		seterr(pool, "clump at %" PRIu64 " is %s, not %s",
				ptr - ALLOC_CHUNK, alloc_state_name(state),
				alloc_state_name(want));
		return -1;
	}
	if (!alloc_target_ok(pool, parentp)) {
		seterr(pool, "cannot assign to offset %" PRIu64, parentp);
		return -1;
	}
	for (int i = 0; i < ALLOC_NPENDING; i++) {
		struct alloc_assign *a = &c->pending[i];
		if (load64(&a->off) != 0)
			continue;
		/* the value must be durable before the slot becomes pending */
		store64(&a->val, value);
		pmem_persist(&a->val, sizeof(a->val));
		store64(&a->off, parentp);
		pmem_persist(&a->off, sizeof(a->off));
		return 0;
	}
	seterr(pool, "clump at %" PRIu64 " already has %d pending assignments",
			ptr - ALLOC_CHUNK, ALLOC_NPENDING);
	return -1;
}

/*
 * alloc_onactive -- record an assignment to do at activation
 */
int
alloc_onactive(struct alloc_pool *pool, uint64_t ptr, uint64_t parentp,
		uint64_t value)
{
	return add_pending(pool, ptr, ALLOC_RESERVED, parentp, value);
}

/*
 * alloc_onfree -- record an assignment to do when freeing
 */
int
alloc_onfree(struct alloc_pool *pool, uint64_t ptr, uint64_t parentp,
		uint64_t value)
{
	return add_pending(pool, ptr, ALLOC_ACTIVE, parentp, value);
}

/*
 * transition -- FROM -> VIA (assignments) -> TO for the clump at PTR
 *
 * Shared by activate and free; each step is persisted before the next, so
 * a crash anywhere leaves FROM (nothing happened), VIA (recovery redoes the
 * assignments and finishes) or TO.
 */
static int
transition(struct alloc_pool *pool, uint64_t ptr, unsigned from,
		unsigned via, unsigned to)
{
	struct alloc_clump *c = header_of(pool, ptr);
	if (c == NULL)
		return -1;
	uint64_t ss = load64(&c->size_state);
	if (STATE_OF(ss) != from) {
		seterr(pool, "clump at %" PRIu64 " is %s, not %s",
				ptr - ALLOC_CHUNK,
				alloc_state_name(STATE_OF(ss)),
				alloc_state_name(from));
		return -1;
	}
	uint64_t size = SIZE_OF(ss);

	if (from == ALLOC_RESERVED)
		pmem_persist(alloc_at(pool, ptr), size - ALLOC_CHUNK);

	set_size_state(c, size, via);
	run_pending(pool, c);
	clear_pending(c);
	set_size_state(c, size, to);
	return 0;
}

/*
 * alloc_activate -- make a reserved clump active (see alloc.h)
 */
int
alloc_activate(struct alloc_pool *pool, uint64_t ptr)
{
	return transition(pool, ptr, ALLOC_RESERVED, ALLOC_ACTIVATING,
			ALLOC_ACTIVE);
}

/*
 * alloc_free -- free an active clump and coalesce it (see alloc.h)
 *
 * Coalescing with the previous clump needs its offset, which the chain
 * (singly linked) only gives by walking it from the start.
 */
int
alloc_free(struct alloc_pool *pool, uint64_t ptr)
{
	if (transition(pool, ptr, ALLOC_ACTIVE, ALLOC_FREEING, ALLOC_FREE))
		return -1;

	uint64_t off = ptr - ALLOC_CHUNK;
	coalesce_next(pool, off);

	uint64_t prev = 0;
	uint64_t c = ALLOC_HEAP_OFF;
	while (c < off) {
		uint64_t size = SIZE_OF(load64(&clump(pool, c)->size_state));
		if (size == 0)
			break;
		prev = c;
		c += size;
	}
	/* a damaged chain (c != off) is left to recovery */
	if (c == off && prev != 0 &&
		STATE_OF(load64(&clump(pool, prev)->size_state)) == ALLOC_FREE)
		coalesce_next(pool, prev);
	return 0;
}

/*
 * alloc_lookup -- state of the clump whose data is at PTR, -1 if none
 */
int
alloc_lookup(struct alloc_pool *pool, uint64_t ptr, uint64_t *datasize)
{
	for (uint64_t c = ALLOC_HEAP_OFF;;) {
		uint64_t ss = load64(&clump(pool, c)->size_state);
		uint64_t size = SIZE_OF(ss);
		if (ss == 0 || size == 0 || size > heap_end(pool) - c ||
				c + ALLOC_CHUNK > ptr)
			break;
		if (c + ALLOC_CHUNK == ptr) {
			if (datasize != NULL)
				*datasize = size - ALLOC_CHUNK;
			return (int)STATE_OF(ss);
		}
		c += size;
	}
	seterr(pool, "%" PRIu64 " is not the data of any clump", ptr);
	return -1;
}

/*
 * alloc_datasize -- data bytes of the clump whose data is at PTR
 */
uint64_t
alloc_datasize(struct alloc_pool *pool, uint64_t ptr)
{
	return SIZE_OF(load64(&clump(pool, ptr - ALLOC_CHUNK)->size_state)) -
		ALLOC_CHUNK;
}
