/*
 * written_bytes.cc -- written_bytes for each MemKind worked out before the
 * step (Intel SDM vol. 2: BTS, VMOVDQU8/16/32/64, VMASKMOV, VPMASKMOV,
 * MASKMOVDQU, VCOMPRESSPS, VPSCATTERDD)
 */
#include "written_bytes.h"

#include <cstring>

#include "error.h"

namespace pmfit {

namespace {

/* element_runs -- the runs of elements whose bit is set in mask, as byte
 * ranges from base */
void
element_runs(uint64_t mask, unsigned count, unsigned elem, RemotePtr base, std::vector<ByteRange> *out)
{
	unsigned i = 0;
	while (i < count) {
		if (!((mask >> i) & 1)) {
			i++;
			continue;
		}
		unsigned j = i;
		while (j < count && ((mask >> j) & 1))
			j++;
		out->push_back({(base + (uint64_t)i * elem).as_int(), (uint64_t)(j - i) * elem});
		i = j;
	}
}

/* low_bits -- a mask of the low count bits, count <= 64 */
uint64_t
low_bits(unsigned count)
{
	return count >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << count) - 1;
}

} /* namespace */

bool
needs_vector_regs(const MemOperand &op)
{
	return op.kind == MEM_OPMASK || op.kind == MEM_VEC_MASK || op.kind == MEM_COMPRESS || op.kind == MEM_SCATTER;
}

void
written_bytes(const MemOperand &op, RemotePtr addr, const Registers &regs, const VectorRegs &vregs,
	      std::vector<ByteRange> *out)
{
	const unsigned count = op.elem ? op.size / op.elem : 0;
	switch (op.kind) {
	case MEM_BIT_OFFSET: {
		/* the operand-sized word holding the bit: the signed offset
		 * in operand-size units (a 2, 4 or 8 byte operand has 16, 32
		 * or 64 bits: shift by 4, 5 or 6) */
		const unsigned shift = op.size == 2 ? 4 : op.size == 4 ? 5 : 6;
		const int64_t words = regs.signed_value(op.reg) >> shift;
		out->push_back({(addr + (uint64_t)(words * (int64_t)op.size)).as_int(), op.size});
		return;
	}
	case MEM_OPMASK:
		element_runs(vregs.opmask(op.reg), count, op.elem, addr, out);
		return;
	case MEM_VEC_MASK: {
		/* an element is written when the top bit of the mask
		 * register's element is set */
		uint8_t mask[64];
		PMFIT_ASSERT(op.size <= sizeof(mask) && count <= 64);
		vregs.vector(op.reg, op.size, mask);
		uint64_t bits = 0;
		for (unsigned i = 0; i < count; i++)
			bits |= (uint64_t)(mask[i * op.elem + op.elem - 1] >> 7) << i;
		element_runs(bits, count, op.elem, addr, out);
		return;
	}
	case MEM_COMPRESS: {
		/* the selected elements, packed from the address */
		const unsigned n = (unsigned)__builtin_popcountll(vregs.opmask(op.reg) & low_bits(count));
		if (n > 0)
			out->push_back({addr.as_int(), (uint64_t)n * op.elem});
		return;
	}
	default:
		PMFIT_ASSERT(op.kind == MEM_BIT_OFFSET);
	}
}

void
scatter_bytes(const MemOperand &op, RemotePtr addr, const VectorRegs &vregs, uint64_t mask, std::vector<ByteRange> *out)
{
	uint8_t index[64];
	PMFIT_ASSERT(op.kind == MEM_SCATTER && (unsigned)op.count * op.index_elem <= sizeof(index));
	vregs.vector(op.vec, op.count * op.index_elem, index);
	for (unsigned i = 0; i < op.count; i++) {
		if (!((mask >> i) & 1))
			continue;
		int64_t at;
		if (op.index_elem == 4) {
			int32_t value;
			memcpy(&value, index + 4 * i, 4);
			at = value;
		} else {
			memcpy(&at, index + 8 * i, 8);
		}
		out->push_back({(addr + (uint64_t)(at * (int64_t)op.scale)).as_int(), op.elem});
	}
}

} /* namespace pmfit */
