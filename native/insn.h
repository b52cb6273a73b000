/*
 * insn.h -- what the decoder (harness/record/decode.ts) tells the tracer
 * about one instruction: its flags and the memory operands it writes
 *
 * The numbers in the enums below are the contract with
 * harness/tracer/native.ts; change them together.
 */
#ifndef PMFIT_INSN_H
#define PMFIT_INSN_H

#include <cstddef>
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
	/* writes rsp other than by rsp_add (leave, mov rsp, ...) */
	INSN_RSP_OTHER = 1u << 9,
	/* native only, from Task::kernel_entry_at's byte scan: an AVX-512
	 * scatter (scatter.h) */
	INSN_SCATTER = 1u << 30,
	/* native only, from Task::kernel_entry_at's byte scan: int3, int1,
	 * int n or syscall, after which a SIGTRAP stop may be the program's */
	INSN_TRAPS = 1u << 31,
};

/* InsnFlow -- native.ts InsnFlow: where control goes after the instruction
 * (the fast recorder's fence hunt follows the direct ones: fence_hunt.h) */
enum InsnFlow : uint8_t {
	FLOW_NEXT = 0,	   /* the next instruction */
	FLOW_BRANCH = 1,   /* a conditional direct branch: target or the next */
	FLOW_JUMP = 2,	   /* a direct jmp: target */
	FLOW_CALL = 3,	   /* a direct call: target */
	FLOW_OTHER = 4,	   /* anything else: far, interrupt, xbegin, syscall */
	FLOW_RETURN = 5,   /* a near ret: to the address at rsp */
	FLOW_INDIRECT = 6, /* a near jmp or call through via or via_reg */
};

/* Reg -- native.ts Reg: x86 encoding order plus one, 0 = none, +32 = 32-bit,
 * +64 = 16-bit (bit offsets only) */
enum : uint8_t {
	REG_NONE = 0,
	REG_COUNT = 17,
	REG_32 = 32,
	REG_16 = 64,
};

/* Vec -- native.ts Vec: xmm/ymm/zmm 0..31, mm i at VEC_MM + i */
enum : uint8_t {
	VEC_MM = 32,
	VEC_COUNT = 40,
};

/* MemKind -- native.ts MemKind: how the bytes an operand writes follow from
 * it and the registers; only MEM_PLAIN is `size` bytes at the address */
enum MemKind : uint8_t {
	MEM_PLAIN = 0,
	MEM_BIT_OFFSET = 1,
	MEM_OPMASK = 2,
	MEM_VEC_MASK = 3,
	MEM_COMPRESS = 4,
	MEM_SCATTER = 5,
	MEM_XSAVE = 6,
	MEM_XSAVE_OPT = 7,
	MEM_XSAVE_COMPACT = 8,
	MEM_KIND_COUNT = 9,
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
	/* for kinds other than MEM_PLAIN (native.ts NativeMemOperand) */
	uint8_t kind = MEM_PLAIN;
	uint8_t reg = 0;	/* bit offset Reg, opmask number or mask Vec */
	uint8_t vec = 0;	/* scatter: index vector register */
	uint8_t elem = 0;	/* bytes per element */
	uint8_t count = 0;	/* scatter: elements */
	uint8_t index_elem = 0; /* scatter: bytes per index */
};

struct InsnInfo {
	/* MAX_WRITES -- memory operands of one instruction that are followed;
	 * x86 has none writing more than two */
	static constexpr size_t MAX_WRITES = 8;

	/* MAX_LENGTH -- the longest x86 instruction */
	static constexpr size_t MAX_LENGTH = 15;

	uint32_t length = 0;
	uint32_t flags = 0;
	std::vector<MemOperand> writes;
	uint8_t flow = FLOW_OTHER;  /* InsnFlow; unknown: followed nowhere */
	uint64_t target = 0;	    /* FLOW_BRANCH, FLOW_JUMP, FLOW_CALL */
	MemOperand via;		    /* FLOW_INDIRECT: the 8 bytes holding the target, */
	uint8_t via_reg = REG_NONE; /* or the register (REG_NONE: via) */
	/* rsp += rsp_add is its one write of rsp, unless INSN_RSP_OTHER
	 * (native.ts rspAdd) */
	int32_t rsp_add = 0;
	/* the general registers it may write, any part of them: bit
	 * Reg - 1 (native.ts gprWrites) */
	uint32_t gpr_writes = 0;

	/* filled by the recorder, not the decoder: */
	bool special = false;	       /* some write is not MEM_PLAIN */
	uint8_t code[MAX_LENGTH] = {}; /* the bytes decoded */
	uint64_t epoch = 0;	       /* InsnCache epoch they were last seen in */
	/* the fence hunt's summary of `writes` (FenceHunt::learn): the end
	 * of the highest, relative to rsp before the instruction, when all
	 * are plain and through rsp (NO_STACK_WRITE: none); wild: some other */
	static constexpr int64_t NO_STACK_WRITE = INT64_MIN;
	int64_t stack_top = NO_STACK_WRITE;
	bool wild_write = false;
};

} /* namespace pmfit */

#endif /* PMFIT_INSN_H */
