/*
 * tree.c -- a word-frequency binary search tree in a persistent-memory pool
 *
 * Usage (MODE-OPTIONS: -m MODE | --mode MODE | -C | -O | -W | -M | -F, see
 * libpmem.h; they come before the command):
 *
 *   tree [MODE-OPTIONS] init FILE [SIZE]        create an empty tree in a
 *                                               new pool (default 1M bytes)
 *   tree [MODE-OPTIONS] insert FILE WORD...     insert each WORD
 *   tree [MODE-OPTIONS] mtinsert FILE N WORD... insert the WORDs from N
 *                                               threads (1 to 16): WORD i
 *                                               by thread i % N, each insert
 *                                               under one lock
 *   tree [MODE-OPTIONS] mtinsert FILE C1,C2,... WORD...
 *                                               the same with one thread per
 *                                               count: thread t inserts the
 *                                               next Ct WORDs, in order
 *                                               (`pmfit fuzz tree_mt`)
 *   tree [MODE-OPTIONS] walk FILE               print "COUNT WORD" lines in
 *                                               byte order of the words
 *   tree [MODE-OPTIONS] free FILE               free every node
 *   tree [MODE-OPTIONS] wordfreq FILE TEXT...   insert every word of each TEXT
 *                                               file ("-": standard input)
 *   tree [MODE-OPTIONS] check FILE              recover and verify the pool
 *                                               and the tree; print a summary
 *
 * insert and wordfreq create FILE (1M bytes) when it does not exist. Every
 * command recovers the pool first (alloc_open). Exit status: 0 success,
 * 1 failure (I/O, damaged pool or tree, full pool), 2 usage error.
 *
 * File format: an alloc pool (see alloc.h) whose static-area root 0 (offset
 * 4096) holds the offset of the root node, 0 for an empty tree. A node is
 * the data of an ACTIVE clump:
 *
 *   +0  left   offset of the subtree of smaller words (0: none)
 *   +8  right  offset of the subtree of larger words (0: none)
 *   +16 count  how many times the word was inserted (at least 1)
 *   +24 word   the word, NUL-terminated, 1 to TREE_MAX_WORD bytes
 *
 * Words are ordered by strcmp (unsigned bytes); each word appears once.
 *
 * Crash consistency: inserting an existing word is one persisted 8-byte
 * store to its count. A new word gets a node reserved from the pool, filled
 * in, and linked into its parent's left/right pointer (or the root) by a
 * pending onactive assignment performed by alloc_activate, after the node is
 * persisted: a crash leaves the word entirely in the tree or not at all, and
 * recovery frees a node that was never linked. `free` unlinks and frees
 * leaves one at a time with onfree + alloc_free, so every crash leaves a
 * smaller valid tree. Each inserted word, and each freed node, is one pmfit
 * region; recovery on open runs before any region. Creating FILE is one
 * region too (in alloc_create), before the first word's.
 *
 * Built with -DTREE_BROKEN (the tree_broken program) a new node is linked
 * into its parent first, and only then persisted and activated: a crash in
 * between leaves the tree pointing at a node whose contents may never have
 * reached the file and whose clump recovery returns to FREE. This is the
 * deliberate bug that the harness must find.
 *
 * Built with -DTREE_BROKEN_LEFT (the tree_mt_broken program) only a node
 * that becomes a left child is linked first: whether the bug is reached
 * depends on the order of the inserts, which for mtinsert is the order in
 * which the threads take the lock, so that only some thread schedules show
 * it (docs/targets.md).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "libpmem.h"
#include "pmfit.h"

#define TREE_ROOT ALLOC_ROOT(0)
#define TREE_DEFAULT_SIZE (1ull << 20)
#define TREE_MAX_WORD 1000

struct node {
	uint64_t left;
	uint64_t right;
	uint64_t count;
	char word[];
};

#define LEFT_OF(n) ((n) + offsetof(struct node, left))
#define RIGHT_OF(n) ((n) + offsetof(struct node, right))

#if defined(TREE_BROKEN_LEFT)
#define BROKEN_NOTE \
"This build links new left children before persisting them\n" \
"(TREE_BROKEN_LEFT): it is not crash consistent, on purpose.\n"
#elif defined(TREE_BROKEN)
#define BROKEN_NOTE \
"This build links new nodes before persisting them (TREE_BROKEN): it is\n" \
"not crash consistent, on purpose.\n"
#else
#define BROKEN_NOTE ""
#endif

static const char Help[] =
"usage: %s " PMEM_OPTIONS_SYNOPSIS " COMMAND FILE [ARG...]\n"
"commands:\n"
"  init FILE [SIZE]       create an empty tree (pool of SIZE bytes, 1M)\n"
"  insert FILE WORD...    insert each WORD (creates FILE if missing)\n"
"  mtinsert FILE N WORD...  insert the WORDs from N threads, one lock\n"
"  mtinsert FILE C1,C2,... WORD...  thread t inserts the next Ct WORDs\n"
"  walk FILE              print \"COUNT WORD\" for every word, in order\n"
"  free FILE              free every node\n"
"  wordfreq FILE TEXT...  insert the words (letters and digits, lower-cased)\n"
"                         of each TEXT file, - for standard input\n"
"  check FILE             recover and verify; exit 1 if broken\n"
"Exit status: 0 ok, 1 failure or broken tree, 2 usage.\n"
BROKEN_NOTE;

static const char *Prog = "tree";

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
 * parse_size -- decimal bytes with an optional K, M or G (binary) suffix
 */
static int
parse_size(const char *s, uint64_t *out)
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
	if (*end != '\0' || v > (ALLOC_MAX_SIZE >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/*
 * node_at -- the node at offset N, or NULL when N cannot be one
 *
 * A cheap shape check (aligned, inside the heap, word within the file),
 * enough to keep insert/walk/free from wandering outside the mapping or
 * looping on a damaged tree; `check` does the full verification.
 */
static struct node *
node_at(struct alloc_pool *pool, uint64_t n)
{
	uint64_t end = pool->size - ALLOC_CHUNK;
	if (n % ALLOC_CHUNK != 0 || n < ALLOC_HEAP_OFF + ALLOC_CHUNK ||
			n >= end || end - n <= sizeof(struct node))
		return NULL;
	struct node *node = alloc_at(pool, n);
	if (memchr(node->word, '\0', end - n - sizeof(struct node)) == NULL)
		return NULL;
	return node;
}

/* the most nodes a pool can hold: a bound for every walk */
static uint64_t
max_nodes(const struct alloc_pool *pool)
{
	return (pool->size - ALLOC_HEAP_OFF) / ALLOC_CHUNK;
}

/*
 * open_tree -- open (and recover) the pool FILE, creating it when CREATE and
 * it does not exist
 */
static struct alloc_pool *
open_tree(const char *file, int create)
{
	char err[512];
	if (create && access(file, F_OK) != 0 && errno == ENOENT &&
		alloc_create(file, TREE_DEFAULT_SIZE, err, sizeof(err)) != 0)
		fail(file, "%s", err);

	struct alloc_pool *pool = alloc_open(file, NULL, err, sizeof(err));
	if (pool == NULL)
		fail(file, "%s", err);
	return pool;
}

/*
 * insert -- insert WORD (one region; see the top of this file)
 *
 * Returns 0, or -1 with a message in ERR (pool full, damaged tree); the
 * tree is unchanged then.
 */
static int
insert(struct alloc_pool *pool, const char *word, char *err, size_t errlen)
{
	int ret = 0;

	pmfit_region_begin();

	uint64_t parentp = TREE_ROOT;
	uint64_t n = alloc_load(pool, parentp);
	uint64_t steps = 0;
#ifdef TREE_BROKEN_LEFT
	int left = 0;
#endif
	while (n != 0) {
		struct node *node = node_at(pool, n);
		if (node == NULL || ++steps > max_nodes(pool)) {
			snprintf(err, errlen, "damaged tree at node %" PRIu64,
					n);
			ret = -1;
			goto out;
		}
		int cmp = strcmp(word, node->word);
		if (cmp == 0) {
			node->count++;
			pmem_persist(&node->count, sizeof(node->count));
			goto out;
		}
		parentp = cmp < 0 ? LEFT_OF(n) : RIGHT_OF(n);
#ifdef TREE_BROKEN_LEFT
		left = cmp < 0;
#endif
		n = alloc_load(pool, parentp);
	}

	size_t len = strlen(word);
	n = alloc_reserve(pool, sizeof(struct node) + len + 1);
	if (n == 0) {
		snprintf(err, errlen, "cannot insert '%s': %s", word,
				pool->err);
		ret = -1;
		goto out;
	}
	struct node *node = alloc_at(pool, n);
	node->left = 0;
	node->right = 0;
	node->count = 1;
	memcpy(node->word, word, len + 1);

#ifdef TREE_BROKEN
	/* the bug: the link is durable before the node it points to */
	*(volatile uint64_t *)alloc_at(pool, parentp) = n;
	pmem_persist(alloc_at(pool, parentp), sizeof(uint64_t));
#else
#ifdef TREE_BROKEN_LEFT
	if (left) {
		/* the bug, for left children only */
		*(volatile uint64_t *)alloc_at(pool, parentp) = n;
		pmem_persist(alloc_at(pool, parentp), sizeof(uint64_t));
	} else
#endif
	if (alloc_onactive(pool, n, parentp, n) != 0)
		goto alloc_failed;
#endif
	if (alloc_activate(pool, n) != 0)
		goto alloc_failed;
out:
	pmfit_region_end();
	return ret;

alloc_failed:
	snprintf(err, errlen, "cannot insert '%s': %s", word, pool->err);
	ret = -1;
	goto out;
}

/*
 * check_word -- reject words insert cannot store, before touching the pool
 */
static void
check_word(const char *word)
{
	size_t len = strlen(word);
	if (len == 0)
		usage("insert: empty WORD");
	if (len > TREE_MAX_WORD)
		usage("insert: WORD longer than %d bytes", TREE_MAX_WORD);
}

/*
 * cmd_insert -- tree insert FILE WORD...
 */
static int
cmd_insert(const char *file, int nwords, char *words[])
{
	for (int i = 0; i < nwords; i++)
		check_word(words[i]);

	struct alloc_pool *pool = open_tree(file, 1);
	char err[1200];
	for (int i = 0; i < nwords; i++)
		if (insert(pool, words[i], err, sizeof(err)) != 0)
			fail(file, "%s", err);
	alloc_close(pool);
	return 0;
}

/* one thread of mtinsert: the words it inserts, and how it failed */
struct mt_worker {
	struct alloc_pool *pool;
	pthread_mutex_t *lock;
	char **words;
	int nwords;
	int first;
	int stride;
	int failed;
	char err[1200];
};

static void *
mt_insert_words(void *arg)
{
	struct mt_worker *w = arg;
	for (int i = w->first; i < w->nwords && !w->failed; i += w->stride) {
		pthread_mutex_lock(w->lock);
		w->failed = insert(w->pool, w->words[i], w->err,
				sizeof(w->err)) != 0;
		pthread_mutex_unlock(w->lock);
	}
	return NULL;
}

/*
 * mt_counts -- the threads argument of mtinsert: N (WORD i by thread i % N)
 * or C1,C2,... (thread t the next Ct words); fills the workers' first word,
 * stride and end, and returns the number of threads
 */
static int
mt_counts(const char *arg, int nwords, struct mt_worker *workers)
{
	if (strchr(arg, ',') == NULL) {
		char *end;
		long n = strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || n < 1 || n > 16)
			usage("mtinsert: N must be a number of threads from 1 "
					"to 16, not '%s'", arg);
		for (int t = 0; t < n; t++) {
			workers[t].first = t;
			workers[t].stride = (int)n;
			workers[t].nwords = nwords;
		}
		return (int)n;
	}
	int n = 0;
	int next = 0;
	const char *at = arg;
	for (;;) {
		char *end;
		long count = strtol(at, &end, 10);
		if (!isdigit((unsigned char)*at) || count > nwords ||
				(*end != ',' && *end != '\0') || n == 16)
			usage("mtinsert: C1,C2,... must be 1 to 16 counts of "
					"words, not '%s'", arg);
		workers[n].first = next;
		workers[n].stride = 1;
		next += (int)count;
		workers[n].nwords = next;
		n++;
		if (next > nwords)
			break;
		if (*end == '\0')
			break;
		at = end + 1;
	}
	if (next != nwords)
		usage("mtinsert: the counts '%s' add up to %d, not to the %d "
				"WORDs", arg, next, nwords);
	return n;
}

/*
 * cmd_mtinsert -- tree mtinsert FILE N|C1,C2,... WORD...: the threads are
 * created before the first insert, so that every one of them takes part from
 * the start; the lock makes each insert (one region) whole
 */
static int
cmd_mtinsert(const char *file, const char *nthreads, int nwords,
		char *words[])
{
	struct mt_worker workers[16];
	int n = mt_counts(nthreads, nwords, workers);
	for (int i = 0; i < nwords; i++)
		check_word(words[i]);

	struct alloc_pool *pool = open_tree(file, 1);
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_t threads[16];
	for (int t = 0; t < n; t++) {
		workers[t].pool = pool;
		workers[t].lock = &lock;
		workers[t].words = words;
		workers[t].failed = 0;
		workers[t].err[0] = '\0';
		if (pthread_create(&threads[t], NULL, mt_insert_words,
				&workers[t]) != 0)
			fail(file, "cannot create thread %d", t + 1);
	}
	for (int t = 0; t < n; t++)
		pthread_join(threads[t], NULL);
	for (int t = 0; t < n; t++)
		if (workers[t].failed)
			fail(file, "%s", workers[t].err);
	alloc_close(pool);
	return 0;
}

/*
 * insert_words_of -- wordfreq: insert every word of the open stream IN
 *
 * A word is a maximal run of ASCII letters and digits, lower-cased; longer
 * than TREE_MAX_WORD bytes, it is cut (the rest starts no new word).
 */
static void
insert_words_of(struct alloc_pool *pool, const char *file, const char *name,
		FILE *in)
{
	char word[TREE_MAX_WORD + 1];
	char err[1200];
	size_t len = 0;
	int c;
	do {
		c = getc(in);
		if (c != EOF && isalnum(c) && c < 128) {
			if (len < TREE_MAX_WORD)
				word[len++] = (char)tolower(c);
			continue;
		}
		if (len == 0)
			continue;
		word[len] = '\0';
		len = 0;
		if (insert(pool, word, err, sizeof(err)) != 0)
			fail(file, "%s", err);
	} while (c != EOF);
	if (ferror(in))
		fail(name, "read error: %s", strerror(errno));
}

/*
 * cmd_wordfreq -- tree wordfreq FILE TEXT...
 */
static int
cmd_wordfreq(const char *file, int ntexts, char *texts[])
{
	/* open every text first: a missing one should not half-count */
	FILE **in = calloc((size_t)ntexts, sizeof(*in));
	if (in == NULL)
		fail(file, "out of memory");
	for (int i = 0; i < ntexts; i++) {
		in[i] = strcmp(texts[i], "-") == 0 ? stdin :
			fopen(texts[i], "r");
		if (in[i] == NULL)
			fail(texts[i], "cannot open: %s", strerror(errno));
	}

	struct alloc_pool *pool = open_tree(file, 1);
	for (int i = 0; i < ntexts; i++) {
		insert_words_of(pool, file, texts[i], in[i]);
		if (in[i] != stdin)
			fclose(in[i]);
	}
	alloc_close(pool);
	free(in);
	return 0;
}

/* an explicit stack of node offsets, for walks without recursion */
struct stack {
	uint64_t *v;
	size_t n, cap;
};

/*
 * push -- push N on S, growing it as needed
 */
static void
push(struct stack *s, uint64_t n)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (s->v == NULL) {
			fprintf(stderr, "%s: out of memory\n", Prog);
			exit(1);
		}
	}
	s->v[s->n++] = n;
}

/*
 * cmd_walk -- tree walk FILE: in-order "COUNT WORD" lines
 */
static int
cmd_walk(const char *file)
{
	struct alloc_pool *pool = open_tree(file, 0);
	struct stack s = { 0 };
	uint64_t steps = 0;

	uint64_t n = alloc_load(pool, TREE_ROOT);
	while (n != 0 || s.n != 0) {
		while (n != 0) {
			if (node_at(pool, n) == NULL ||
					++steps > max_nodes(pool))
				fail(file, "damaged tree at node %" PRIu64, n);
			push(&s, n);
			n = ((struct node *)alloc_at(pool, n))->left;
		}
		n = s.v[--s.n];
		struct node *node = alloc_at(pool, n);
		printf("%" PRIu64 " %s\n", node->count, node->word);
		n = node->right;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		fail("stdout", "write error: %s", strerror(errno));
	free(s.v);
	alloc_close(pool);
	return 0;
}

/*
 * cmd_free -- tree free FILE: free the nodes, a leaf at a time
 *
 * Each step descends to some leaf (left first) and unlinks it from its
 * parent with an onfree assignment, so after any crash the tree is the
 * original minus the leaves already freed. Quadratic in the depth, which is
 * fine for trees of words.
 */
static int
cmd_free(const char *file)
{
	struct alloc_pool *pool = open_tree(file, 0);
	uint64_t freed = 0;

	while (alloc_load(pool, TREE_ROOT) != 0) {
		if (++freed > max_nodes(pool))
			fail(file, "damaged tree (more nodes than chunks)");

		/* find a leaf and the pointer to it, before the region */
		uint64_t parentp = TREE_ROOT;
		uint64_t n = alloc_load(pool, parentp);
		uint64_t steps = 0;
		for (;;) {
			struct node *node = node_at(pool, n);
			if (node == NULL || ++steps > max_nodes(pool))
				fail(file, "damaged tree at node %" PRIu64, n);
			if (node->left == 0 && node->right == 0)
				break;
			parentp = node->left ? LEFT_OF(n) : RIGHT_OF(n);
			n = alloc_load(pool, parentp);
		}
		if (alloc_lookup(pool, n, NULL) != ALLOC_ACTIVE)
			fail(file, "node %" PRIu64 " is not an active clump",
					n);

		pmfit_region_begin();
		int ret = alloc_onfree(pool, n, parentp, 0);
		if (ret == 0)
			ret = alloc_free(pool, n);
		pmfit_region_end();
		if (ret != 0)
			fail(file, "cannot free node %" PRIu64 ": %s", n,
					pool->err);
	}
	alloc_close(pool);
	return 0;
}

/*
 * cmd_check -- tree check FILE: recover, verify pool and tree
 *
 * Tree invariants: every reachable node is the data of an ACTIVE clump and
 * holds a NUL-terminated word inside it, count >= 1, strict binary-search
 * order (each word between the bounds its ancestors impose), no node
 * reachable twice (no cycles or sharing), and every ACTIVE clump reachable
 * (no leaks). Prints "N words, M distinct" when all hold.
 */
static int
cmd_check(const char *file)
{
	struct alloc_pool *pool = open_tree(file, 0);
	char prefix[512];
	snprintf(prefix, sizeof(prefix), "%s: %s: ", Prog, file);

	struct alloc_stats st;
	unsigned problems = alloc_verify(pool, stderr, prefix, &st);
	if (problems != 0) {
		fprintf(stderr, "%sbroken pool: %u problem%s\n", prefix,
				problems, problems == 1 ? "" : "s");
		alloc_close(pool);
		return 1;
	}

#define PROBLEM(...) do { \
	fputs(prefix, stderr); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	problems++; \
} while (0)

	/* state of the clump whose header is chunk i, 0 if no clump there */
	uint64_t nchunks = pool->size / ALLOC_CHUNK;
	unsigned char *state = calloc(nchunks, 1);
	unsigned char *seen = calloc(nchunks, 1);
	if (state == NULL || seen == NULL)
		fail(file, "out of memory");
	for (uint64_t c = ALLOC_HEAP_OFF;;) {
		const struct alloc_clump *h = alloc_at(pool, c);
		if (h->size_state == 0)
			break;
		state[c / ALLOC_CHUNK] = h->size_state & ALLOC_STATE_MASK;
		c += h->size_state & ~(uint64_t)ALLOC_STATE_MASK;
	}

	/* depth-first, each entry a node with its exclusive word bounds */
	struct entry {
		uint64_t n;
		const char *low, *high;
	} *stack = NULL;
	size_t depth = 0, cap = 0;
	uint64_t nodes = 0, words = 0;

	uint64_t root = alloc_load(pool, TREE_ROOT);
	if (root != 0) {
		stack = malloc(64 * sizeof(*stack));
		if (stack == NULL)
			fail(file, "out of memory");
		cap = 64;
		stack[depth++] = (struct entry){ root, NULL, NULL };
	}
	while (depth > 0) {
		struct entry e = stack[--depth];
		uint64_t n = e.n;
		if (n % ALLOC_CHUNK != 0 || n < ALLOC_HEAP_OFF + ALLOC_CHUNK ||
				n >= pool->size - ALLOC_CHUNK ||
				state[n / ALLOC_CHUNK - 1] != ALLOC_ACTIVE) {
			PROBLEM("node %" PRIu64 " is not the data of an "
					"ACTIVE clump", n);
			continue;
		}
		if (seen[n / ALLOC_CHUNK]) {
			PROBLEM("node %" PRIu64 " is reachable twice "
					"(cycle or shared subtree)", n);
			continue;
		}
		seen[n / ALLOC_CHUNK] = 1;
		nodes++;

		const struct node *node = alloc_at(pool, n);
		uint64_t datasize = alloc_datasize(pool, n);
		if (datasize <= sizeof(struct node) ||
			memchr(node->word, '\0',
				datasize - sizeof(struct node)) == NULL) {
			PROBLEM("node %" PRIu64 " has no NUL-terminated word",
					n);
			continue;
		}
		if (node->word[0] == '\0')
			PROBLEM("node %" PRIu64 " has an empty word", n);
		if (node->count < 1)
			PROBLEM("node %" PRIu64 " ('%s') has count 0", n,
					node->word);
		if ((e.low && strcmp(node->word, e.low) <= 0) ||
				(e.high && strcmp(node->word, e.high) >= 0))
			PROBLEM("node %" PRIu64 " ('%s') is out of order", n,
					node->word);
		words += node->count;

		if (depth + 2 > cap) {
			cap *= 2;
			stack = realloc(stack, cap * sizeof(*stack));
			if (stack == NULL)
				fail(file, "out of memory");
		}
		if (node->right != 0)
			stack[depth++] = (struct entry){ node->right,
				node->word, e.high };
		if (node->left != 0)
			stack[depth++] = (struct entry){ node->left,
				e.low, node->word };
	}

	for (uint64_t c = ALLOC_HEAP_OFF / ALLOC_CHUNK; c < nchunks; c++)
		if (state[c] == ALLOC_ACTIVE && !seen[c + 1])
			PROBLEM("ACTIVE clump at %" PRIu64 " is not in the "
					"tree (leak)", c * ALLOC_CHUNK);
#undef PROBLEM

	free(stack);
	free(state);
	free(seen);
	alloc_close(pool);
	if (problems != 0) {
		fprintf(stderr, "%sbroken tree: %u problem%s\n", prefix,
				problems, problems == 1 ? "" : "s");
		return 1;
	}
	printf("%" PRIu64 " words, %" PRIu64 " distinct\n", words, nodes);
	return 0;
}

/*
 * cmd_init -- tree init FILE [SIZE]
 */
static int
cmd_init(const char *file, int nargs, char *args[])
{
	uint64_t size = TREE_DEFAULT_SIZE;
	if (nargs > 1)
		usage("init: expected FILE [SIZE]");
	if (nargs == 1 && (parse_size(args[0], &size) != 0 ||
				size % ALLOC_CHUNK != 0 ||
				size < ALLOC_MIN_SIZE))
		usage("init: bad SIZE '%s' (a multiple of 64, at least %u)",
				args[0], ALLOC_MIN_SIZE);
	char err[512];
	if (alloc_create(file, size, err, sizeof(err)) != 0)
		fail(file, "%s", err);
	return 0;
}

int
main(int argc, char *argv[])
{
	/* the help text names the program as it was invoked */
	const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
	const char *name = slash ? slash + 1 : argc > 0 ? argv[0] : "tree";
	char help[sizeof(Help) + 256];
	snprintf(help, sizeof(help), Help, name);

	int i = pmem_options(argc, argv, help);
	Prog = pmem_progname();

	static const char *const cmds[] = {
		"init", "insert", "mtinsert", "walk", "free", "wordfreq",
		"check",
	};
	if (i >= argc)
		usage("missing COMMAND (init, insert, mtinsert, walk, free, "
				"wordfreq or check)");
	const char *cmd = argv[i++];
	int known = 0;
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		known |= strcmp(cmd, cmds[k]) == 0;
	if (!known)
		usage("unknown command '%s' (init, insert, mtinsert, walk, "
				"free, wordfreq or check)", cmd);
	if (i >= argc)
		usage("%s: missing FILE", cmd);
	const char *file = argv[i++];
	int nargs = argc - i;
	char **args = argv + i;

	if (strcmp(cmd, "init") == 0)
		return cmd_init(file, nargs, args);
	if (strcmp(cmd, "insert") == 0) {
		if (nargs == 0)
			usage("insert: expected FILE WORD...");
		return cmd_insert(file, nargs, args);
	}
	if (strcmp(cmd, "mtinsert") == 0) {
		if (nargs < 2)
			usage("mtinsert: expected FILE N|C1,C2,... WORD...");
		return cmd_mtinsert(file, args[0], nargs - 1, args + 1);
	}
	if (strcmp(cmd, "wordfreq") == 0) {
		if (nargs == 0)
			usage("wordfreq: expected FILE TEXT...");
		return cmd_wordfreq(file, nargs, args);
	}
	if (nargs != 0)
		usage("%s: unexpected argument '%s'", cmd, args[0]);
	if (strcmp(cmd, "walk") == 0)
		return cmd_walk(file);
	if (strcmp(cmd, "free") == 0)
		return cmd_free(file);
	return cmd_check(file);
}
