/*
 * main.c -- alloc, the command-line face of the pool allocator
 *
 * Usage (MODE-OPTIONS: -m MODE | --mode MODE | -C | -O | -W | -M | -F, see
 * libpmem.h; they come before the command):
 *
 *   alloc [MODE-OPTIONS] init FILE SIZE   create a pool of SIZE bytes (a
 *                                         multiple of 64, suffix K/M/G ok);
 *                                         formatting it is one pmfit region
 *   alloc [MODE-OPTIONS] check FILE       recover, verify, print a summary
 *   alloc [MODE-OPTIONS] recover FILE     recover, print what was done
 *   alloc [MODE-OPTIONS] list FILE        recover, verify the handle list,
 *                                         print "HANDLE OFFSET SIZE" lines
 *   alloc [MODE-OPTIONS] run FILE OP...   recover, then do each OP
 *
 * Exit status: 0 success, 1 failure (I/O, damaged pool, a verification
 * problem, an OP that cannot be done), 2 usage error.
 *
 * The pool format is in alloc.h. On top of it, `run` keeps a small
 * application of its own, so that its operations mean something across
 * separate invocations and can be checked after a crash:
 *
 *   static area root 0 (offset 4096)   head of a doubly linked list of blocks
 *   static area root 1 (offset 4104)   tail of the list
 *   static area root 8+H (4160 + 8*H)  handle H (0..255): its block, or 0
 *
 *   block data (an ACTIVE clump's data, at least 32 bytes):
 *     +0  tag  0x424c4f434b000000 | H     +8   requested size
 *     +16 next block (0: last)            +24  previous block (0: first)
 *
 * OPs (each one is one pmfit region; recovery on open runs before them):
 *
 *   rH:SIZE  reserve a block of SIZE bytes (at least 32 are taken) for the
 *            unused handle H and fill in its tag and size; it stays
 *            RESERVED, so it only lives until the end of this invocation
 *   aH       activate the block reserved by rH in this invocation: append it
 *            to the list with three onactive assignments (the previous
 *            tail's next pointer or the head, the tail, handle slot H)
 *   fH       free handle H's block: unlink it with three onfree assignments
 *            (previous block's next or the head, next block's prev or the
 *            tail, handle slot H = 0)
 *
 * After recovery the live handles are exactly the blocks activated and not
 * freed, in activation order; `alloc list` prints them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "libpmem.h"
#include "pmfit.h"

#define HEAD ALLOC_ROOT(0)
#define TAIL ALLOC_ROOT(1)
#define NHANDLES 256
#define HANDLE(h) ALLOC_ROOT(8 + (h))

#define TAG_BASE 0x424c4f434b000000ull
#define TAG_MASK 0xffffffffffffff00ull
#define BLOCK_MIN 32u
#define MAX_OP_SIZE (1u << 30)

/* the data of a block of the `run` application */
struct block {
	uint64_t tag;
	uint64_t size;
	uint64_t next;
	uint64_t prev;
};

#define NEXT_OF(b) ((b) + offsetof(struct block, next))
#define PREV_OF(b) ((b) + offsetof(struct block, prev))

static const char Help[] =
"usage: alloc " PMEM_OPTIONS_SYNOPSIS " COMMAND FILE [ARG...]\n"
"commands:\n"
"  init FILE SIZE    create a pool of SIZE bytes (multiple of 64; K, M, G)\n"
"  check FILE        recover, verify, print a summary; exit 1 if broken\n"
"  recover FILE      recover and print what recovery did\n"
"  list FILE         recover, verify the handle list, print its blocks\n"
"  run FILE OP...    recover, then do each OP (one traced region each):\n"
"                    rH:SIZE reserve SIZE bytes for handle H (0-255),\n"
"                    aH activate it (append to the list), fH free it\n"
"Exit status: 0 ok, 1 failure or broken pool, 2 usage.\n";

static const char *Prog = "alloc";

struct op {
	char kind;	/* 'r', 'a' or 'f' */
	unsigned handle;
	uint64_t size;
	const char *text;
};

/*
 * usage -- one-line usage complaint, exit 2
 */
__attribute__((noreturn, format(printf, 1, 2)))
static void
usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", Prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (try '%s --help')\n", Prog);
	va_end(ap);
	exit(2);
}

/*
 * fail -- one-line runtime failure about FILE, exit 1
 */
__attribute__((noreturn, format(printf, 2, 3)))
static void
fail(const char *file, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: %s: ", Prog, file);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/*
 * parse_size -- a byte count: decimal digits with an optional K, M or G
 * (binary) suffix; returns -1 when S is not one or exceeds MAX
 */
static int
parse_size(const char *s, uint64_t max, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end != '\0' || v > (max >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/*
 * parse_op -- one OP of `run` (see the top of this file)
 */
static void
parse_op(const char *text, struct op *op)
{
	op->text = text;
	op->kind = text[0];
	op->size = 0;
	if (op->kind != 'r' && op->kind != 'a' && op->kind != 'f')
		usage("bad OP '%s' (rH:SIZE, aH or fH)", text);

	const char *p = text + 1;
	if (*p < '0' || *p > '9')
		usage("bad OP '%s': missing handle number", text);
	unsigned long h = 0;
	while (*p >= '0' && *p <= '9' && h < NHANDLES)
		h = h * 10 + (unsigned long)(*p++ - '0');
	if (h >= NHANDLES)
		usage("bad OP '%s': handles go from 0 to %d", text,
				NHANDLES - 1);
	op->handle = (unsigned)h;

	if (op->kind == 'r') {
		if (*p != ':' || parse_size(p + 1, MAX_OP_SIZE, &op->size))
			usage("bad OP '%s': expected rH:SIZE", text);
	} else if (*p != '\0') {
		usage("bad OP '%s': expected %cH", text, op->kind);
	}
}

/*
 * block_ok -- is OFF a live block of the run application (an ACTIVE clump
 * whose tag is right)? Fills *H with its handle.
 */
static int
block_ok(struct alloc_pool *pool, uint64_t off, unsigned *h)
{
	uint64_t datasize;
	if (alloc_lookup(pool, off, &datasize) != ALLOC_ACTIVE ||
			datasize < sizeof(struct block))
		return 0;
	const struct block *b = alloc_at(pool, off);
	if ((b->tag & TAG_MASK) != TAG_BASE)
		return 0;
	*h = (unsigned)(b->tag & 0xff);
	return 1;
}

/*
 * do_reserve -- rH:SIZE
 */
static uint64_t
do_reserve(struct alloc_pool *pool, const struct op *op)
{
	uint64_t size = op->size < BLOCK_MIN ? BLOCK_MIN : op->size;

	pmfit_region_begin();
	uint64_t off = alloc_reserve(pool, size);
	if (off != 0) {
		/* persisted by alloc_activate, lost with the clump if never */
		struct block *b = alloc_at(pool, off);
		b->tag = TAG_BASE | op->handle;
		b->size = op->size;
		b->next = 0;
		b->prev = 0;
	}
	pmfit_region_end();
	return off;
}

/*
 * do_activate -- aH: append the block to the list, all or nothing
 */
static int
do_activate(struct alloc_pool *pool, const struct op *op, uint64_t off)
{
	int ret = 0;

	pmfit_region_begin();
	struct block *b = alloc_at(pool, off);
	uint64_t tail = alloc_load(pool, TAIL);
	b->prev = tail;
	b->next = 0;
	if (alloc_onactive(pool, off, tail ? NEXT_OF(tail) : HEAD, off) ||
		alloc_onactive(pool, off, TAIL, off) ||
		alloc_onactive(pool, off, HANDLE(op->handle), off) ||
		alloc_activate(pool, off))
		ret = -1;
	pmfit_region_end();
	return ret;
}

/*
 * do_free -- fH: unlink the block from the list and free it, all or nothing
 */
static int
do_free(struct alloc_pool *pool, uint64_t off, unsigned handle)
{
	int ret = 0;

	pmfit_region_begin();
	const struct block *b = alloc_at(pool, off);
	uint64_t next = b->next;
	uint64_t prev = b->prev;
	if (alloc_onfree(pool, off, prev ? NEXT_OF(prev) : HEAD, next) ||
		alloc_onfree(pool, off, next ? PREV_OF(next) : TAIL, prev) ||
		alloc_onfree(pool, off, HANDLE(handle), 0) ||
		alloc_free(pool, off))
		ret = -1;
	pmfit_region_end();
	return ret;
}

/*
 * cmd_run -- alloc run FILE OP...
 *
 * Every OP is checked for sense before its region starts (and the pointers
 * it will follow are checked against the chain), so that a failing OP stops
 * the run without touching the pool.
 */
static int
cmd_run(const char *file, int nops, char *texts[])
{
	struct op *ops = calloc((size_t)nops, sizeof(*ops));
	if (ops == NULL)
		fail(file, "out of memory");
	for (int i = 0; i < nops; i++)
		parse_op(texts[i], &ops[i]);

	char err[512];
	struct alloc_pool *pool = alloc_open(file, NULL, err, sizeof(err));
	if (pool == NULL)
		fail(file, "%s", err);

	uint64_t reserved[NHANDLES] = { 0 };
	for (int i = 0; i < nops; i++) {
		const struct op *op = &ops[i];
		unsigned h = op->handle;
		uint64_t live = alloc_load(pool, HANDLE(h));

		switch (op->kind) {
		case 'r':
			if (live != 0 || reserved[h] != 0)
				fail(file, "%s: handle %u is in use",
						op->text, h);
			reserved[h] = do_reserve(pool, op);
			if (reserved[h] == 0)
				fail(file, "%s: %s", op->text, pool->err);
			break;
		case 'a':
			if (reserved[h] == 0)
				fail(file, "%s: handle %u was not reserved "
						"by this run", op->text, h);
			if (do_activate(pool, op, reserved[h]) != 0)
				fail(file, "%s: %s", op->text, pool->err);
			reserved[h] = 0;
			break;
		case 'f': {
			unsigned bh;
			if (live == 0)
				fail(file, "%s: handle %u is not live",
						op->text, h);
			if (!block_ok(pool, live, &bh) || bh != h)
				fail(file, "%s: handle %u points to %" PRIu64
					", not a block of its own",
					op->text, h, live);
			const struct block *b = alloc_at(pool, live);
			if ((b->next && !block_ok(pool, b->next, &bh)) ||
				(b->prev && !block_ok(pool, b->prev, &bh)))
				fail(file, "%s: the list around handle %u is "
					"damaged", op->text, h);
			if (do_free(pool, live, h) != 0)
				fail(file, "%s: %s", op->text, pool->err);
			break;
		}
		}
	}

	alloc_close(pool);
	free(ops);
	return 0;
}

/*
 * open_recovered -- map FILE and recover it, or exit 1 with a message
 */
static struct alloc_pool *
open_recovered(const char *file, struct alloc_recovery *rec)
{
	char err[512];
	struct alloc_pool *pool = alloc_open(file, rec, err, sizeof(err));
	if (pool == NULL)
		fail(file, "%s", err);
	return pool;
}

/*
 * print_row -- one line of the check table
 */
static void
print_row(const char *name, uint64_t bytes, uint64_t clumps,
		uint64_t largest, uint64_t smallest)
{
	char l[24] = "-", s[24] = "-";
	if (clumps != 0) {
		snprintf(l, sizeof(l), "%" PRIu64, largest);
		snprintf(s, sizeof(s), "%" PRIu64, smallest);
	}
	printf("%-10s %10" PRIu64 " %7" PRIu64 " %10s %10s\n",
			name, bytes, clumps, l, s);
}

/*
 * cmd_check -- alloc check FILE: recover, verify, print the summary table
 *
 * Rows: FREE and ACTIVE always, any other state that has clumps (which
 * only a failed recovery can leave), and the total. Sizes include the
 * 64-byte clump headers.
 */
static int
cmd_check(const char *file)
{
	struct alloc_pool *pool = open_recovered(file, NULL);

	char prefix[512];
	snprintf(prefix, sizeof(prefix), "%s: %s: ", Prog, file);
	struct alloc_stats st;
	unsigned problems = alloc_verify(pool, stderr, prefix, &st);

	printf("%-10s %10s %7s %10s %10s\n", "state", "bytes", "clumps",
			"largest", "smallest");
	uint64_t bytes = 0, clumps = 0, largest = 0, smallest = 0;
	for (unsigned s = ALLOC_FREE; s <= ALLOC_FREEING; s++) {
		if (st.state[s].clumps == 0 &&
				s != ALLOC_FREE && s != ALLOC_ACTIVE)
			continue;
		print_row(alloc_state_name(s), st.state[s].bytes,
				st.state[s].clumps, st.state[s].largest,
				st.state[s].smallest);
		bytes += st.state[s].bytes;
		clumps += st.state[s].clumps;
		if (st.state[s].largest > largest)
			largest = st.state[s].largest;
		uint64_t small = st.state[s].smallest;
		if (st.state[s].clumps != 0 &&
				(smallest == 0 || small < smallest))
			smallest = small;
	}
	print_row("total", bytes, clumps, largest, smallest);

	alloc_close(pool);
	if (problems != 0) {
		fprintf(stderr, "%s: %s: broken: %u problem%s\n", Prog, file,
				problems, problems == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

/*
 * cmd_recover -- alloc recover FILE
 */
static int
cmd_recover(const char *file)
{
	struct alloc_recovery rec;
	struct alloc_pool *pool = open_recovered(file, &rec);
	printf("%s: %u reserved freed, %u activations finished, "
			"%u frees finished, %u pending dropped, %u merges\n",
			file, rec.reserved, rec.activated, rec.freed,
			rec.dropped, rec.coalesced);
	alloc_close(pool);
	return 0;
}

/*
 * cmd_list -- alloc list FILE: print and verify the run application's list
 *
 * Checks: every list element is a live block whose handle slot points back
 * at it, prev pointers mirror next pointers, the tail is the last element,
 * each handle appears once, every non-zero handle slot is in the list, and
 * every ACTIVE clump is a list element (no leak).
 */
static int
cmd_list(const char *file)
{
	struct alloc_pool *pool = open_recovered(file, NULL);
	unsigned problems = 0;
	char seen[NHANDLES] = { 0 };
	unsigned length = 0;

#define PROBLEM(...) do { \
	fprintf(stderr, "%s: %s: ", Prog, file); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	problems++; \
} while (0)

	uint64_t prev = 0;
	for (uint64_t b = alloc_load(pool, HEAD); b != 0;) {
		unsigned h;
		if (!block_ok(pool, b, &h)) {
			PROBLEM("list element %" PRIu64 " is not a live block",
					b);
			break;
		}
		if (seen[h]) {
			PROBLEM("handle %u appears twice in the list "
					"(or the list loops)", h);
			break;
		}
		seen[h] = 1;
		length++;
		const struct block *blk = alloc_at(pool, b);
		if (alloc_load(pool, HANDLE(h)) != b)
			PROBLEM("handle %u's slot does not point at its block "
					"%" PRIu64, h, b);
		if (blk->prev != prev)
			PROBLEM("block %" PRIu64 " has prev %" PRIu64
					", expected %" PRIu64, b,
					blk->prev, prev);
		if (blk->size > alloc_datasize(pool, b))
			PROBLEM("block %" PRIu64 " has bad size %" PRIu64,
					b, blk->size);
		printf("%u %" PRIu64 " %" PRIu64 "\n", h, b, blk->size);
		prev = b;
		b = blk->next;
	}
	if (alloc_load(pool, TAIL) != prev)
		PROBLEM("tail is %" PRIu64 ", the last element %" PRIu64,
				alloc_load(pool, TAIL), prev);
	for (unsigned h = 0; h < NHANDLES; h++)
		if (!seen[h] && alloc_load(pool, HANDLE(h)) != 0)
			PROBLEM("handle %u is set but not in the list", h);

	struct alloc_stats st;
	if (alloc_verify(pool, NULL, "", &st) != 0)
		PROBLEM("the pool itself is broken (see alloc check)");
	else if (st.state[ALLOC_ACTIVE].clumps != length)
		PROBLEM("%" PRIu64 " ACTIVE clumps but %u blocks in the list",
				st.state[ALLOC_ACTIVE].clumps, length);
#undef PROBLEM

	alloc_close(pool);
	if (problems != 0) {
		fprintf(stderr, "%s: %s: broken: %u problem%s\n", Prog, file,
				problems, problems == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	int i = pmem_options(argc, argv, Help);
	Prog = pmem_progname();

	if (i >= argc)
		usage("missing COMMAND (init, check, recover, list or run)");
	const char *cmd = argv[i++];
	if (strcmp(cmd, "init") != 0 && strcmp(cmd, "check") != 0 &&
			strcmp(cmd, "recover") != 0 &&
			strcmp(cmd, "list") != 0 && strcmp(cmd, "run") != 0)
		usage("unknown command '%s' (init, check, recover, list or "
				"run)", cmd);
	if (i >= argc)
		usage("%s: missing FILE", cmd);
	const char *file = argv[i++];
	int nargs = argc - i;

	if (strcmp(cmd, "init") == 0) {
		uint64_t size;
		if (nargs != 1)
			usage("init: expected FILE SIZE");
		if (parse_size(argv[i], ALLOC_MAX_SIZE, &size) != 0 ||
				size % ALLOC_CHUNK != 0 ||
				size < ALLOC_MIN_SIZE)
			usage("init: bad SIZE '%s' (a multiple of 64, at "
					"least %u)", argv[i], ALLOC_MIN_SIZE);
		char err[512];
		if (alloc_create(file, size, err, sizeof(err)) != 0)
			fail(file, "%s", err);
		return 0;
	}
	if (strcmp(cmd, "run") == 0) {
		if (nargs == 0)
			usage("run: expected FILE OP...");
		return cmd_run(file, nargs, argv + i);
	}
	if (nargs != 0)
		usage("%s: unexpected argument '%s'", cmd, argv[i]);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(file);
	if (strcmp(cmd, "recover") == 0)
		return cmd_recover(file);
	return cmd_list(file);
}
