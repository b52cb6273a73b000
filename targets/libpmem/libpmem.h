/*
 * libpmem.h -- minimal persistent-memory support shared by the pmfit targets
 *
 * A file is mapped with pmem_map() and its stores are made durable with
 * pmem_persist(), or with its two halves pmem_flush() (write the touched
 * 64-byte lines back) and pmem_drain() (wait until they are durable). How a
 * flush works is chosen once at start-up, so that the same binary can be
 * checked under every flushing discipline:
 *
 *   clflush     (default) clflush on each 64-byte line; drain does nothing,
 *               clflush being ordered with stores and other flushes
 *   clflushopt  clflushopt on each line; drain is sfence
 *   clwb        clwb on each line; drain is sfence
 *   msync       msync(MS_SYNC) on the page-aligned range; drain does nothing
 *   fit         fault-injection mode: the file is mapped MAP_PRIVATE, so
 *               stores never reach it by themselves; a flush pwrite()s the
 *               touched lines back, so only flushed lines ever reach the file
 *
 * The mode comes from the command line (pmem_options) or, failing that, from
 * the PMEM_MODE environment variable; the command line wins.
 */
#ifndef PMFIT_LIBPMEM_H
#define PMFIT_LIBPMEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PMEM_LINE 64

enum pmem_mode {
	PMEM_MODE_CLFLUSH,
	PMEM_MODE_CLFLUSHOPT,
	PMEM_MODE_CLWB,
	PMEM_MODE_MSYNC,
	PMEM_MODE_FIT,
};

/* the mode options, for the programs' usage lines */
#define PMEM_OPTIONS_SYNOPSIS "[-m MODE | -C | -O | -W | -M | -F]"

/* the mode options explained, for the programs' --help text */
#define PMEM_OPTIONS_HELP \
"mode options (before the other arguments; the last one wins):\n" \
"  -m, --mode MODE  how data is made durable: clflush (default),\n" \
"                   clflushopt, clwb, msync or fit; also PMEM_MODE=MODE\n" \
"                   in the environment (an option wins over it)\n" \
"  -C  same as -m clflush     -O  same as -m clflushopt\n" \
"  -W  same as -m clwb        -M  same as -m msync\n" \
"  -F  same as -m fit (map MAP_PRIVATE, write flushed lines back with pwrite)\n"

/*
 * pmem_options -- parse the leading mode options of a program's arguments
 *
 * Consumes -m MODE, --mode MODE, --mode=MODE, -C, -O, -W, -M, -F and "--"
 * from argv[1] on, applies PMEM_MODE when no option chose a mode, and returns
 * the index of the first remaining argument. -h or --help prints help (the
 * program's usage followed by PMEM_OPTIONS_HELP) to stdout and exits 0. On a
 * bad option or mode it prints one line to stderr and exits 2. Also records
 * argv[0]'s base name for libpmem's own error messages.
 */
int pmem_options(int argc, char *argv[], const char *help);

/* pmem_progname -- the program name recorded by pmem_options */
const char *pmem_progname(void);

/* pmem_mode_parse -- the mode named NAME, or -1 when there is no such mode */
int pmem_mode_parse(const char *name);

/* pmem_set_mode / pmem_get_mode -- the mode in force; set it before mapping */
void pmem_set_mode(enum pmem_mode mode);
enum pmem_mode pmem_get_mode(void);

/* pmem_mode_name -- the name of a mode, as accepted by pmem_mode_parse */
const char *pmem_mode_name(enum pmem_mode mode);

/*
 * pmem_map -- map the first LEN bytes of the open file FD for reading and
 * writing; MAP_SHARED except in fit mode (MAP_PRIVATE, and FD must then stay
 * open while the mapping is used). Returns NULL with errno set on failure.
 */
void *pmem_map(int fd, size_t len);

/* pmem_unmap -- undo pmem_map; returns 0 or -1 with errno set */
int pmem_unmap(void *addr, size_t len);

/* pmem_flush -- start writing back the lines of [ADDR, ADDR+LEN) */
void pmem_flush(const void *addr, size_t len);

/* pmem_drain -- wait until every earlier pmem_flush is durable */
void pmem_drain(void);

/* pmem_persist -- make [ADDR, ADDR+LEN) durable: pmem_flush + pmem_drain */
void pmem_persist(const void *addr, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PMFIT_LIBPMEM_H */
