/*
 * txmap.c -- a hash map from 64-bit keys to 64-bit values in a libpmemobj
 * pool, changed only inside libpmemobj transactions
 *
 * Usage:
 *   txmap create FILE SIZE          create a pool of SIZE bytes (suffix K, M
 *                                   or G; at least libpmemobj's 8M minimum)
 *                                   holding an empty map
 *   txmap insert FILE KEY=VALUE...  set each KEY to VALUE, one transaction
 *                                   (and one pmfit region) per pair
 *   txmap check FILE                open the pool (libpmemobj rolls back an
 *                                   interrupted transaction), verify the map
 *                                   and print it: "KEY VALUE" lines in key
 *                                   order, then "entries N"
 *   txmap check-server              check every pool whose path is a line
 *                                   on stdin, printing on stderr what check
 *                                   prints, then "ok" or "fail ..." on
 *                                   stdout (pmfit's recover-server protocol)
 *
 * Exit status: 0 success, 1 failure (libpmemobj error, damaged map: check
 * prints each problem as a "violation: ..." line), 2 usage error.
 *
 * Pool layout "txmap": the root object holds TXMAP_BUCKETS bucket heads and,
 * in a cache line shared with padding only, the number of entries. A bucket is a singly
 * linked list of entries (key, value, next) whose keys are equal modulo
 * TXMAP_BUCKETS; a key appears at most once in the map. Entries have type
 * number TXMAP_ENTRY_TYPE, and every object of that type is in the map.
 *
 * Crash consistency: an insert is one transaction. Updating a key snapshots
 * its value (TX_ADD_FIELD) before storing the new one. A new key's entry is
 * allocated with TX_NEW (recovery frees it if the transaction does not
 * commit), filled in, and pushed on its bucket after the bucket head and the
 * count are snapshotted. After recovery the map is the one before or after
 * the interrupted insert.
 *
 * Deliberately broken builds, for testing the checker:
 *   -DTXMAP_BROKEN_NOADD  the count is incremented without TX_ADD: recovery
 *                         cannot roll it back, and the commit never flushes it
 *   -DTXMAP_BROKEN_LATE   the value is stored after the transaction commits,
 *                         and never persisted
 *
 * pmfit: libpmemobj builds its volatile heap state the first time a process
 * allocates (about a million instructions on an 8 MiB pool), so insert
 * reserves and cancels one entry before its first region: the regions are
 * then the transactions alone. Run under PMEM_IS_PMEM_FORCE=1 so that
 * libpmem persists with cache flushes and non-temporal stores, as on real
 * persistent memory, rather than msync.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemobj.h>

#include "pmfit.h"

#define TXMAP_LAYOUT "txmap"
#define TXMAP_BUCKETS 8
#define TXMAP_ENTRY_TYPE 1

struct txmap_entry;
TOID_DECLARE(struct txmap_entry, TXMAP_ENTRY_TYPE);

struct txmap_entry {
	uint64_t key;
	uint64_t value;
	TOID(struct txmap_entry) next;
};

struct txmap_root {
	TOID(struct txmap_entry) buckets[TXMAP_BUCKETS];
	/*
	 * The count shares its cache line with padding only, wherever the
	 * allocator puts the root (objects are 16-byte aligned): flushing a
	 * bucket head never writes the count back with it.
	 */
	char pad_before[64];
	uint64_t count;
	char pad_after[56];
};
TOID_DECLARE_ROOT(struct txmap_root);

static int
usage(void)
{
	fprintf(stderr, "usage: txmap create FILE SIZE | insert FILE KEY=VALUE... | check FILE | check-server\n");
	return 2;
}

/* parse_size -- "16M" and the like; 0 on a malformed size */
static size_t
parse_size(const char *text)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	if (errno != 0 || end == text || text[0] == '-')
		return 0;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: return 0;
	}
	if (*end != '\0' || n > (SIZE_MAX >> shift))
		return 0;
	return (size_t)n << shift;
}

/* parse_pair -- "KEY=VALUE", both unsigned decimal; -1 when malformed */
static int
parse_pair(const char *text, uint64_t *key, uint64_t *value)
{
	char *end;
	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	*key = strtoull(text, &end, 10);
	if (errno != 0 || *end != '=' || end[1] < '0' || end[1] > '9')
		return -1;
	*value = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return 0;
}

static int
create(const char *path, size_t size)
{
	PMEMobjpool *pop = pmemobj_create(path, TXMAP_LAYOUT, size, 0644);
	if (pop == NULL) {
		fprintf(stderr, "txmap: %s: %s\n", path, pmemobj_errormsg());
		return 1;
	}
	/* allocates the (zeroed) root: an empty map */
	TOID(struct txmap_root) root = POBJ_ROOT(pop, struct txmap_root);
	int ok = !TOID_IS_NULL(root);
	if (!ok)
		fprintf(stderr, "txmap: %s: %s\n", path, pmemobj_errormsg());
	pmemobj_close(pop);
	return ok ? 0 : 1;
}

/* find -- the entry of key, or a null TOID */
static TOID(struct txmap_entry)
find(const struct txmap_root *r, uint64_t key)
{
	TOID(struct txmap_entry) entry;
	for (entry = r->buckets[key % TXMAP_BUCKETS]; !TOID_IS_NULL(entry); entry = D_RO(entry)->next)
		if (D_RO(entry)->key == key)
			break;
	return entry;
}

/* insert_tx -- the body of insert's transaction */
static void
insert_tx(TOID(struct txmap_root) root, uint64_t key, uint64_t value)
{
	struct txmap_root *r = D_RW(root);
	TOID(struct txmap_entry) entry = find(r, key);
	if (TOID_IS_NULL(entry)) {
		size_t bucket = key % TXMAP_BUCKETS;
		entry = TX_NEW(struct txmap_entry);
		D_RW(entry)->key = key;
		D_RW(entry)->next = r->buckets[bucket];
#ifndef TXMAP_BROKEN_LATE
		D_RW(entry)->value = value;
#endif
		TX_ADD_FIELD(root, buckets[bucket]);
		r->buckets[bucket] = entry;
#ifndef TXMAP_BROKEN_NOADD
		TX_ADD_FIELD(root, count);
#endif
		r->count++;
	} else {
#ifndef TXMAP_BROKEN_LATE
		TX_ADD_FIELD(entry, value);
		D_RW(entry)->value = value;
#endif
	}
#ifdef TXMAP_BROKEN_LATE
	(void)value;
#endif
}

/* insert -- set key to value in one transaction; 0 on success */
static int
insert(PMEMobjpool *pop, const TOID(struct txmap_root) *root, uint64_t key, uint64_t value)
{
	/* volatile: read after a longjmp out of the transaction */
	volatile int failed = 0;

	TX_BEGIN(pop) {
		insert_tx(*root, key, value);
	} TX_ONABORT {
		failed = 1;
	} TX_END

	if (failed) {
		fprintf(stderr, "txmap: insert %" PRIu64 ": %s\n", key, pmemobj_errormsg());
		return 1;
	}
#ifdef TXMAP_BROKEN_LATE
	D_RW(find(D_RO(*root), key))->value = value;
#endif
	return 0;
}

/* warm_up -- build libpmemobj's volatile heap state for entries, changing nothing in the pool */
static int
warm_up(PMEMobjpool *pop)
{
	struct pobj_action action;
	PMEMoid oid = pmemobj_reserve(pop, &action, sizeof(struct txmap_entry), TXMAP_ENTRY_TYPE);
	if (OID_IS_NULL(oid)) {
		fprintf(stderr, "txmap: reserve: %s\n", pmemobj_errormsg());
		return 1;
	}
	pmemobj_cancel(pop, &action, 1);
	return 0;
}

static int
insert_all(const char *path, int npairs, char *pairs[])
{
	uint64_t key, value;
	for (int i = 0; i < npairs; i++) {
		if (parse_pair(pairs[i], &key, &value) != 0) {
			fprintf(stderr, "txmap: %s: not KEY=VALUE (unsigned decimal numbers)\n", pairs[i]);
			return 2;
		}
	}
	PMEMobjpool *pop = pmemobj_open(path, TXMAP_LAYOUT);
	if (pop == NULL) {
		fprintf(stderr, "txmap: %s: %s\n", path, pmemobj_errormsg());
		return 1;
	}
	TOID(struct txmap_root) root = POBJ_ROOT(pop, struct txmap_root);
	int status = TOID_IS_NULL(root) || warm_up(pop) != 0;
	for (int i = 0; i < npairs && status == 0; i++) {
		parse_pair(pairs[i], &key, &value);
		pmfit_region_begin();
		status = insert(pop, &root, key, value);
		pmfit_region_end();
	}
	pmemobj_close(pop);
	return status;
}

struct found {
	uint64_t key;
	uint64_t value;
};

static int
by_key(const void *a, const void *b)
{
	uint64_t x = ((const struct found *)a)->key, y = ((const struct found *)b)->key;
	return x < y ? -1 : x > y;
}

/* check -- recover, verify and print the map to out; 0 when it is whole */
static int
check(const char *path, FILE *out)
{
	PMEMobjpool *pop = pmemobj_open(path, TXMAP_LAYOUT);
	if (pop == NULL) {
		fprintf(out, "violation: pmemobj_open: %s\n", pmemobj_errormsg());
		return 1;
	}
	TOID(struct txmap_root) root = POBJ_ROOT(pop, struct txmap_root);
	if (TOID_IS_NULL(root)) {
		fprintf(out, "violation: no root object: %s\n", pmemobj_errormsg());
		pmemobj_close(pop);
		return 1;
	}

	/* every entry object the heap holds bounds the walk (a cycle cannot loop) */
	size_t objects = 0;
	for (PMEMoid oid = pmemobj_first(pop); !OID_IS_NULL(oid); oid = pmemobj_next(oid))
		if (pmemobj_type_num(oid) == TXMAP_ENTRY_TYPE)
			objects++;

	struct found *found = calloc(objects + 1, sizeof(*found));
	if (found == NULL) {
		perror("txmap");
		pmemobj_close(pop);
		return 1;
	}
	size_t reached = 0;
	int problems = 0;
	const struct txmap_root *r = D_RO(root);
	for (size_t bucket = 0; bucket < TXMAP_BUCKETS; bucket++) {
		for (TOID(struct txmap_entry) e = r->buckets[bucket]; !TOID_IS_NULL(e); e = D_RO(e)->next) {
			if (pmemobj_pool_by_oid(e.oid) != pop || pmemobj_type_num(e.oid) != TXMAP_ENTRY_TYPE) {
				fprintf(out, "violation: bucket %zu links offset 0x%" PRIx64 ", not an entry of this pool\n", bucket, e.oid.off);
				problems++;
				break;
			}
			if (reached == objects) {
				fprintf(out, "violation: bucket %zu: more entries linked than allocated (a cycle?)\n", bucket);
				problems++;
				break;
			}
			const struct txmap_entry *entry = D_RO(e);
			if (entry->key % TXMAP_BUCKETS != bucket) {
				fprintf(out, "violation: key %" PRIu64 " in bucket %zu\n", entry->key, bucket);
				problems++;
			}
			found[reached].key = entry->key;
			found[reached].value = entry->value;
			reached++;
		}
	}
	qsort(found, reached, sizeof(*found), by_key);
	for (size_t i = 1; i < reached; i++) {
		if (found[i].key == found[i - 1].key) {
			fprintf(out, "violation: key %" PRIu64 " appears twice\n", found[i].key);
			problems++;
		}
	}
	if (reached < objects) {
		fprintf(out, "violation: %zu entries allocated, %zu in the map (leaked)\n", objects, reached);
		problems++;
	}
	if (r->count != reached) {
		fprintf(out, "violation: count %" PRIu64 ", %zu entries in the map\n", r->count, reached);
		problems++;
	}
	for (size_t i = 0; i < reached; i++)
		fprintf(out, "%" PRIu64 " %" PRIu64 "\n", found[i].key, found[i].value);
	fprintf(out, "entries %zu\n", reached);
	free(found);
	pmemobj_close(pop);
	return problems == 0 ? 0 : 1;
}

/*
 * serve -- pmfit's recover-server protocol: for each pool path read on stdin,
 * check it as `check` does, its output on stderr, then answer "ok" or "fail"
 * on stdout. One process checks every image, so libpmemobj is loaded once.
 */
static int
serve(void)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	while ((n = getline(&line, &size, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		int problems = check(line, stderr);
		fflush(stderr);
		printf(problems == 0 ? "ok\n" : "fail txmap check found problems\n");
		fflush(stdout);
	}
	free(line);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc >= 4 && strcmp(argv[1], "create") == 0) {
		if (argc != 4)
			return usage();
		size_t size = parse_size(argv[3]);
		if (size == 0) {
			fprintf(stderr, "txmap: %s: not a size (a number, optionally followed by K, M or G)\n", argv[3]);
			return 2;
		}
		return create(argv[2], size);
	}
	if (argc >= 3 && strcmp(argv[1], "insert") == 0)
		return insert_all(argv[2], argc - 3, argv + 3);
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return check(argv[2], stdout);
	if (argc == 2 && strcmp(argv[1], "check-server") == 0)
		return serve();
	return usage();
}
