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
#include "wait_status.h"

namespace pmfit {

namespace {

/* SYSCALL_INSN -- `syscall` (0f 05) as the low bytes of a little-endian word */
constexpr uint64_t SYSCALL_INSN = 0x050f;
/* SYSCALL_INSN_LEN -- `syscall`, `sysenter` and `int 0x80` are all 2 bytes */
constexpr uint64_t SYSCALL_INSN_LEN = 2;
/* MAX_TRIES -- stops of other kinds an injected step may meet before it
 * completes (signals, group stops); more means something is wrong */
constexpr int MAX_TRIES = 64;

void
get_regs(pid_t pid, struct user_regs_struct *regs)
{
	if (ptrace(PTRACE_GETREGS, pid, nullptr, regs) != 0)
		throw TaskError(syserr("PTRACE_GETREGS " + std::to_string(pid), errno));
}

void
set_regs(pid_t pid, const struct user_regs_struct &regs)
{
	if (ptrace(PTRACE_SETREGS, pid, nullptr, &regs) != 0)
		throw TaskError(syserr("PTRACE_SETREGS " + std::to_string(pid), errno));
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

} /* namespace */

TracerSyscall
inject_syscall(pid_t pid, long nr, const std::array<uint64_t, 6> &args, std::vector<int> *deferred)
{
	TracerSyscall out;
	struct user_regs_struct saved;
	get_regs(pid, &saved);
	const uint64_t at = saved.rip;
	errno = 0;
	const long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)at, nullptr);
	if (errno != 0)
		throw TaskError(syserr("PTRACE_PEEKTEXT at " + hex(at), errno));
	const uint64_t patched = ((uint64_t)word & ~(uint64_t)0xffff) | SYSCALL_INSN;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)patched) != 0)
		throw TaskError(syserr("PTRACE_POKETEXT at " + hex(at), errno));

	struct user_regs_struct regs = saved;
	regs.rax = (uint64_t)nr;
	regs.orig_rax = (uint64_t)-1;
	regs.rdi = args[0];
	regs.rsi = args[1];
	regs.rdx = args[2];
	regs.r10 = args[3];
	regs.r8 = args[4];
	regs.r9 = args[5];
	regs.rip = at;
	set_regs(pid, regs);
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
			get_regs(pid, &regs);
			if (regs.rip == at + SYSCALL_INSN_LEN)
				break;
			continue;
		}
		other_stop(pid, status, deferred);
	}
	out.result = (int64_t)regs.rax;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)word) != 0)
		throw TaskError(syserr("PTRACE_POKETEXT at " + hex(at), errno));
	set_regs(pid, saved);
	return out;
}

TracerSyscall
take_back_syscall(pid_t pid, std::vector<int> *deferred)
{
	TracerSyscall out;
	struct user_regs_struct saved;
	get_regs(pid, &saved);
	struct user_regs_struct skip = saved;
	skip.orig_rax = (uint64_t)-1; /* the kernel runs no call: -ENOSYS */
	set_regs(pid, skip);
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
	saved.rip -= SYSCALL_INSN_LEN;
	saved.rax = saved.orig_rax;
	saved.orig_rax = (uint64_t)-1;
	set_regs(pid, saved);
	return out;
}

} /* namespace pmfit */
