/*
 * registers.cc -- Registers: ptrace transfer and native.ts register numbers
 */
#include "registers.h"

#include <sys/ptrace.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "error.h"

namespace pmfit {

namespace {

/* REG_OFFSET -- native.ts Reg numbers to user_regs_struct fields */
const size_t REG_OFFSET[REG_COUNT] = {
	0,
	offsetof(struct user_regs_struct, rax),
	offsetof(struct user_regs_struct, rcx),
	offsetof(struct user_regs_struct, rdx),
	offsetof(struct user_regs_struct, rbx),
	offsetof(struct user_regs_struct, rsp),
	offsetof(struct user_regs_struct, rbp),
	offsetof(struct user_regs_struct, rsi),
	offsetof(struct user_regs_struct, rdi),
	offsetof(struct user_regs_struct, r8),
	offsetof(struct user_regs_struct, r9),
	offsetof(struct user_regs_struct, r10),
	offsetof(struct user_regs_struct, r11),
	offsetof(struct user_regs_struct, r12),
	offsetof(struct user_regs_struct, r13),
	offsetof(struct user_regs_struct, r14),
	offsetof(struct user_regs_struct, r15),
};

} /* namespace */

void
Registers::fetch(pid_t pid)
{
	if (ptrace(PTRACE_GETREGS, pid, nullptr, &regs_) != 0)
		throw TaskError(syserr("PTRACE_GETREGS " + std::to_string(pid), errno));
}

void
Registers::store(pid_t pid) const
{
	if (ptrace(PTRACE_SETREGS, pid, nullptr, &regs_) != 0)
		throw TaskError(syserr("PTRACE_SETREGS at " + hex(regs_.rip), errno));
}

int64_t
Registers::syscall_arg(int i) const
{
	/* the x86-64 syscall convention: rdi, rsi, rdx, r10, r8, r9 */
	switch (i) {
	case 0:
		return (int64_t)regs_.rdi;
	case 1:
		return (int64_t)regs_.rsi;
	case 2:
		return (int64_t)regs_.rdx;
	case 3:
		return (int64_t)regs_.r10;
	case 4:
		return (int64_t)regs_.r8;
	case 5:
		return (int64_t)regs_.r9;
	}
	PMFIT_ASSERT(i >= 0 && i < 6);
	return 0;
}

uint64_t
Registers::value(uint8_t reg) const
{
	unsigned n = reg & 31u;
	if (n == 0 || n >= REG_COUNT)
		return 0;
	uint64_t value;
	memcpy(&value, reinterpret_cast<const char *>(&regs_) + REG_OFFSET[n], sizeof(value));
	return (reg & REG_32) ? (uint32_t)value : value;
}

int64_t
Registers::signed_value(uint8_t reg) const
{
	const uint64_t raw = value(reg & ~REG_32);
	if (reg & REG_16)
		return (int16_t)raw;
	if (reg & REG_32)
		return (int32_t)raw;
	return (int64_t)raw;
}

bool
Registers::rewind_restartable_syscall()
{
	/* include/linux/errno.h; arch/x86/kernel/signal.c
	 * arch_do_signal_or_restart() */
	constexpr int64_t ERESTARTSYS = -512, ERESTARTNOINTR = -513, ERESTARTNOHAND = -514,
			  ERESTART_RESTARTBLOCK = -516;
	constexpr uint64_t NR_RESTART_SYSCALL = 219;
	constexpr uint64_t SYSCALL_INSN_LENGTH = 2; /* syscall and int 0x80 */
	const int64_t nr = (int64_t)regs_.orig_rax;
	const int64_t ax = (int64_t)regs_.rax;
	if (nr < 0)
		return false;
	if (ax == ERESTARTSYS || ax == ERESTARTNOINTR || ax == ERESTARTNOHAND)
		regs_.rax = (uint64_t)nr;
	else if (ax == ERESTART_RESTARTBLOCK)
		regs_.rax = NR_RESTART_SYSCALL;
	else
		return false;
	regs_.rip -= SYSCALL_INSN_LENGTH;
	regs_.orig_rax = (uint64_t)-1;
	return true;
}

} /* namespace pmfit */
