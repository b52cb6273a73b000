/*
 * store_emulation.cc -- the stores the fast recorder does itself: their
 * decoding, their bytes, and the PM files they are written to
 */
#include "store_emulation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "error.h"
#include "insn.h"
#include "registers.h"

namespace pmfit {

namespace {

/* Prefixes -- what store_source() reads before the opcode */
struct Prefixes {
	uint8_t simd = 0; /* the one 0x66, 0xf2 or 0xf3, or 0 */
	bool rex_w = false, rex_r = false, rex = false;
	uint32_t at = 0; /* where the opcode (or VEX/EVEX) starts */
};

/* read_prefixes -- false for a prefix that changes what or where a plain
 * store writes (fs, gs, address size, lock), or for two of 0x66/0xf2/0xf3.
 * The other segment overrides are ignored in 64-bit mode. */
bool
read_prefixes(const uint8_t *code, uint32_t length, Prefixes *p)
{
	uint32_t i = 0;
	for (; i < length; i++) {
		const uint8_t b = code[i];
		if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e)
			continue;
		if (b == 0x66 || b == 0xf2 || b == 0xf3) {
			if (p->simd != 0)
				return false;
			p->simd = b;
			continue;
		}
		break;
	}
	if (i < length && (code[i] & 0xf0) == 0x40) {
		p->rex = true;
		p->rex_w = (code[i] & 8) != 0;
		p->rex_r = (code[i] & 4) != 0;
		i++;
	}
	p->at = i;
	return i < length;
}

/* modrm_end -- where the operand's encoding that starts with the ModRM
 * byte at code[at] ends; 0 when it is not a memory operand */
uint32_t
modrm_end(const uint8_t *code, uint32_t length, uint32_t at)
{
	if (at >= length)
		return 0;
	const uint8_t modrm = code[at];
	const unsigned mod = modrm >> 6, rm = modrm & 7;
	if (mod == 3)
		return 0;
	uint32_t end = at + 1;
	unsigned base = rm;
	if (rm == 4) {
		if (end >= length)
			return 0;
		base = code[end] & 7;
		end++;
	}
	if (mod == 1)
		end += 1;
	else if (mod == 2 || (mod == 0 && base == 5))
		end += 4;
	return end;
}

/* vector_form -- a vector store of map 0F by opcode and SIMD prefix pp
 * (0 none, 1 0x66, 2 0xf3, 3 0xf2) of width bytes: its size and alignment;
 * false for others */
bool
vector_form(uint8_t op, unsigned pp, uint32_t width, StoreSource *out)
{
	out->kind = StoreSource::Kind::Vec;
	out->align = 1;
	out->non_temporal = false;
	switch (op) {
	case 0x11: /* movups, movupd, movss, movsd */
		out->size = pp == 2 ? 4 : pp == 3 ? 8 : width;
		return true;
	case 0x29: /* movaps, movapd */
		out->size = out->align = width;
		return pp <= 1;
	case 0x7f: /* movdqa; movdqu (and EVEX's vmovdqu8/16 with 0xf2) */
		out->size = width;
		out->align = pp == 1 ? width : 1;
		return pp != 0;
	case 0xe7: /* movntdq */
	case 0x2b: /* movntps, movntpd */
		out->size = out->align = width;
		out->non_temporal = true;
		return op == 0xe7 ? pp == 1 : pp <= 1;
	case 0xd6: /* movq m64, xmm */
		out->size = 8;
		return pp == 1 && width == 16;
	default:
		return false;
	}
}

/* immediate -- the len (1, 2 or 4) bytes at code, sign-extended */
int64_t
immediate(const uint8_t *code, uint32_t len)
{
	if (len == 1)
		return (int8_t)code[0];
	if (len == 2)
		return (int16_t)(code[0] | (code[1] << 8));
	return (int32_t)((uint32_t)code[0] | ((uint32_t)code[1] << 8) | ((uint32_t)code[2] << 16) |
			 ((uint32_t)code[3] << 24));
}

bool
gpr_source(const uint8_t *code, uint32_t length, const Prefixes &p, StoreSource *out)
{
	const uint8_t op = code[p.at];
	const bool two_byte = op == 0x0f;
	const uint32_t modrm_at = p.at + (two_byte ? 2 : 1);
	if (modrm_at >= length || (p.simd != 0 && p.simd != 0x66))
		return false;
	const unsigned reg = ((code[modrm_at] >> 3) & 7) + (p.rex_r ? 8 : 0);
	const uint32_t wide = p.rex_w ? 8 : p.simd == 0x66 ? 2 : 4;
	const uint32_t end = modrm_end(code, length, modrm_at);
	if (end == 0)
		return false;
	*out = StoreSource();
	if (two_byte) {
		/* movnti m32/m64, r */
		if (code[p.at + 1] != 0xc3 || p.simd != 0 || end != length)
			return false;
		out->reg = (uint8_t)reg;
		out->size = wide;
		out->non_temporal = true;
		return true;
	}
	switch (op) {
	case 0x88:
	case 0x89:
		if (end != length || (op == 0x88 && p.simd != 0))
			return false;
		out->size = op == 0x88 ? 1 : wide;
		/* without REX, byte registers 4..7 are ah, ch, dh, bh */
		out->high_byte = op == 0x88 && !p.rex && reg >= 4;
		out->reg = (uint8_t)(out->high_byte ? reg - 4 : reg);
		return true;
	case 0xc6:
	case 0xc7: {
		if (reg % 8 != 0 || (op == 0xc6 && p.simd != 0))
			return false;
		const uint32_t size = op == 0xc6 ? 1 : wide;
		const uint32_t imm_len = size > 4 ? 4 : size;
		if (end + imm_len != length)
			return false;
		out->kind = StoreSource::Kind::Imm;
		out->size = size;
		out->imm = immediate(code + end, imm_len);
		return true;
	}
	default:
		return false;
	}
}

/* rmw_source -- the integer read-modify-writes of a memory operand: the
 * ALU operations with a register source (00-31, the even opcode of each
 * pair on bytes) or an immediate one (80, 81 and 83 by ModRM's reg field),
 * not and neg (F6, F7), inc and dec (FE, FF), and the shifts and rotates
 * by an immediate (C0, C1), by 1 (D0, D1) and by cl (D2, D3). cmp and
 * test write nothing; /6 of the shifts (sal's undocumented twin) is left
 * to the step. */
bool
rmw_source(const uint8_t *code, uint32_t length, const Prefixes &p, StoreSource *out)
{
	static const RmwOp ALU[8] = {RmwOp::Add, RmwOp::Or,  RmwOp::Adc, RmwOp::Sbb,
				     RmwOp::And, RmwOp::Sub, RmwOp::Xor, RmwOp::None /* cmp */};
	static const RmwOp SHIFT[8] = {RmwOp::Rol, RmwOp::Ror, RmwOp::Rcl,  RmwOp::Rcr,
				       RmwOp::Shl, RmwOp::Shr, RmwOp::None, RmwOp::Sar};
	const uint8_t op = code[p.at];
	const uint32_t modrm_at = p.at + 1;
	if (modrm_at >= length || (p.simd != 0 && p.simd != 0x66))
		return false;
	const uint32_t end = modrm_end(code, length, modrm_at);
	/* every byte form has the even opcode of its pair */
	const bool byte_op = (op & 1) == 0;
	if (end == 0 || (byte_op && p.simd != 0))
		return false;
	const unsigned digit = (code[modrm_at] >> 3) & 7;
	*out = StoreSource();
	out->size = byte_op ? 1 : p.rex_w ? 8 : p.simd == 0x66 ? 2 : 4;
	uint32_t imm_len = 0;
	if (op < 0x40 && (op & 7) <= 1) {
		const unsigned reg = digit + (p.rex_r ? 8 : 0);
		out->rmw = ALU[op >> 3];
		/* without REX, byte registers 4..7 are ah, ch, dh, bh */
		out->high_byte = byte_op && !p.rex && reg >= 4;
		out->reg = (uint8_t)(out->high_byte ? reg - 4 : reg);
	} else if (op == 0x80 || op == 0x81 || op == 0x83) {
		out->rmw = ALU[digit];
		out->kind = StoreSource::Kind::Imm;
		imm_len = op != 0x81 ? 1 : out->size == 2 ? 2 : 4;
	} else if (op == 0xf6 || op == 0xf7) {
		out->rmw = digit == 2 ? RmwOp::Not : digit == 3 ? RmwOp::Neg : RmwOp::None;
	} else if (op == 0xfe || op == 0xff) {
		out->rmw = digit == 0 ? RmwOp::Inc : digit == 1 ? RmwOp::Dec : RmwOp::None;
	} else if (op == 0xc0 || op == 0xc1 || (op >= 0xd0 && op <= 0xd3)) {
		/* the count: an immediate byte, 1, or cl (rcx, encoding 1) */
		out->rmw = SHIFT[digit];
		if (op >= 0xd2) {
			out->reg = 1;
		} else {
			out->kind = StoreSource::Kind::Imm;
			out->imm = 1;
			imm_len = op <= 0xc1 ? 1 : 0;
		}
	}
	if (out->rmw == RmwOp::None || end + imm_len != length)
		return false;
	if (imm_len != 0)
		out->imm = immediate(code + end, imm_len);
	return true;
}

/*
 * RMW_ASM -- text run with the CPU's arithmetic flags set from [in] (the
 * others, [keep], the tracer's own) and read back whole into [out]. rsp
 * moves below the red zone first, where the compiler may keep values
 * that pushfq would overwrite, by lea, which leaves the flags alone.
 */
#define RMW_ASM(text)                                                                                                  \
	"lea -128(%%rsp), %%rsp\n\t"                                                                                   \
	"pushfq\n\t"                                                                                                   \
	"andq %[keep], (%%rsp)\n\t"                                                                                    \
	"orq %[in], (%%rsp)\n\t"                                                                                       \
	"popfq\n\t" text "\n\t"                                                                                        \
	"pushfq\n\t"                                                                                                   \
	"popq %[out]\n\t"                                                                                              \
	"lea 128(%%rsp), %%rsp"
/* register operands only: a memory one could be addressed through rsp */
#define RMW_BINARY(name, mnemonic)                                                                                     \
	case RmwOp::name:                                                                                              \
		asm volatile(RMW_ASM(mnemonic " %[s], %[d]")                                                           \
			     : [d] "+q"(d), [out] "=&r"(out)                                                           \
			     : [s] "q"(s), [in] "r"(in), [keep] "r"(keep)                                              \
			     : "cc", "memory");                                                                        \
		break;
#define RMW_UNARY(name, mnemonic)                                                                                      \
	case RmwOp::name:                                                                                              \
		asm volatile(RMW_ASM(mnemonic " %[d]")                                                                 \
			     : [d] "+q"(d), [out] "=&r"(out)                                                           \
			     : [in] "r"(in), [keep] "r"(keep)                                                          \
			     : "cc", "memory");                                                                        \
		break;

/* the count in cl, whatever the width */
#define RMW_SHIFT(name, mnemonic)                                                                                      \
	case RmwOp::name:                                                                                              \
		asm volatile(RMW_ASM(mnemonic " %%cl, %[d]")                                                           \
			     : [d] "+q"(d), [out] "=&r"(out)                                                           \
			     : [count] "c"((uint8_t)s), [in] "r"(in), [keep] "r"(keep)                                 \
			     : "cc", "memory");                                                                        \
		break;

/* run -- rmw_apply on operands of type T: the assembler takes the width
 * from their registers */
template <typename T>
T
run(RmwOp op, T d, T s, uint64_t *flags)
{
	const uint64_t in = *flags & ARITHMETIC_FLAGS, keep = ~ARITHMETIC_FLAGS;
	uint64_t out = in;
	switch (op) {
		RMW_BINARY(Add, "add")
		RMW_BINARY(Or, "or")
		RMW_BINARY(Adc, "adc")
		RMW_BINARY(Sbb, "sbb")
		RMW_BINARY(And, "and")
		RMW_BINARY(Sub, "sub")
		RMW_BINARY(Xor, "xor")
		RMW_UNARY(Inc, "inc")
		RMW_UNARY(Dec, "dec")
		RMW_UNARY(Neg, "neg")
		RMW_UNARY(Not, "not")
		RMW_SHIFT(Rol, "rol")
		RMW_SHIFT(Ror, "ror")
		RMW_SHIFT(Rcl, "rcl")
		RMW_SHIFT(Rcr, "rcr")
		RMW_SHIFT(Shl, "shl")
		RMW_SHIFT(Shr, "shr")
		RMW_SHIFT(Sar, "sar")
	case RmwOp::None:
		PMFIT_ASSERT(false);
	}
	const uint64_t written = rmw_written_flags(op);
	*flags = (*flags & ~written) | (out & written);
	return d;
}

#undef RMW_SHIFT
#undef RMW_UNARY
#undef RMW_BINARY
#undef RMW_ASM

/* source_value -- a Gpr or Imm source, in its low size bytes */
uint64_t
source_value(const StoreSource &src, const Registers &regs)
{
	if (src.kind == StoreSource::Kind::Imm)
		return (uint64_t)src.imm;
	/* native.ts Reg: encoding number plus one */
	const uint64_t value = regs.value((uint8_t)(src.reg + 1));
	return src.high_byte ? value >> 8 : value;
}

bool
legacy_vector_source(const uint8_t *code, uint32_t length, const Prefixes &p, StoreSource *out)
{
	if (code[p.at] != 0x0f || p.at + 2 >= length)
		return false;
	const unsigned pp = p.simd == 0x66 ? 1 : p.simd == 0xf3 ? 2 : p.simd == 0xf2 ? 3 : 0;
	*out = StoreSource();
	/* without 0x66/0xf3, 0x7f and 0xe7 store an mm register */
	if (!vector_form(code[p.at + 1], pp, 16, out) || modrm_end(code, length, p.at + 2) != length)
		return false;
	out->reg = (uint8_t)(((code[p.at + 2] >> 3) & 7) + (p.rex_r ? 8 : 0));
	return true;
}

/* vex_source -- VEX (0xc4, 0xc5) and EVEX (0x62) stores of map 0F; no
 * other prefix may stand before them but segment overrides */
bool
vex_source(const uint8_t *code, uint32_t length, const Prefixes &p, StoreSource *out)
{
	const uint8_t lead = code[p.at];
	if (p.simd != 0 || p.rex)
		return false;
	unsigned pp, reg_hi, width, vvvv_ok;
	uint32_t op_at;
	if (lead == 0xc5 || lead == 0xc4) {
		/* R in the first byte after the lead; vvvv, L and pp in the
		 * last (0xc4: the map in the first, which must be 0F) */
		const uint32_t bytes = lead == 0xc5 ? 1 : 2;
		if (p.at + bytes + 2 >= length)
			return false;
		const uint8_t first = code[p.at + 1], last = code[p.at + bytes];
		if (lead == 0xc4 && (first & 31) != 1)
			return false;
		reg_hi = (first & 0x80) ? 0 : 8;
		vvvv_ok = ((last >> 3) & 15) == 15;
		width = (last & 4) ? 32 : 16;
		pp = last & 3;
		op_at = p.at + 1 + bytes;
	} else if (lead == 0x62) {
		if (p.at + 5 >= length)
			return false;
		const uint8_t p0 = code[p.at + 1], p1 = code[p.at + 2], p2 = code[p.at + 3];
		/* map 0F; no masking, zeroing, broadcast or high V' */
		if ((p0 & 15) != 1 || !(p1 & 4) || (p2 & 0x9f) != 0x08 || (p2 & 0x60) == 0x60)
			return false;
		reg_hi = ((p0 & 0x80) ? 0 : 8) + ((p0 & 0x10) ? 0 : 16);
		vvvv_ok = ((p1 >> 3) & 15) == 15;
		width = 16u << ((p2 >> 5) & 3);
		pp = p1 & 3;
		op_at = p.at + 4;
	} else {
		return false;
	}
	*out = StoreSource();
	if (!vvvv_ok || !vector_form(code[op_at], pp, width, out) || modrm_end(code, length, op_at + 1) != length)
		return false;
	out->reg = (uint8_t)(((code[op_at + 1] >> 3) & 7) + reg_hi);
	return true;
}

} /* namespace */

bool
store_source(const uint8_t *code, uint32_t length, StoreSource *out)
{
	Prefixes p;
	if (length == 0 || length > InsnInfo::MAX_LENGTH || !read_prefixes(code, length, &p))
		return false;
	const uint8_t op = code[p.at];
	if (op == 0xc4 || op == 0xc5 || op == 0x62)
		return vex_source(code, length, p, out);
	if (op == 0x0f && p.at + 1 < length && code[p.at + 1] != 0xc3)
		return legacy_vector_source(code, length, p, out);
	return gpr_source(code, length, p, out) || rmw_source(code, length, p, out);
}

void
store_bytes(const StoreSource &src, const Registers &regs, const VectorRegs &vregs, uint8_t *out)
{
	PMFIT_ASSERT(src.size <= StoreSource::MAX_SIZE && src.rmw == RmwOp::None);
	if (src.kind == StoreSource::Kind::Vec) {
		vregs.vector(src.reg, src.size, out);
		return;
	}
	const uint64_t value = source_value(src, regs);
	PMFIT_ASSERT(src.size <= 8);
	memcpy(out, &value, src.size); /* x86: little endian */
}

void
rmw_bytes(const StoreSource &src, const Registers &regs, const uint8_t *old, uint8_t *out, uint64_t *rflags)
{
	PMFIT_ASSERT(src.rmw != RmwOp::None && src.size <= 8);
	uint64_t dest = 0;
	memcpy(&dest, old, src.size);
	const uint64_t result = rmw_apply(src.rmw, src.size, dest, source_value(src, regs), rflags);
	memcpy(out, &result, src.size);
}

uint64_t
rmw_apply(RmwOp op, uint32_t size, uint64_t dest, uint64_t source, uint64_t *flags)
{
	switch (size) {
	case 1:
		return run<uint8_t>(op, (uint8_t)dest, (uint8_t)source, flags);
	case 2:
		return run<uint16_t>(op, (uint16_t)dest, (uint16_t)source, flags);
	case 4:
		return run<uint32_t>(op, (uint32_t)dest, (uint32_t)source, flags);
	default:
		PMFIT_ASSERT(size == 8);
		return run<uint64_t>(op, dest, source, flags);
	}
}

uint64_t
rmw_written_flags(RmwOp op)
{
	switch (op) {
	case RmwOp::None:
	case RmwOp::Not:
		return 0;
	case RmwOp::Inc:
	case RmwOp::Dec:
		return ARITHMETIC_FLAGS & ~(uint64_t)1; /* CF kept */
	default:
		return ARITHMETIC_FLAGS;
	}
}

PmFileWriter::~PmFileWriter()
{
	for (const File &f : files_) {
		if (f.fd >= 0)
			::close(f.fd);
	}
}

void
PmFileWriter::read_mappings(pid_t pid)
{
	mappings_.clear();
	for (MapsLine &m : read_proc_maps(pid)) {
		if (m.shared() && m.inode != 0 && !m.name.empty() && m.name[0] == '/')
			mappings_.push_back(std::move(m));
	}
	/* a file's size changes only by a system call, as mappings do */
	for (File &file : files_) {
		struct stat st;
		if (file.fd >= 0 && fstat(file.fd, &st) == 0)
			file.size = (uint64_t)st.st_size;
		else
			file.size = 0;
	}
	mapped_ = true;
}

PmFileWriter::File *
PmFileWriter::file_for(pid_t pid, const MapsLine &m)
{
	for (File &file : files_) {
		if (file.dev == (uint64_t)m.dev && file.ino == m.inode)
			return file.fd >= 0 ? &file : nullptr;
	}
	/* by its name, which must still be the mapped file; else through
	 * map_files (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE) */
	char map_file[96];
	snprintf(map_file, sizeof(map_file), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m.start, m.end);
	File file = {(uint64_t)m.dev, m.inode, -1, 0};
	for (const char *name : {m.name.c_str(), (const char *)map_file}) {
		const int fd = open(name, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == m.dev &&
		    (uint64_t)st.st_ino == m.inode) {
			file.fd = fd;
			file.size = (uint64_t)st.st_size;
			break;
		}
		::close(fd);
	}
	files_.push_back(file);
	return file.fd >= 0 ? &files_.back() : nullptr;
}

bool
PmFileWriter::target(pid_t pid, RemotePtr addr, size_t len, int *fd, uint64_t *offset)
{
	if (!mapped_)
		read_mappings(pid);
	const uint64_t at = addr.as_int();
	for (const MapsLine &m : mappings_) {
		if (at < m.start || at >= m.end)
			continue;
		if (at + len > m.end)
			return false;
		const File *file = file_for(pid, m);
		const uint64_t off = m.offset + (at - m.start);
		if (!file || off + len > file->size)
			return false;
		*fd = file->fd;
		*offset = off;
		return true;
	}
	return false;
}

void
PmFileWriter::refuse(int fd)
{
	for (File &file : files_) {
		if (file.fd == fd) {
			::close(file.fd);
			file.fd = -1;
		}
	}
}

} /* namespace pmfit */
