/*
 * debug_registers.h -- the tracee thread's hardware execution breakpoints
 * (DR0-DR3, enabled in DR7), set with PTRACE_POKEUSER
 *
 * The fast recorder's fence hunt (fence_hunt.h) stops the tracee at up to
 * four addresses without touching its code: a debug register matches only
 * where an instruction starts, so an address that is no instruction
 * boundary never fires and corrupts nothing, which an int3 written there
 * would. The kernel sets RF in the stopped thread's flags, so the
 * instruction at a hit runs when the thread goes on. Each write costs about
 * a microsecond; the values in the thread are remembered and only changes
 * are written.
 */
#ifndef PMFIT_DEBUG_REGISTERS_H
#define PMFIT_DEBUG_REGISTERS_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "remote_ptr.h"

namespace pmfit {

class DebugRegisters {
public:
	static constexpr size_t SLOTS = 4;

	/* arm -- execution breakpoints at addrs[0..count) (count <= SLOTS),
	 * the others disabled; false when the kernel refused (no debug
	 * registers for this thread): nothing is armed then */
	bool arm(pid_t pid, const RemotePtr *addrs, size_t count);
	/* disarm -- every breakpoint disabled (a thread that is gone is
	 * ignored) */
	void disarm(pid_t pid);
	bool
	armed() const
	{
		return dr7_ != 0;
	}
	/* hit -- the thread stopped with SIGTRAP: whether one of the armed
	 * breakpoints fired (DR6, which the kernel clears at every debug
	 * exception) */
	bool hit(pid_t pid) const;
	/* forget -- a new thread runs (threads.cc): nothing is known of its
	 * registers; they start disabled */
	void
	forget()
	{
		dr7_ = 0;
		for (uint64_t &addr : addrs_)
			addr = 0;
	}

private:
	uint64_t addrs_[SLOTS] = {0, 0, 0, 0};
	uint64_t dr7_ = 0;
};

} /* namespace pmfit */

#endif /* PMFIT_DEBUG_REGISTERS_H */
