/*
 * basic.c -- append strings to a persistent-memory file and print them back
 *
 * Usage:
 *   basic [MODE-OPTIONS] FILE STRING...   append each STRING
 *   basic [MODE-OPTIONS] FILE             print the stored strings, one a line
 *   MODE-OPTIONS: -m MODE | --mode MODE | -C | -O | -W | -M | -F  (libpmem.h)
 *
 * File format: the whole file is a sequence of NUL-terminated strings packed
 * from offset 0, followed by zero bytes. The stored strings are read from
 * offset 0 up to the first empty string (a NUL where a string would start) or
 * the end of the file; a last string cut off by the end of the file counts as
 * stored. A missing or empty FILE is first made BASIC_SIZE (8192) zero bytes
 * long, in both forms (so `basic FILE` creates an empty store); an existing
 * file keeps its size, and a string that does not fit is an error. Empty
 * strings cannot be stored (an empty string is the end marker).
 *
 * Each string is copied in and then persisted, each in its own pmfit region
 * (one region per string: one operation each for the harness's model).
 * There is deliberately no crash protection: a crash in the middle of a
 * string can leave it torn, which makes basic the harness's positive control.
 *
 * Exit status: 0 success, 1 runtime failure (I/O, no room), 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpmem.h"
#include "pmfit.h"

#define BASIC_SIZE 8192

static const char Help[] =
"usage: basic " PMEM_OPTIONS_SYNOPSIS " FILE [STRING...]\n"
"Append each STRING (NUL-terminated) to the persistent-memory FILE; with no\n"
"STRING, print the stored strings one a line. A missing or empty FILE is\n"
"first made 8192 zero bytes long. Exit status: 0 ok, 1 failure, 2 usage.\n";

static const char *Prog = "basic";

/*
 * die -- report a runtime failure and exit 1
 */
static void
die(const char *file, const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s: %s%s%s\n", Prog, file, what,
			detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/*
 * stored_end -- offset just past the stored strings of a SIZE-byte image
 *
 * This is where the next string goes; it is SIZE when the file is full
 * (including when its last string is cut off by the end of the file).
 */
static size_t
stored_end(const char *base, size_t size)
{
	size_t pos = 0;
	while (pos < size && base[pos] != '\0')
		pos += strnlen(base + pos, size - pos) + 1;
	return pos < size ? pos : size;
}

/*
 * print_strings -- write the stored strings of a SIZE-byte image, one a line
 */
static void
print_strings(const char *base, size_t size)
{
	size_t pos = 0;
	while (pos < size && base[pos] != '\0') {
		size_t len = strnlen(base + pos, size - pos);
		fwrite(base + pos, 1, len, stdout);
		putchar('\n');
		pos += len + 1;
	}
}

/*
 * append -- store STR after the strings already in the image and persist it
 *
 * Returns the new end offset. The copy and the persist are the traced
 * operation; nothing protects a crash between them, on purpose.
 */
static size_t
append(const char *file, char *base, size_t size, size_t end, const char *str)
{
	size_t len = strlen(str);
	if (len + 1 > size - end) {
		char room[64];
		snprintf(room, sizeof(room), "%zu bytes left, %zu needed",
				size - end, len + 1);
		die(file, "no room for another string", room);
	}

	pmfit_region_begin();
	memcpy(base + end, str, len + 1);
	pmem_persist(base + end, len + 1);
	pmfit_region_end();

	return end + len + 1;
}

int
main(int argc, char *argv[])
{
	int first = pmem_options(argc, argv, Help);
	Prog = pmem_progname();

	if (first >= argc) {
		fprintf(stderr, "%s: missing FILE (usage: basic "
				PMEM_OPTIONS_SYNOPSIS " FILE [STRING...])\n",
				Prog);
		return 2;
	}
	const char *file = argv[first];
	char **strings = argv + first + 1;
	int nstrings = argc - first - 1;

	for (int i = 0; i < nstrings; i++)
		if (strings[i][0] == '\0') {
			fprintf(stderr, "%s: an empty STRING cannot be stored "
					"(it marks the end of the strings)\n",
					Prog);
			return 2;
		}

	int fd = open(file, O_RDWR | O_CREAT, 0666);
	if (fd < 0)
		die(file, "cannot open", strerror(errno));

	struct stat st;
	if (fstat(fd, &st) != 0)
		die(file, "cannot stat", strerror(errno));
	if (!S_ISREG(st.st_mode))
		die(file, "not a regular file", NULL);

	size_t size = (size_t)st.st_size;
	if (size == 0) {
		if (ftruncate(fd, BASIC_SIZE) != 0)
			die(file, "cannot extend", strerror(errno));
		size = BASIC_SIZE;
	}

	char *base = pmem_map(fd, size);
	if (base == NULL)
		die(file, "cannot map", strerror(errno));

	if (nstrings == 0) {
		print_strings(base, size);
		if (fflush(stdout) != 0 || ferror(stdout))
			die("stdout", "write error", strerror(errno));
	} else {
		size_t end = stored_end(base, size);
		for (int i = 0; i < nstrings; i++)
			end = append(file, base, size, end, strings[i]);
	}

	pmem_unmap(base, size);
	close(fd);
	return 0;
}
