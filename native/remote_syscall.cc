/*
 * remote_syscall.cc -- one system call in the tracee: `syscall` (0f 05)
 * over the two bytes at rip, one PTRACE_SINGLESTEP, everything put back
 */
#include "remote_syscall.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>

#include "error.h"
#include "wait_status.h"

namespace pmfit {

namespace {

/* SYSCALL_INSN -- the bytes of `syscall`, as the low two of a text word */
constexpr uint64_t SYSCALL_INSN = 0x050f;

/* MAX_ATTEMPTS -- steps tried before giving up when signals keep
 * arriving: each signal-delivery-stop ends a step before the syscall ran */
constexpr int MAX_ATTEMPTS = 64;

void
set_regs(pid_t pid, const user_regs_struct &regs)
{
	if (ptrace(PTRACE_SETREGS, pid, nullptr, &regs) != 0)
		throw TaskError(syserr("PTRACE_SETREGS " + std::to_string(pid), errno));
}

} /* namespace */

int64_t
remote_syscall(pid_t pid, long nr, const std::vector<uint64_t> &args, std::vector<int> *signals)
{
	PMFIT_ASSERT(args.size() <= 6);
	user_regs_struct saved;
	if (ptrace(PTRACE_GETREGS, pid, nullptr, &saved) != 0)
		throw TaskError(syserr("PTRACE_GETREGS " + std::to_string(pid), errno));
	const uint64_t at = saved.rip;
	errno = 0;
	const long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)at, nullptr);
	if (errno != 0)
		throw TaskError(syserr("PTRACE_PEEKTEXT " + hex(at), errno));
	const uint64_t patched = ((uint64_t)word & ~(uint64_t)0xffff) | SYSCALL_INSN;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)patched) != 0)
		throw TaskError(syserr("PTRACE_POKETEXT " + hex(at), errno));

	user_regs_struct call = saved;
	unsigned long long *const arg_regs[6] = {&call.rdi, &call.rsi, &call.rdx, &call.r10, &call.r8, &call.r9};
	for (size_t i = 0; i < args.size(); i++)
		*arg_regs[i] = args[i];
	call.rax = (uint64_t)nr;
	/* not at a syscall-stop: no restart of an interrupted call */
	call.orig_rax = (uint64_t)-1;

	int64_t result = 0;
	bool done = false;
	try {
		for (int attempt = 0; attempt < MAX_ATTEMPTS && !done; attempt++) {
			set_regs(pid, call);
			if (ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr) != 0)
				throw TaskError(syserr("PTRACE_SINGLESTEP " + std::to_string(pid), errno));
			WaitStatus w = WaitStatus::classify(pid, wait_blocking(pid));
			if (!w.is_stop())
				throw TaskError("process " + std::to_string(pid) +
						" ended during a system call of the tracer");
			user_regs_struct now;
			if (ptrace(PTRACE_GETREGS, pid, nullptr, &now) != 0)
				throw TaskError(syserr("PTRACE_GETREGS " + std::to_string(pid), errno));
			if (now.rip == at + 2) {
				result = (int64_t)now.rax;
				done = true;
			} else if (w.kind() == WaitStatus::Kind::Signal) {
				/* stopped for a signal before the syscall ran */
				signals->push_back(w.value());
			}
		}
	} catch (...) {
		ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)word);
		throw;
	}
	if (ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)word) != 0)
		throw TaskError(syserr("PTRACE_POKETEXT " + hex(at), errno));
	set_regs(pid, saved);
	if (!done)
		throw TaskError("the tracee did not run the tracer's system call " + std::to_string(nr));
	return result;
}

} /* namespace pmfit */
