/*
 * debug_registers.cc -- DebugRegisters: DR0-DR3 and DR7 through
 * PTRACE_POKEUSER, DR6 through PTRACE_PEEKUSER
 */
#include "debug_registers.h"

#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include <cerrno>

namespace pmfit {

namespace {

long
dr_offset(int n)
{
	return (long)(offsetof(struct user, u_debugreg) + n * sizeof(((struct user *)nullptr)->u_debugreg[0]));
}

bool
poke_dr(pid_t pid, int n, uint64_t value)
{
	return ptrace(PTRACE_POKEUSER, pid, (void *)dr_offset(n), (void *)value) == 0;
}

} /* namespace */

bool
DebugRegisters::arm(pid_t pid, const RemotePtr *addrs, size_t count)
{
	if (count > SLOTS)
		count = SLOTS;
	/* an execution breakpoint: local enable bit, R/W 00 and LEN 00 */
	uint64_t dr7 = 0;
	for (size_t i = 0; i < count; i++)
		dr7 |= 1ull << (2 * i);
	/* slots that go away are disabled first, so that no stale address
	 * fires while the others change */
	if ((dr7_ & ~dr7) != 0) {
		if (!poke_dr(pid, 7, dr7_ & dr7)) {
			disarm(pid);
			return false;
		}
		dr7_ &= dr7;
	}
	for (size_t i = 0; i < count; i++) {
		const uint64_t addr = addrs[i].as_int();
		if (addrs_[i] == addr)
			continue;
		if (!poke_dr(pid, (int)i, addr)) {
			disarm(pid);
			return false;
		}
		addrs_[i] = addr;
	}
	if (dr7 != dr7_) {
		if (!poke_dr(pid, 7, dr7)) {
			disarm(pid);
			return false;
		}
		dr7_ = dr7;
	}
	return true;
}

void
DebugRegisters::disarm(pid_t pid)
{
	if (dr7_ == 0)
		return;
	/* a thread that is gone has no breakpoints left to fire */
	poke_dr(pid, 7, 0);
	dr7_ = 0;
}

bool
DebugRegisters::hit(pid_t pid) const
{
	if (dr7_ == 0)
		return false;
	errno = 0;
	const long dr6 = ptrace(PTRACE_PEEKUSER, pid, (void *)dr_offset(6), nullptr);
	if (errno != 0)
		return false;
	uint64_t enabled = 0;
	for (size_t i = 0; i < SLOTS; i++) {
		if (dr7_ & (1ull << (2 * i)))
			enabled |= 1ull << i;
	}
	return ((uint64_t)dr6 & enabled) != 0;
}

} /* namespace pmfit */
