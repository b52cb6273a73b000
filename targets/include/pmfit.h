/*
 * pmfit.h -- region markers for the pmfit crash-consistency tracer
 *
 * Include this header and call pmfit_region_begin() / pmfit_region_end()
 * around the code whose crash points pmfit should explore. The header is
 * self-contained: nothing else is needed to compile and link, and it may be
 * included from several files of one program.
 *
 * The traced instructions are those executed after pmfit_region_begin()
 * returns, up to and including the call that enters pmfit_region_end(). The
 * markers' own instructions are not counted. Outside a region the program
 * runs at full speed; regions may be entered many times.
 *
 * pmfit_recovery_begin() / pmfit_recovery_end() (below) mark a recovery the
 * same way, for crashes during recovery.
 *
 * The functions do nothing. pmfit finds them by name in the symbol table and
 * puts breakpoints on their entry, so they must stay real, out-of-line calls:
 * weak (one copy survives linking however many files include this header),
 * never inlined, and opaque to interprocedural optimization so that the
 * compiler cannot drop or merge the calls.
 */
#ifndef PMFIT_H
#define PMFIT_H

#if defined(__clang__)
#define PMFIT_MARKER__ __attribute__((weak, noinline, used, optnone))
#else
#define PMFIT_MARKER__ __attribute__((weak, noinline, used, noipa))
#endif

#ifdef __cplusplus
extern "C" {
#endif

PMFIT_MARKER__ void pmfit_region_begin(void)
{
	__asm__ __volatile__("" ::: "memory");
}

PMFIT_MARKER__ void pmfit_region_end(void)
{
	__asm__ __volatile__("" ::: "memory");
}

/*
 * pmfit_recovery_begin() / pmfit_recovery_end() mark the program's recovery
 * (what it does to a pool it opens after a crash), with the same rules. They
 * are traced only when pmfit crashes the recovery itself (allcounts --depth 2,
 * docs/checking.md); otherwise, and in the traced workload, they cost a call.
 */
PMFIT_MARKER__ void pmfit_recovery_begin(void)
{
	__asm__ __volatile__("" ::: "memory");
}

PMFIT_MARKER__ void pmfit_recovery_end(void)
{
	__asm__ __volatile__("" ::: "memory");
}

#ifdef __cplusplus
}
#endif

#endif /* PMFIT_H */
