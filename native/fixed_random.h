/*
 * fixed_random.h -- the same AT_RANDOM bytes for every traced run
 */
#ifndef PMFIT_FIXED_RANDOM_H
#define PMFIT_FIXED_RANDOM_H

#include <sys/types.h>

namespace pmfit {

/*
 * fix_at_random -- overwrite the 16 random bytes the kernel gave the process
 * at exec (the auxiliary vector's AT_RANDOM) with fixed ones, while it is
 * stopped at its PTRACE_EVENT_EXEC and before its first instruction.
 *
 * glibc makes the stack protector's canary and the pointer guard
 * (PTR_MANGLE, used in setjmp's jmp_buf) from these bytes. Programs copy
 * stack memory into PM (libpmemobj's transactions store a stack frame with
 * its canary in the pool), so with fresh bytes per exec two recordings of the
 * same program on the same file differ, and so do shards of one run. With
 * ASLR off (as pmfit runs every tracee) this makes a run repeatable.
 * Throws TaskError when the vector cannot be read or the bytes written.
 */
void fix_at_random(pid_t pid);

} /* namespace pmfit */

#endif /* PMFIT_FIXED_RANDOM_H */
