/*
 * injected_syscall.h -- system calls the tracer makes a stopped tracee run
 * (rr's AutoRemoteSyscalls), and taking back a system call the tracee was
 * about to make
 *
 * The fast recorder changes the protection of the tracee's PM pages, which
 * only the tracee itself can do: the tracer writes a `syscall` instruction
 * over the code at rip, sets the registers, single-steps it and puts code
 * and registers back. Signals that arrive meanwhile are not delivered; they
 * are handed back to the caller, which queues them again.
 */
#ifndef PMFIT_INJECTED_SYSCALL_H
#define PMFIT_INJECTED_SYSCALL_H

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <vector>

namespace pmfit {

/* TracerSyscall -- what an injected or taken-back call came to */
struct TracerSyscall {
	bool alive = true; /* false: the tracee died; status is its wait status */
	int status = 0;
	int64_t result = 0; /* the syscall's return value (-errno) */
};

/* inject_syscall -- run syscall nr with args in the tracee, stopped at a
 * ptrace stop with its registers as they are; signals stopped meanwhile are
 * appended to *deferred. Throws TaskError when ptrace refuses. */
TracerSyscall inject_syscall(pid_t pid, long nr, const std::array<uint64_t, 6> &args, std::vector<int> *deferred);

/* take_back_syscall -- at a syscall-entry stop (PTRACE_SYSCALL with
 * PTRACE_O_TRACESYSGOOD): the call is skipped and the tracee is left
 * stopped before its syscall instruction with the registers it had there,
 * so that it can be stepped again */
TracerSyscall take_back_syscall(pid_t pid, std::vector<int> *deferred);

} /* namespace pmfit */

#endif /* PMFIT_INJECTED_SYSCALL_H */
