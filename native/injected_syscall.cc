/*
 * injected_syscall.cc -- system calls run in the tracee for the tracer, and
 * system calls of the tracee taken back at their entry
 */
#include "injected_syscall.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>

#include "error.h"
#include "quirks.h"
#include "registers.h"
#include "tracee_memory.h"
#include "wait_status.h"

namespace pmfit {

namespace {

/* SYSCALL_INSN -- `syscall` (0f 05) as the low bytes of a little-endian word */
constexpr uint64_t SYSCALL_INSN = 0x050f;
/* MAX_TRIES -- stops of other kinds an injected step may meet before it
 * completes (signals, group stops); more means something is wrong */
constexpr int MAX_TRIES = 64;

bool
is_syscall_insn(const uint8_t *bytes)
{
	return bytes[0] == (SYSCALL_INSN & 0xff) && bytes[1] == (SYSCALL_INSN >> 8);
}

void
restart(pid_t pid, enum __ptrace_request how)
{
	if (ptrace(how, pid, nullptr, nullptr) != 0 && errno != ESRCH)
		throw TaskError(syserr("ptrace restart " + std::to_string(pid), errno));
}

/* other_stop -- a stop that is not the one waited for: a signal is kept
 * for the caller (not delivered now), a group stop or event is passed */
void
other_stop(pid_t pid, int status, std::vector<int> *deferred)
{
	const int sig = WSTOPSIG(status);
	if ((status >> 16) != 0 || sig == SIGTRAP || (sig & 0x80))
		return;
	if (!quirks::is_group_stop(pid, sig))
		deferred->push_back(sig);
}

/* same_frame -- the registers an injected call leaves alone (stack
 * pointer, callee-saved and segment bases) agree: registers that a caller
 * passed in and that differ here were not the tracee's, and putting them
 * back would corrupt it */
bool
same_frame(const struct user_regs_struct &a, const struct user_regs_struct &b)
{
	return a.rsp == b.rsp && a.rbp == b.rbp && a.rbx == b.rbx && a.r12 == b.r12 && a.r13 == b.r13 &&
	       a.r14 == b.r14 && a.r15 == b.r15 && a.fs_base == b.fs_base && a.gs_base == b.gs_base;
}

} /* namespace */

RemotePtr
find_syscall_site(pid_t pid, uint64_t start, uint64_t end, RemotePtr known)
{
	uint8_t pair[SYSCALL_INSN_LEN];
	if (!known.is_null() && known.as_int() >= start && known.as_int() + SYSCALL_INSN_LEN <= end &&
	    read_tracee(pid, known, pair, sizeof(pair)) == sizeof(pair) && is_syscall_insn(pair))
		return known;
	if (end <= start)
		return RemotePtr();
	std::vector<uint8_t> code(end - start);
	const size_t got = read_tracee(pid, RemotePtr(start), code.data(), code.size());
	for (size_t i = 0; i + SYSCALL_INSN_LEN <= got; i++) {
		if (is_syscall_insn(&code[i]))
			return RemotePtr(start + i);
	}
	return RemotePtr();
}

TracerSyscall
inject_syscall(pid_t pid, const Registers &regs, RemotePtr site, long nr, const std::array<uint64_t, 6> &args,
	       std::vector<int> *deferred)
{
	TracerSyscall out;
	/* no syscall site: a syscall written over the code at rip */
	const bool patch = site.is_null();
	const uint64_t at = patch ? regs.ip().as_int() : site.as_int();
	long word = 0;
	if (patch) {
		errno = 0;
		word = ptrace(PTRACE_PEEKTEXT, pid, (void *)at, nullptr);
		if (errno != 0)
			throw TaskError(syserr("PTRACE_PEEKTEXT at " + hex(at), errno));
		const uint64_t patched = ((uint64_t)word & ~(uint64_t)0xffff) | SYSCALL_INSN;
		if (ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)patched) != 0)
			throw TaskError(syserr("PTRACE_POKETEXT at " + hex(at), errno));
	}

	Registers call = regs;
	struct user_regs_struct &r = call.raw();
	r.rax = (uint64_t)nr;
	r.orig_rax = (uint64_t)-1;
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.r10 = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	r.rip = at;
	call.store(pid);
	Registers after;
	for (int tries = 0;; tries++) {
		if (tries == MAX_TRIES)
			throw TaskError("an injected system call did not complete in process " + std::to_string(pid));
		restart(pid, PTRACE_SINGLESTEP);
		int status = wait_blocking(pid);
		if (!WIFSTOPPED(status)) {
			out.alive = false;
			out.status = status;
			return out;
		}
		if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0) {
			after.fetch(pid);
			if (after.ip().as_int() == at + SYSCALL_INSN_LEN)
				break;
			/* a SIGTRAP sent to the tracee stopped it before the
			 * call; anything else ran code that is not ours */
			if (after.ip().as_int() != at)
				throw TaskError("an injected system call at " + hex(at) + " stopped at " +
						hex(after.ip().as_int()) + " in process " + std::to_string(pid));
			continue;
		}
		other_stop(pid, status, deferred);
	}
	if (!same_frame(after.raw(), regs.raw()))
		throw TaskError("registers given for an injected system call were not those of process " +
				std::to_string(pid) + " (stack pointer " + hex(regs.sp().as_int()) + ", the tracee's " +
				hex(after.sp().as_int()) + ")");
	out.result = after.syscall_result();
	if (patch && ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)word) != 0)
		throw TaskError(syserr("PTRACE_POKETEXT at " + hex(at), errno));
	regs.store(pid);
	return out;
}

TracerSyscall
take_back_syscall(pid_t pid, Registers *regs, std::vector<int> *deferred)
{
	TracerSyscall out;
	regs->fetch(pid);
	struct user_regs_struct &r = regs->raw();
	Registers skip = *regs;
	skip.raw().orig_rax = (uint64_t)-1; /* the kernel runs no call: -ENOSYS */
	skip.store(pid);
	for (int tries = 0;; tries++) {
		if (tries == MAX_TRIES)
			throw TaskError("a skipped system call did not return in process " + std::to_string(pid));
		restart(pid, PTRACE_SYSCALL);
		int status = wait_blocking(pid);
		if (!WIFSTOPPED(status)) {
			out.alive = false;
			out.status = status;
			return out;
		}
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			break;
		other_stop(pid, status, deferred);
	}
	r.rip -= SYSCALL_INSN_LEN;
	r.rax = r.orig_rax;
	r.orig_rax = (uint64_t)-1;
	regs->store(pid);
	return out;
}

} /* namespace pmfit */
