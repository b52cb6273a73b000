/*
 * xstate.cc -- XstateLayout from CPUID leaf 0xd; VectorRegs from the
 * kernel's standard-format copy of the tracee's XSAVE state
 */
#include "xstate.h"

#include <cpuid.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "error.h"
#include "insn.h"

namespace pmfit {

namespace {

/* legacy region and header of every xsave area (Intel SDM vol. 1, 13.4) */
constexpr uint32_t LEGACY_X87_END = 24; /* FCW .. FDP */
constexpr uint32_t LEGACY_MXCSR = 24;	/* MXCSR, MXCSR_MASK */
constexpr uint32_t LEGACY_ST0 = 32;	/* st0-st7 / mm0-mm7, 16 bytes each */
constexpr uint32_t LEGACY_XMM0 = 160;	/* xmm0-xmm15, 16 bytes each */
constexpr uint32_t LEGACY_XMM_END = 416;
constexpr uint32_t HEADER = 512; /* XSTATE_BV, then XCOMP_BV */
constexpr uint32_t COMPACT_START = 576;

uint64_t
read_xcr0()
{
	uint32_t a, b, c, d;
	/* OSXSAVE (CPUID.1:ECX bit 27): xgetbv may be executed */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)))
		return 0;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

} /* namespace */

XstateLayout::XstateLayout() : xcr0_(read_xcr0())
{
	uint32_t a, b, c, d;
	buffer_size_ = 4096;
	if (xcr0_ == 0 || __get_cpuid_max(0, nullptr) < 0xd)
		return;
	__cpuid_count(0xd, 0, a, b, c, d);
	buffer_size_ = std::max<uint32_t>(buffer_size_, std::max(b, c));
	for (unsigned comp = XC_AVX; comp < XC_COUNT; comp++) {
		if (!((xcr0_ >> comp) & 1))
			continue;
		__cpuid_count(0xd, comp, a, b, c, d);
		size_[comp] = a;
		offset_[comp] = b;
		align64_[comp] = (c & 2) != 0;
	}
}

const XstateLayout &
XstateLayout::get()
{
	static const XstateLayout layout;
	return layout;
}

void
XstateLayout::written(uint8_t kind, uint64_t rfbm, uint64_t xstate_bv, std::vector<ByteRange> *out) const
{
	/* xsave writes every requested component; xsaveopt and xsavec skip
	 * those in their initial state, which XSTATE_BV shows (and xsaveopt
	 * those unmodified since an xrstor from the same area, which then
	 * already hold the bytes it would write) */
	const uint64_t saved = kind == MEM_XSAVE ? rfbm : rfbm & xstate_bv;
	out->clear();
	if (saved & (1u << XC_X87)) {
		out->push_back({0, LEGACY_X87_END});
		out->push_back({LEGACY_ST0, LEGACY_XMM0 - LEGACY_ST0});
	}
	if (rfbm & ((1u << XC_SSE) | (1u << XC_AVX)))
		out->push_back({LEGACY_MXCSR, 8});
	if (saved & (1u << XC_SSE))
		out->push_back({LEGACY_XMM0, LEGACY_XMM_END - LEGACY_XMM0});
	const bool compact = kind == MEM_XSAVE_COMPACT;
	/* the header: XSTATE_BV, and XCOMP_BV for the compacted format */
	out->push_back({HEADER, compact ? 16u : 8u});
	uint64_t at = COMPACT_START;
	for (unsigned comp = XC_AVX; comp < XC_COUNT; comp++) {
		if (!((rfbm >> comp) & 1) || size_[comp] == 0)
			continue;
		uint64_t start = offset_[comp];
		if (compact) {
			/* every requested component has its place, saved or not */
			if (align64_[comp])
				at = (at + 63) & ~(uint64_t)63;
			start = at;
			at += size_[comp];
		}
		if ((saved >> comp) & 1)
			out->push_back({start, size_[comp]});
	}
	/* in address order, touching ranges joined: one event per run */
	std::vector<ByteRange> &r = *out;
	std::sort(r.begin(), r.end(), [](const ByteRange &a, const ByteRange &b) { return a.start < b.start; });
	size_t n = 0;
	for (size_t i = 0; i < r.size(); i++) {
		if (n > 0 && r[i].start <= r[n - 1].start + r[n - 1].len)
			r[n - 1].len = std::max(r[n - 1].len, r[i].start + r[i].len - r[n - 1].start);
		else
			r[n++] = r[i];
	}
	r.resize(n);
}

void
VectorRegs::fetch(pid_t pid)
{
	const XstateLayout &layout = XstateLayout::get();
	buf_.assign(layout.buffer_size(), 0);
	struct iovec iov = {buf_.data(), buf_.size()};
	if (ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov) != 0)
		throw TaskError(syserr("PTRACE_GETREGSET NT_X86_XSTATE " + std::to_string(pid), errno));
	buf_.resize(iov.iov_len);
	xstate_bv_ = 0;
	if (buf_.size() >= HEADER + 8)
		memcpy(&xstate_bv_, buf_.data() + HEADER, 8);
}

void
VectorRegs::copy(unsigned c, uint32_t offset, uint8_t *out, unsigned len) const
{
	if (!((xstate_bv_ >> c) & 1) || offset + len > buf_.size() || (c >= XC_AVX && offset < HEADER)) {
		memset(out, 0, len);
		return;
	}
	memcpy(out, buf_.data() + offset, len);
}

void
VectorRegs::vector(unsigned reg, unsigned width, uint8_t *out) const
{
	const XstateLayout &layout = XstateLayout::get();
	PMFIT_ASSERT(reg < VEC_COUNT && width <= 64);
	if (reg >= VEC_MM) {
		PMFIT_ASSERT(width <= 8);
		copy(XC_X87, LEGACY_ST0 + 16 * (reg - VEC_MM), out, width);
		return;
	}
	if (reg >= 16) {
		copy(XC_HI16_ZMM, layout.standard_offset(XC_HI16_ZMM) + 64 * (reg - 16), out, width);
		return;
	}
	copy(XC_SSE, LEGACY_XMM0 + 16 * reg, out, std::min(width, 16u));
	if (width > 16)
		copy(XC_AVX, layout.standard_offset(XC_AVX) + 16 * reg, out + 16, std::min(width, 32u) - 16);
	if (width > 32)
		copy(XC_ZMM_HI256, layout.standard_offset(XC_ZMM_HI256) + 32 * reg, out + 32, width - 32);
}

uint64_t
VectorRegs::opmask(unsigned k) const
{
	PMFIT_ASSERT(k < 8);
	uint64_t value;
	copy(XC_OPMASK, XstateLayout::get().standard_offset(XC_OPMASK) + 8 * k, reinterpret_cast<uint8_t *>(&value), 8);
	return value;
}

} /* namespace pmfit */
