/*
 * injected_syscall.h -- system calls the tracer makes a stopped tracee run
 * (rr's AutoRemoteSyscalls), and taking back a system call the tracee was
 * about to make
 *
 * The fast recorder changes the protection of the tracee's PM pages, which
 * only the tracee itself can do. The tracer sets the registers for the
 * call, single-steps a `syscall` instruction and puts the registers back.
 * The instruction is one the tracee already has where nothing can change it
 * (a syscall site: 0f 05 in its vDSO, found with the /proc/PID/maps the
 * caller reads anyway), so that no code is written; without one, or while
 * an int3 of the tracer's covers it (the caller knows its own), a
 * `syscall` is written over the code at rip for the step and the code put
 * back. The caller passes the registers it already holds from the stop,
 * so that no call begins with a PTRACE_GETREGS. Signals that arrive
 * meanwhile are not delivered; they are handed back to the caller, which
 * queues them again.
 */
#ifndef PMFIT_INJECTED_SYSCALL_H
#define PMFIT_INJECTED_SYSCALL_H

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <vector>

#include "remote_ptr.h"

namespace pmfit {

/* Registers (registers.h) is only declared: its <sys/user.h> defines a
 * PAGE_SHIFT macro that insn_cache.h, included after this header in some
 * files, cannot take */
class Registers;

/* SYSCALL_INSN_LEN -- `syscall`, `sysenter` and `int 0x80` are all 2 bytes */
constexpr uint64_t SYSCALL_INSN_LEN = 2;

/* TracerSyscall -- what an injected or taken-back call came to */
struct TracerSyscall {
	bool alive = true; /* false: the tracee died; status is its wait status */
	int status = 0;
	int64_t result = 0; /* the syscall's return value (-errno) */
};

/* find_syscall_site -- a `syscall` instruction in [start, end), an
 * executable mapping the program cannot write: `known` if its two bytes
 * still are 0f 05 there, else the first 0f 05 of the mapping; null when
 * there is none */
RemotePtr find_syscall_site(pid_t pid, uint64_t start, uint64_t end, RemotePtr known);

/* inject_syscall -- run syscall nr with args in the tracee, stopped at a
 * ptrace stop with registers regs (as fetched at that stop; they are what
 * the tracee has again afterwards), at site (find_syscall_site, valid
 * since the mappings were read, no int3 of ours over it) or, when it is
 * null, over the code at rip.
 * Signals stopped meanwhile are appended to *deferred. Throws TaskError
 * when ptrace refuses, or when regs were not the tracee's. */
TracerSyscall inject_syscall(pid_t pid, const Registers &regs, RemotePtr site, long nr,
			     const std::array<uint64_t, 6> &args, std::vector<int> *deferred);

/* take_back_syscall -- at a syscall-entry stop (PTRACE_SYSCALL with
 * PTRACE_O_TRACESYSGOOD): the call is skipped and the tracee is left
 * stopped before its syscall instruction with the registers it had there
 * (*regs), so that it can be stepped again */
TracerSyscall take_back_syscall(pid_t pid, Registers *regs, std::vector<int> *deferred);

} /* namespace pmfit */

#endif /* PMFIT_INJECTED_SYSCALL_H */
