/*
 * recorder.h -- the PM events of single-stepped instructions, in the
 * binary layout of harness/trace/format.ts (rr's TraceWriter, for stores)
 *
 * The stepping loop hands every instruction of a region to before() and
 * after(); the recorder works out which bytes it wrote from the decoder's
 * operands and the registers (vector and opmask registers too, for masked
 * stores and scatters: written_bytes.h; the CPU's xsave layout for the
 * xsave family: xstate.h), keeps the parts that fall in PM ranges and
 * copies their new contents out of the tracee. System calls are recorded
 * as the difference of the PM ranges before and after.
 *
 * Code rewritten after it was decoded (a JIT, self-modifying code, a new
 * mapping at the same address) must not be stepped with the old decoding:
 * every cached instruction remembers its bytes and the epoch it was last
 * seen in. A store to a page of cached code, a system call and a region
 * entry (untraced code ran) start a new epoch; the first execution of an
 * instruction in a new epoch compares its bytes, and decodes it again if
 * they changed. Within an epoch a lookup is one probe and one compare.
 *
 * EventKind numbers are the contract with harness/trace/event.ts.
 */
#ifndef PMFIT_RECORDER_H
#define PMFIT_RECORDER_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "breakpoints.h"
#include "dirty_lines.h"
#include "insn.h"
#include "insn_cache.h"
#include "registers.h"
#include "remote_ptr.h"
#include "xstate.h"

namespace pmfit {

/* EventKind -- harness/trace/event.ts */
enum EventKind : uint8_t {
	EV_STORE = 1,
	EV_NT_STORE = 2,
	EV_CLFLUSH = 3,
	EV_CLFLUSHOPT = 4,
	EV_CLWB = 5,
	EV_FENCE = 6,
	EV_WRITE = 7,
	EV_SYNC = 8,
};

/* NO_FILE -- file id of events that concern no file (fences) */
constexpr uint8_t NO_FILE = 255;

/* PmRange -- [start, end) of the tracee maps file file_id at file_offset */
struct PmRange {
	RemotePtr start;
	RemotePtr end;
	uint32_t file_id = 0;
	uint64_t file_offset = 0;
};

class Recorder {
public:
	/* set_pm_ranges -- throws TaskError for a range that ends before it
	 * starts or a file id that does not fit a record */
	void set_pm_ranges(std::vector<PmRange> ranges);
	const std::vector<PmRange> &
	pm_ranges() const
	{
		return ranges_;
	}
	/* in_pm -- [addr, addr + len) touches a PM range */
	bool in_pm(RemotePtr addr, uint64_t len) const;
	/* set_instruction -- the decoding of the code at address, which is
	 * read from the tracee (as the program has it: breakpoints' int3s
	 * shown as what they cover) to notice when it changes; throws
	 * TaskError for an operand the recorder cannot follow */
	void set_instruction(pid_t pid, RemotePtr address, InsnInfo info, const Breakpoints &breakpoints);
	/* instruction -- what the decoder said about the code at address;
	 * null when it is unknown or was rewritten since */
	const InsnInfo *
	instruction(pid_t pid, RemotePtr address, const Breakpoints &breakpoints)
	{
		InsnInfo *insn = insns_.find(address);
		if (insn && __builtin_expect(insn->epoch != code_epoch_, 0))
			return code_unchanged(pid, address, insn, breakpoints) ? insn : nullptr;
		return insn;
	}
	/* CachedCode -- the program's bytes at [at, at + len) as of now
	 * (int3s of ours shown as what they cover) when they are known
	 * without a read; false otherwise */
	using CachedCode = std::function<bool(RemotePtr at, uint8_t *out, size_t len)>;
	/* set_cached_code -- where code_unchanged looks before it reads
	 * (FenceHunt::cached_code: code the program cannot write, read
	 * since the last system call; ~600 reads of a few bytes on txmap
	 * with 20 inserts, at fences and faults the hunt had just walked
	 * to) */
	void
	set_cached_code(CachedCode cached_code)
	{
		cached_code_ = std::move(cached_code);
	}
	/* code_may_have_changed -- untraced code ran, or a system call: look
	 * at the bytes of every instruction again before it runs */
	void
	code_may_have_changed()
	{
		code_epoch_++;
	}
	/* mappings_changed -- a system call that may map, or untraced code
	 * that may have made one: the shared mappings of files also mapped
	 * executable are read again before the next store is recorded */
	void
	mappings_changed()
	{
		aliases_stale_ = true;
	}

	/* set_thread -- the number of the thread whose events follow */
	void
	set_thread(uint32_t number)
	{
		thread_ = number > UINT16_MAX ? UINT16_MAX : (uint16_t)number;
	}

	/* buffer_full -- time to hand the events to JavaScript */
	bool
	buffer_full() const
	{
		return events_.size() > EVENT_BUFFER_LIMIT;
	}
	std::vector<uint8_t> take_events();
	/* event_bytes -- bytes of events not yet taken: the fast recorder
	 * tells from it whether a step made an event */
	size_t
	event_bytes() const
	{
		return events_.size();
	}
	/* holds_store -- the events from byte pos on are one store of
	 * exactly these len bytes (an emulated store's check, fast_region.cc) */
	bool holds_store(size_t pos, const uint8_t *bytes, size_t len) const;
	/* dirty_flushes -- flushes so far of a line dirty for the flushing
	 * thread (dirty_lines.h): those whose fence the fast recorder hunts */
	uint64_t
	dirty_flushes() const
	{
		return dirty_flushes_;
	}

	/* before -- what insn will write, from the registers it reads, before
	 * it changes them */
	void before(pid_t pid, const InsnInfo &insn, const Registers &regs);
	/* after -- the events of insn, just stepped at insn_addr; index is
	 * the instruction count after it */
	void after(pid_t pid, const InsnInfo &insn, const Registers &regs, RemotePtr insn_addr, uint64_t index);

	/* signal_frame -- the frame the kernel wrote for the handler the
	 * tracee was just stopped at the entry of: the bytes from its stack
	 * pointer up to quirks::signal_frame_bound() that are PM, as stores at
	 * the handler's address (the stack may be PM: sigaltstack); index is
	 * the count after the handler's first instruction */
	void signal_frame(pid_t pid, const Registers &regs, uint64_t index);

	/* page_clean -- no line of the PM page at page (page-aligned) is
	 * dirty for a flush of the thread set (dirty_lines.h); false outside
	 * PM */
	bool page_clean(RemotePtr page) const;
	/* forget_dirty_lines -- memory was written that the recorder did not
	 * see (a system call's, recorded by JavaScript): every line dirty */
	void
	forget_dirty_lines()
	{
		dirty_.forget();
	}

	/* snapshot -- the PM ranges now, before a system call */
	void snapshot(pid_t pid);
	/* emit_diff -- the changed bytes since snapshot() as stores of the
	 * system call at insn_addr; drops the snapshot */
	void emit_diff(pid_t pid, RemotePtr insn_addr, uint64_t index);
	void
	drop_snapshot()
	{
		before_syscall_.clear();
	}

private:
	/* EVENT_BUFFER_LIMIT -- resume() returns `buffer` past this many bytes */
	static constexpr size_t EVENT_BUFFER_LIMIT = 8u << 20;

	bool code_unchanged(pid_t pid, RemotePtr address, InsnInfo *insn, const Breakpoints &breakpoints);
	bool writes_code_alias(pid_t pid, RemotePtr addr, uint64_t len);
	void special_before(pid_t pid, const InsnInfo &insn, const Registers &regs);
	void special_after(pid_t pid, const MemOperand &op, size_t i, uint8_t kind, RemotePtr insn_addr,
			   uint64_t index);
	void store(pid_t pid, uint8_t kind, RemotePtr addr, uint64_t len, RemotePtr insn_addr, uint64_t index);
	void emit_store(pid_t pid, uint8_t kind, RemotePtr addr, uint64_t len, RemotePtr insn_addr, uint64_t index);
	void emit_flush(uint8_t kind, RemotePtr addr, RemotePtr insn_addr, uint64_t index);
	uint8_t *append_record(uint8_t kind, uint8_t file_id, uint32_t length, uint64_t offset, RemotePtr insn_addr,
			       uint64_t index);

	InsnCache insns_;
	std::vector<PmRange> ranges_;
	std::vector<uint8_t> events_;
	DirtyLines dirty_; /* from the events recorded here */

	RemotePtr write_addrs_[InsnInfo::MAX_WRITES];
	RemotePtr rdi_before_;
	bool df_before_ = false;

	uint64_t code_epoch_ = 1;
	CachedCode cached_code_;
	/* [start, end) of shared mappings of files also mapped executable:
	 * a store there may rewrite code elsewhere (a JIT mapping one file
	 * twice), which the pages of decoded code do not show */
	std::vector<std::pair<uint64_t, uint64_t>> code_aliases_;
	bool aliases_stale_ = true;
	uint64_t dirty_flushes_ = 0;
	uint16_t thread_ = 0; /* records' thread field */

	/* instructions with operands other than MEM_PLAIN: what before()
	 * found, for after() */
	VectorRegs vregs_;
	std::vector<ByteRange> special_ranges_;
	size_t special_end_[InsnInfo::MAX_WRITES] = {};	   /* operand i: up to here */
	uint64_t rfbm_ = 0;				   /* xsave: edx:eax & XCR0 */
	uint64_t scatter_mask_[InsnInfo::MAX_WRITES] = {}; /* scatter: opmask */
	std::vector<ByteRange> after_ranges_;		   /* xsave and scatter, after the step */

	std::vector<std::vector<uint8_t>> before_syscall_; /* one copy per range */
};

} /* namespace pmfit */

#endif /* PMFIT_RECORDER_H */
