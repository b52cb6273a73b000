/*
 * xstate.h -- the XSAVE state of this CPU and of a stopped tracee
 *
 * XstateLayout is where each state component lives in an xsave area, read
 * once from CPUID leaf 0xd and XCR0 (the tracer runs on the tracee's CPU,
 * and XCR0 is the same for every process). It lays out what an xsave-family
 * instruction writes, and where the kernel's copy of a tracee's registers
 * (PTRACE_GETREGSET NT_X86_XSTATE, standard format) keeps each register.
 * VectorRegs is that copy for one stop: xmm/ymm/zmm, mm and opmask
 * registers, for the masked stores and scatters the recorder follows.
 */
#ifndef PMFIT_XSTATE_H
#define PMFIT_XSTATE_H

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace pmfit {

/* ByteRange -- [start, start + len) of some address space */
struct ByteRange {
	uint64_t start = 0;
	uint64_t len = 0;
};

/* XstateComponent -- state component numbers (Intel SDM vol. 1, 13.1) */
enum XstateComponent : unsigned {
	XC_X87 = 0,
	XC_SSE = 1,
	XC_AVX = 2,
	XC_OPMASK = 5,
	XC_ZMM_HI256 = 6,
	XC_HI16_ZMM = 7,
	XC_COUNT = 64,
};

class XstateLayout {
public:
	/* get -- this CPU's layout, read on first use */
	static const XstateLayout &get();

	uint64_t
	xcr0() const
	{
		return xcr0_;
	}
	/* standard_offset -- where component c (>= 2) starts in the standard
	 * format; 0 when the CPU does not have it */
	uint32_t
	standard_offset(unsigned c) const
	{
		return offset_[c];
	}
	uint32_t
	size(unsigned c) const
	{
		return size_[c];
	}
	/* buffer_size -- enough for the standard format of every component */
	uint32_t
	buffer_size() const
	{
		return buffer_size_;
	}

	/*
	 * written -- the byte ranges, as offsets in the area, that an xsave
	 * of kind (MEM_XSAVE, MEM_XSAVE_OPT, MEM_XSAVE_COMPACT) writes, for
	 * the requested-feature bitmap rfbm (edx:eax & XCR0) and the header's
	 * XSTATE_BV as the instruction left it; in address order, touching
	 * ranges joined
	 */
	void written(uint8_t kind, uint64_t rfbm, uint64_t xstate_bv, std::vector<ByteRange> *out) const;

private:
	XstateLayout();

	uint64_t xcr0_ = 0;
	uint32_t offset_[XC_COUNT] = {};
	uint32_t size_[XC_COUNT] = {};
	bool align64_[XC_COUNT] = {}; /* compacted format: 64-byte aligned */
	uint32_t buffer_size_ = 0;
};

class VectorRegs {
public:
	/* fetch -- PTRACE_GETREGSET NT_X86_XSTATE; throws TaskError */
	void fetch(pid_t pid);
	/* vector -- the low width bytes of vector register reg (native.ts
	 * Vec: xmm/ymm/zmm 0..31, VEC_MM + i for mm i) */
	void vector(unsigned reg, unsigned width, uint8_t *out) const;
	/* opmask -- k0..k7 */
	uint64_t opmask(unsigned k) const;

private:
	/* copy -- len bytes at offset of component c, zeros when the
	 * component is in its initial state (all of these start zeroed) */
	void copy(unsigned c, uint32_t offset, uint8_t *out, unsigned len) const;

	std::vector<uint8_t> buf_;
	uint64_t xstate_bv_ = 0;
};

} /* namespace pmfit */

#endif /* PMFIT_XSTATE_H */
