/*
 * store_emulation.h -- a store into write-protected PM done by the tracer
 * itself: the fast recorder's way past a fault without opening the page
 * (docs/recording.md, "The fast recorder")
 *
 * Opening the faulting page, stepping the store and protecting the page
 * again costs two mprotect calls injected into the tracee (65-80 us each)
 * and a step. For a plain store whose bytes follow from the registers
 * alone -- mov of a general register or an immediate, movnti, and the
 * unmasked vector stores movups/movaps/movdqu/movdqa/movntdq/movntps with
 * their VEX and EVEX forms -- the tracer writes those bytes to the PM file
 * at the mapping's file offset (the tracee's MAP_SHARED mapping shows the
 * same page-cache page; /proc/PID/mem cannot write a read-only shared
 * mapping) and moves rip past the instruction. The page stays protected.
 *
 * The non-locked integer read-modify-writes -- add, or, adc, sbb, and,
 * sub, xor of a general register or an immediate, inc, dec, neg and not,
 * and the shifts and rotates (rol, ror, rcl, rcr, shl, shr, sar) by 1,
 * an immediate or cl, of 8 to 64 bits -- are made the same way from the
 * operand's old bytes,
 * read through the tracee's mapping: rmw_apply() runs the same
 * instruction in the tracer on the same values, with the tracee's
 * arithmetic flags loaded, so that the result and the flags are the
 * CPU's own (the carry adc and sbb take and inc and dec keep, and the
 * flags the manual leaves undefined, such as AF after and/or/xor, are
 * what the tracee would have got on this CPU); the flags the instruction
 * writes go back into the tracee's rflags. A shift or rotate runs with
 * its count in cl (the immediate's, 1, or the tracee's cl: the CPU masks
 * it as for the memory form) and hands back every arithmetic flag: those
 * it leaves alone (all of them for a count of 0, all but CF and OF for
 * a rotate) come back as they were loaded.
 *
 * store_source() is the whole decoder: anything it does not recognise
 * exactly (other prefixes, lock, xrelease, address-size, segment
 * overrides, masking, a register destination) is not emulated, and the
 * caller steps the instruction as before.
 */
#ifndef PMFIT_STORE_EMULATION_H
#define PMFIT_STORE_EMULATION_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proc_maps.h"
#include "remote_ptr.h"
#include "xstate.h"

namespace pmfit {

/* only declared, as in pm_protection.h: <sys/user.h> defines PAGE_SHIFT */
class Registers;

/* RmwOp -- how a read-modify-write computes its bytes from the
 * operand's old ones and its source (None: a plain store) */
enum class RmwOp : uint8_t {
	None,
	Add,
	Or,
	Adc,
	Sbb,
	And,
	Sub,
	Xor,
	Inc,
	Dec,
	Neg,
	Not,
	Rol,
	Ror,
	Rcl,
	Rcr,
	Shl,
	Shr,
	Sar
};

/* ARITHMETIC_FLAGS -- CF, PF, AF, ZF, SF and OF in rflags */
constexpr uint64_t ARITHMETIC_FLAGS = 0x8d5;

/* StoreSource -- where the bytes of an emulated store come from */
struct StoreSource {
	enum class Kind { Gpr, Imm, Vec };
	/* MAX_SIZE -- a zmm register */
	static constexpr uint32_t MAX_SIZE = 64;

	Kind kind = Kind::Gpr;
	uint8_t reg = 0;	/* Gpr: encoding number 0..15; Vec: 0..31 */
	bool high_byte = false; /* Gpr: ah, ch, dh or bh */
	uint32_t size = 0;	/* bytes written */
	int64_t imm = 0;	/* Imm: sign-extended to 64 bits */
	uint32_t align = 1;	/* the address must be a multiple of it */
	bool non_temporal = false;
	RmwOp rmw = RmwOp::None; /* Gpr or Imm: the source of the operation */
};

/* store_source -- the instruction code[0, length) is a store this file
 * emulates, with the source of its bytes in *out */
bool store_source(const uint8_t *code, uint32_t length, StoreSource *out);

/* store_bytes -- the size bytes a plain store src writes (vregs:
 * fetched, for Vec) */
void store_bytes(const StoreSource &src, const Registers &regs, const VectorRegs &vregs, uint8_t *out);

/* rmw_bytes -- the size bytes a read-modify-write src writes over old,
 * and *rflags (the tracee's, before) as it leaves them */
void rmw_bytes(const StoreSource &src, const Registers &regs, const uint8_t *old, uint8_t *out, uint64_t *rflags);

/* rmw_apply -- op on dest and source, size (1, 2, 4 or 8) bytes wide, run
 * by this CPU with its arithmetic flags set from *flags: the result, and
 * in *flags the arithmetic flags the CPU left (the bits op does not write
 * are *flags' own) */
uint64_t rmw_apply(RmwOp op, uint32_t size, uint64_t dest, uint64_t source, uint64_t *flags);

/* rmw_written_flags -- the rflags bits op writes */
uint64_t rmw_written_flags(RmwOp op);

/* PmFileWriter -- the files behind the tracee's shared mappings, written
 * by the tracer */
class PmFileWriter {
public:
	PmFileWriter() = default;
	~PmFileWriter();
	PmFileWriter(const PmFileWriter &) = delete;
	PmFileWriter &operator=(const PmFileWriter &) = delete;

	/* mappings_changed -- a system call ran, or untraced code: read the
	 * tracee's mappings again before the next write */
	void
	mappings_changed()
	{
		mapped_ = false;
	}
	/* target -- [addr, addr + len) lies in one MAP_SHARED mapping of a
	 * regular file the tracer could open for writing, inside the file:
	 * true with the descriptor and the file offset */
	bool target(pid_t pid, RemotePtr addr, size_t len, int *fd, uint64_t *offset);
	/* refuse -- a write through fd failed: no more writes to its file */
	void refuse(int fd);

private:
	struct File {
		uint64_t dev;
		uint64_t ino;
		int fd;	       /* -1: could not be opened, or refused */
		uint64_t size; /* at the last look */
	};
	void read_mappings(pid_t pid);
	File *file_for(pid_t pid, const MapsLine &m);

	bool mapped_ = false;
	std::vector<MapsLine> mappings_; /* the shared file mappings */
	std::vector<File> files_;	 /* kept across mappings_changed() */
};

} /* namespace pmfit */

#endif /* PMFIT_STORE_EMULATION_H */
