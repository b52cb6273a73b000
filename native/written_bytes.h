/*
 * written_bytes.h -- the bytes a write operand writes when they are not
 * simply `size` bytes at its address (insn.h MemKind): bt{s,r,c} with a
 * register bit offset, stores under an opmask or a vector mask, compress
 * stores and scatters
 *
 * Worked out before the step, from the registers the instruction reads.
 * A scatter is the exception: it may complete only some of its elements
 * in one step (a page fault part way, after which the CPU reports the step
 * with rip unchanged and runs the rest in the next ones); it clears the
 * opmask bit of each element it writes, so the elements of a step are
 * those whose bit went from set to clear (scatter_bytes, after the step).
 * The xsave family is laid out after the step too (XstateLayout::written),
 * from the header it wrote.
 */
#ifndef PMFIT_WRITTEN_BYTES_H
#define PMFIT_WRITTEN_BYTES_H

#include <vector>

#include "insn.h"
#include "registers.h"
#include "remote_ptr.h"
#include "xstate.h"

namespace pmfit {

/* needs_vector_regs -- whether written_bytes reads vector or opmask
 * registers for op */
bool needs_vector_regs(const MemOperand &op);

/*
 * written_bytes -- the absolute byte ranges op (not a scatter) writes, in
 * the order the instruction writes them; addr is the operand's effective
 * address
 */
void written_bytes(const MemOperand &op, RemotePtr addr, const Registers &regs, const VectorRegs &vregs,
		   std::vector<ByteRange> *out);

/*
 * scatter_bytes -- the elements of scatter op that mask selects, in
 * element order (a later one to the same place wins, and both carry what
 * is there after the step); addr is base + displacement
 */
void scatter_bytes(const MemOperand &op, RemotePtr addr, const VectorRegs &vregs, uint64_t mask,
		   std::vector<ByteRange> *out);

} /* namespace pmfit */

#endif /* PMFIT_WRITTEN_BYTES_H */
