/*
 * registers.h -- the general registers of a stopped tracee (rr's Registers)
 *
 * One PTRACE_GETREGS per stop fills them; the accessors hand out tracee
 * addresses as RemotePtr and compute the address a memory operand names.
 */
#ifndef PMFIT_REGISTERS_H
#define PMFIT_REGISTERS_H

#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>

#include "insn.h"
#include "remote_ptr.h"

namespace pmfit {

class Registers {
public:
	/* fetch -- PTRACE_GETREGS; throws TaskError */
	void fetch(pid_t pid);
	/* store -- PTRACE_SETREGS; throws TaskError */
	void store(pid_t pid) const;

	RemotePtr
	ip() const
	{
		return RemotePtr(regs_.rip);
	}
	void
	set_ip(RemotePtr ip)
	{
		regs_.rip = ip.as_int();
	}
	RemotePtr
	sp() const
	{
		return RemotePtr(regs_.rsp);
	}
	/* rdi -- the destination of a string instruction */
	RemotePtr
	rdi() const
	{
		return RemotePtr(regs_.rdi);
	}
	/* flags -- rflags, as a store the tracer makes for the tracee leaves
	 * them (store_emulation.h) */
	uint64_t
	flags() const
	{
		return regs_.eflags;
	}
	void
	set_flags(uint64_t flags)
	{
		regs_.eflags = flags;
	}
	bool
	direction_flag() const
	{
		return (regs_.eflags & EFLAGS_DF) != 0;
	}

	/* at a syscall instruction: its number and arguments; after it: rax */
	int64_t
	syscall_nr() const
	{
		return (int64_t)regs_.rax;
	}
	/* at a syscall-entry stop: the number of the call being entered
	 * (rax holds -ENOSYS there) */
	int64_t
	entered_syscall_nr() const
	{
		return (int64_t)regs_.orig_rax;
	}
	int64_t syscall_arg(int i) const;
	int64_t
	syscall_result() const
	{
		return (int64_t)regs_.rax;
	}

	/*
	 * rewind_restartable_syscall -- at a signal-delivery-stop inside a
	 * system call that the kernel would restart (-ERESTARTSYS and kin in
	 * rax, the call in orig_rax): put rip back on the syscall instruction
	 * with its number in rax, as the kernel does when no handler runs, and
	 * mark the thread out of the call so that the kernel does not do it a
	 * second time. True if it did (then store() the registers).
	 */
	bool rewind_restartable_syscall();

	/* raw -- the kernel's layout, for code that sets registers up for
	 * the kernel itself (injected_syscall.cc) */
	const struct user_regs_struct &
	raw() const
	{
		return regs_;
	}
	struct user_regs_struct &
	raw()
	{
		return regs_;
	}

	/* value -- a register by native.ts Reg number (0 for none) */
	uint64_t value(uint8_t reg) const;
	/* signed_value -- the same, sign-extended from its width (REG_16,
	 * REG_32 or 64 bits): a bit offset */
	int64_t signed_value(uint8_t reg) const;
	/* effective_address -- where a memory operand points now */
	RemotePtr
	effective_address(const MemOperand &op) const
	{
		uint64_t addr = (uint64_t)op.disp;
		if (op.base != REG_NONE)
			addr += value(op.base);
		if (op.index != REG_NONE)
			addr += value(op.index) * op.scale;
		if (op.seg == SEG_FS)
			addr += regs_.fs_base;
		else if (op.seg == SEG_GS)
			addr += regs_.gs_base;
		return RemotePtr(addr);
	}

private:
	static constexpr uint64_t EFLAGS_DF = 1u << 10;

	struct user_regs_struct regs_ {};
};

} /* namespace pmfit */

#endif /* PMFIT_REGISTERS_H */
