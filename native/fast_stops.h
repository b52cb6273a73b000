/*
 * fast_stops.h -- FastStops: the fast recorder's stops of the tracee by
 * cause, for the trace header (harness/trace/format.ts FastStops;
 * docs/recording.md, "Where the fast recorder's time goes")
 *
 * A fast recording costs a few tens of microseconds per stop of the tracee
 * (its single steps are in the header already, as the instruction count):
 * these say where the others went, per recording, so a slow one can be
 * told from the trace alone.
 */
#ifndef PMFIT_FAST_STOPS_H
#define PMFIT_FAST_STOPS_H

#include <cstdint>

namespace pmfit {

struct FastStops {
	uint64_t faults = 0;	   /* accesses of protected PM (stores; loads and flushes of PROT_NONE pages) */
	uint64_t watch_faults = 0; /* stores to pages watched for the fence hunt (pm_protection.h) */
	uint64_t flush_traps = 0;  /* flushes stopped at their trap */
	uint64_t frontier = 0;	   /* stops at the fence hunt's int3s */
	uint64_t syscalls = 0;	   /* system calls taken back at their entry */
	uint64_t mprotects = 0;	   /* mprotect calls made in the tracee */
	uint64_t emulated = 0;	   /* stores to protected PM the tracer made itself (store_emulation.h) */
};

} /* namespace pmfit */

#endif /* PMFIT_FAST_STOPS_H */
