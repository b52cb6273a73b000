/*
 * libpmem.c -- minimal persistent-memory support shared by the pmfit targets
 *
 * See libpmem.h for the modes. Everything a target writes to its PM file goes
 * through pmem_persist/pmem_flush/pmem_drain, so switching the mode changes
 * the flushing instructions (or syscalls) the tracer sees and nothing else.
 *
 * The flush instructions are written as plain mnemonics in inline assembly:
 * the assembler accepts clflushopt and clwb without -m options, whereas the
 * compiler intrinsics would need -mclflushopt/-mclwb for the whole file.
 * Whether the CPU supports them is the user's business (a CPU without them
 * raises SIGILL, which is an honest answer).
 */
#define _GNU_SOURCE
#include "libpmem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static enum pmem_mode Mode = PMEM_MODE_CLFLUSH;
static const char *Progname = "libpmem";
static uintptr_t Pagesize;	/* cached: msync mode needs it at every flush */

/*
 * The fit-mode mappings: a flush must know which file, and where in it, a
 * line belongs to. A handful is plenty for these programs.
 */
#define FIT_MAX_MAPS 8
static struct fit_map {
	char *base;
	size_t len;
	int fd;
} Fit_maps[FIT_MAX_MAPS];

static const char *const Mode_names[] = {
	[PMEM_MODE_CLFLUSH] = "clflush",
	[PMEM_MODE_CLFLUSHOPT] = "clflushopt",
	[PMEM_MODE_CLWB] = "clwb",
	[PMEM_MODE_MSYNC] = "msync",
	[PMEM_MODE_FIT] = "fit",
};

#define MODE_LIST "clflush, clflushopt, clwb, msync, fit"

/*
 * fatal -- report a failure that leaves the file in an unknown state and exit
 *
 * A flush that fails cannot be reported to callers that assume persistence
 * works, so the only honest thing is to stop (exit status 1: runtime failure).
 */
static void
fatal(const char *what, int err)
{
	fprintf(stderr, "%s: libpmem: %s: %s\n", Progname, what, strerror(err));
	exit(1);
}

/*
 * usage_error -- one-line complaint about the command line, exit status 2
 */
static void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", Progname);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try '%s --help')\n", Progname);
	exit(2);
}

/*
 * pmem_mode_parse -- the mode named NAME, or -1 when there is no such mode
 */
int
pmem_mode_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(Mode_names) / sizeof(Mode_names[0]); i++)
		if (strcmp(name, Mode_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * pmem_mode_name -- the name of MODE
 */
const char *
pmem_mode_name(enum pmem_mode mode)
{
	if ((unsigned)mode < sizeof(Mode_names) / sizeof(Mode_names[0]))
		return Mode_names[mode];
	return "?";
}

/*
 * pmem_set_mode -- choose the mode; must happen before pmem_map
 */
void
pmem_set_mode(enum pmem_mode mode)
{
	Mode = mode;
}

/*
 * pmem_get_mode -- the mode in force
 */
enum pmem_mode
pmem_get_mode(void)
{
	return Mode;
}

/*
 * pmem_progname -- the program name used in error messages
 */
const char *
pmem_progname(void)
{
	return Progname;
}

/*
 * pmem_options -- parse the leading mode options (see libpmem.h)
 *
 * Options must come first so that the remaining arguments (strings, words,
 * allocator operations) are taken literally even when they start with '-'.
 */
int
pmem_options(int argc, char *argv[], const char *help)
{
	if (argc > 0 && argv[0] != NULL) {
		const char *slash = strrchr(argv[0], '/');
		Progname = slash ? slash + 1 : argv[0];
	}

	int chosen = -1;
	int i = 1;
	while (i < argc) {
		const char *arg = argv[i];
		const char *name = NULL;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;	/* first operand ("-" alone is an operand) */

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			fputs(help, stdout);
			fputs(PMEM_OPTIONS_HELP, stdout);
			exit(0);
		} else if (strcmp(arg, "-m") == 0 ||
				strcmp(arg, "--mode") == 0) {
			if (i + 1 >= argc)
				usage_error("option '%s' needs a MODE", arg);
			name = argv[++i];
		} else if (strncmp(arg, "--mode=", 7) == 0) {
			name = arg + 7;
		} else if (strncmp(arg, "-m", 2) == 0) {
			name = arg + 2;	/* -mfit */
		} else if (strcmp(arg, "-C") == 0) {
			name = "clflush";
		} else if (strcmp(arg, "-O") == 0) {
			name = "clflushopt";
		} else if (strcmp(arg, "-W") == 0) {
			name = "clwb";
		} else if (strcmp(arg, "-M") == 0) {
			name = "msync";
		} else if (strcmp(arg, "-F") == 0) {
			name = "fit";
		} else {
			usage_error("unknown option '%s'", arg);
		}

		chosen = pmem_mode_parse(name);
		if (chosen < 0)
			usage_error("unknown mode '%s' (modes: " MODE_LIST ")",
					name);
		i++;
	}

	if (chosen < 0) {
		const char *env = getenv("PMEM_MODE");
		if (env != NULL && env[0] != '\0') {
			chosen = pmem_mode_parse(env);
			if (chosen < 0)
				usage_error("PMEM_MODE: unknown mode '%s' "
						"(modes: " MODE_LIST ")", env);
		}
	}
	if (chosen >= 0)
		Mode = (enum pmem_mode)chosen;
	return i;
}

/*
 * pmem_map -- map LEN bytes of FD (MAP_PRIVATE in fit mode, see libpmem.h)
 */
void *
pmem_map(int fd, size_t len)
{
	int flags = Mode == PMEM_MODE_FIT ? MAP_PRIVATE : MAP_SHARED;
	struct fit_map *slot = NULL;

	if (Pagesize == 0)
		Pagesize = (uintptr_t)sysconf(_SC_PAGESIZE);

	if (Mode == PMEM_MODE_FIT) {
		for (int i = 0; i < FIT_MAX_MAPS && slot == NULL; i++)
			if (Fit_maps[i].base == NULL)
				slot = &Fit_maps[i];
		if (slot == NULL) {
			errno = EMFILE;
			return NULL;
		}
	}

	void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (base == MAP_FAILED)
		return NULL;

	if (slot != NULL) {
		slot->base = base;
		slot->len = len;
		slot->fd = fd;
	}
	return base;
}

/*
 * pmem_unmap -- unmap and forget a mapping made by pmem_map
 */
int
pmem_unmap(void *addr, size_t len)
{
	for (int i = 0; i < FIT_MAX_MAPS; i++)
		if (Fit_maps[i].base == addr)
			Fit_maps[i].base = NULL;
	return munmap(addr, len);
}

/*
 * fit_writeback -- fit mode's flush: pwrite each whole line of the range
 *
 * One pwrite per line, as the hardware would write the lines back one by
 * one: a crash between two of them leaves the first in the file and not the
 * second, which is what makes a string spanning two lines tear in this mode
 * too. The last line of the file may be partial.
 */
static void
fit_writeback(uintptr_t first, uintptr_t end)
{
	struct fit_map *m = NULL;
	for (int i = 0; i < FIT_MAX_MAPS && m == NULL; i++) {
		uintptr_t b = (uintptr_t)Fit_maps[i].base;
		if (Fit_maps[i].base != NULL && first >= b &&
				first < b + Fit_maps[i].len)
			m = &Fit_maps[i];
	}
	if (m == NULL)
		fatal("fit-mode flush outside every mapped file", EFAULT);

	uintptr_t b = (uintptr_t)m->base;
	if (end > b + m->len)
		end = b + m->len;

	for (uintptr_t line = first; line < end; line += PMEM_LINE) {
		const char *p = (const char *)line;
		size_t left = end - line < PMEM_LINE ? end - line : PMEM_LINE;
		off_t off = (off_t)(line - b);
		while (left > 0) {
			ssize_t n = pwrite(m->fd, p, left, off);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				fatal("pwrite", errno);
			}
			if (n == 0)
				fatal("pwrite", EIO);
			p += n;
			off += n;
			left -= (size_t)n;
		}
	}
}

/*
 * pmem_flush -- write back the lines of [ADDR, ADDR+LEN) (see libpmem.h)
 */
void
pmem_flush(const void *addr, size_t len)
{
	if (len == 0)
		return;

	uintptr_t first = (uintptr_t)addr & ~(uintptr_t)(PMEM_LINE - 1);
	uintptr_t end = (uintptr_t)addr + len;

	switch (Mode) {
	case PMEM_MODE_CLFLUSH:
		for (uintptr_t p = first; p < end; p += PMEM_LINE)
			__asm__ __volatile__("clflush %0"
					: "+m"(*(volatile char *)p)
					: : "memory");
		break;
	case PMEM_MODE_CLFLUSHOPT:
		for (uintptr_t p = first; p < end; p += PMEM_LINE)
			__asm__ __volatile__("clflushopt %0"
					: "+m"(*(volatile char *)p)
					: : "memory");
		break;
	case PMEM_MODE_CLWB:
		for (uintptr_t p = first; p < end; p += PMEM_LINE)
			__asm__ __volatile__("clwb %0"
					: "+m"(*(volatile char *)p)
					: : "memory");
		break;
	case PMEM_MODE_MSYNC: {
		if (Pagesize == 0)
			Pagesize = (uintptr_t)sysconf(_SC_PAGESIZE);
		uintptr_t start = (uintptr_t)addr & ~(Pagesize - 1);
		if (msync((void *)start, end - start, MS_SYNC) != 0)
			fatal("msync", errno);
		break;
	}
	case PMEM_MODE_FIT:
		fit_writeback(first, (end + PMEM_LINE - 1) &
				~(uintptr_t)(PMEM_LINE - 1));
		break;
	}
}

/*
 * pmem_drain -- wait for earlier flushes (see libpmem.h)
 *
 * Only clflushopt and clwb are weakly ordered and need the fence; clflush is
 * ordered by itself, and msync and pwrite are done when they return.
 */
void
pmem_drain(void)
{
	if (Mode == PMEM_MODE_CLFLUSHOPT || Mode == PMEM_MODE_CLWB)
		__asm__ __volatile__("sfence" ::: "memory");
}

/*
 * pmem_persist -- make [ADDR, ADDR+LEN) durable
 */
void
pmem_persist(const void *addr, size_t len)
{
	pmem_flush(addr, len);
	pmem_drain();
}
