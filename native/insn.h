/*
 * insn.h -- what the decoder (harness/trace/decode.ts) tells the tracer
 * about one instruction: its flags and the memory operands it writes
 *
 * The numbers in the enums below are the contract with
 * harness/tracer/native.ts; change them together.
 */
#ifndef PMFIT_INSN_H
#define PMFIT_INSN_H

#include <cstdint>
#include <vector>

namespace pmfit {

/* InsnFlag -- native.ts InsnFlag */
enum InsnFlag : uint32_t {
	INSN_NT_STORE = 1u << 0,
	INSN_CLFLUSH = 1u << 1,
	INSN_CLFLUSHOPT = 1u << 2,
	INSN_CLWB = 1u << 3,
	INSN_FENCE = 1u << 4,
	INSN_LOCKED = 1u << 5,
	INSN_SYSCALL = 1u << 6,
	INSN_REP_STRING = 1u << 7,
	INSN_UNSUPPORTED = 1u << 8,
	/* native only, from Task::kernel_entry_at's byte scan: int3, int1,
	 * int n or syscall, after which a SIGTRAP stop may be the program's */
	INSN_TRAPS = 1u << 31,
};

/* Reg -- native.ts Reg: x86 encoding order plus one, 0 = none, +32 = 32-bit */
enum : uint8_t {
	REG_NONE = 0,
	REG_COUNT = 17,
	REG_32 = 32,
};

enum : uint8_t {
	SEG_NONE = 0,
	SEG_FS = 1,
	SEG_GS = 2,
};

struct MemOperand {
	uint8_t base = REG_NONE;
	uint8_t index = REG_NONE;
	uint8_t scale = 1;
	uint8_t seg = SEG_NONE;
	uint32_t size = 0;
	int64_t disp = 0; /* for rip-relative operands: the absolute address */
};

struct InsnInfo {
	/* MAX_WRITES -- memory operands of one instruction that are followed;
	 * x86 has none writing more than two */
	static constexpr size_t MAX_WRITES = 8;

	uint32_t length = 0;
	uint32_t flags = 0;
	std::vector<MemOperand> writes;
};

} /* namespace pmfit */

#endif /* PMFIT_INSN_H */
