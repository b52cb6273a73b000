/*
 * recorder.cc -- Recorder: stores, flushes, fences and system-call
 * differences as trace records
 */
#include "recorder.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "error.h"
#include "proc_maps.h"
#include "quirks.h"
#include "tracee_memory.h"
#include "written_bytes.h"

namespace pmfit {

namespace {

constexpr size_t RECORD_HEADER = 32;
constexpr uint64_t LINE = 64;
/* DIFF_CHUNK -- bytes of a PM range compared at a time after a syscall */
constexpr size_t DIFF_CHUNK = 1u << 20;
/* XSTATE_BV -- where an xsave area's header keeps it */
constexpr uint64_t XSTATE_BV = 512;
constexpr uint8_t REG_RAX = 1;
constexpr uint8_t REG_RDX = 3;

bool
carries_data(uint8_t kind)
{
	return kind == EV_STORE || kind == EV_NT_STORE || kind == EV_WRITE;
}

bool
is_xsave(uint8_t kind)
{
	return kind == MEM_XSAVE || kind == MEM_XSAVE_OPT || kind == MEM_XSAVE_COMPACT;
}

/* check_operand -- the fields of a MemKind other than MEM_PLAIN are in
 * range, so that written_bytes reads no register that is not there */
void
check_operand(const MemOperand &op)
{
	const bool elements = op.kind == MEM_OPMASK || op.kind == MEM_VEC_MASK || op.kind == MEM_COMPRESS;
	bool ok = op.kind < MEM_KIND_COUNT;
	if (op.kind == MEM_BIT_OFFSET)
		ok = (op.reg & 31u) != 0 && (op.reg & 31u) < REG_COUNT &&
		     (op.size == 2 || op.size == 4 || op.size == 8);
	if (elements)
		ok = op.elem != 0 && op.size % op.elem == 0 && op.size <= 64 && op.size / op.elem <= 64;
	if (op.kind == MEM_OPMASK || op.kind == MEM_COMPRESS || op.kind == MEM_SCATTER)
		ok = ok && op.reg < 8;
	if (op.kind == MEM_VEC_MASK)
		ok = ok && op.reg < VEC_COUNT && (op.reg < VEC_MM || op.size <= 8);
	if (op.kind == MEM_SCATTER)
		ok = op.reg < 8 && op.vec < VEC_MM && op.elem != 0 && op.count <= 64 &&
		     (op.index_elem == 4 || op.index_elem == 8) && op.count * op.index_elem <= 64;
	if (!ok)
		throw TaskError("write operand of kind " + std::to_string(op.kind) + " has fields out of range");
}

} /* namespace */

void
Recorder::set_pm_ranges(std::vector<PmRange> ranges)
{
	for (const PmRange &range : ranges) {
		if (range.end < range.start)
			throw TaskError("PM range ends before it starts: " + hex(range.start.as_int()));
		if (range.file_id >= NO_FILE)
			throw TaskError("PM file id " + std::to_string(range.file_id) + " out of range");
	}
	ranges_ = std::move(ranges);
}

void
Recorder::set_instruction(pid_t pid, RemotePtr address, InsnInfo info, const Breakpoints &breakpoints)
{
	if (info.writes.size() > InsnInfo::MAX_WRITES)
		info.writes.resize(InsnInfo::MAX_WRITES);
	if (info.length == 0 || info.length > InsnInfo::MAX_LENGTH)
		throw TaskError("instruction length " + std::to_string(info.length) + " at " + hex(address.as_int()));
	info.special = false;
	for (const MemOperand &op : info.writes) {
		check_operand(op);
		info.special = info.special || op.kind != MEM_PLAIN;
	}
	memset(info.code, 0, sizeof(info.code));
	read_tracee(pid, address, info.code, info.length);
	breakpoints.show_original(address, info.code, info.length);
	info.epoch = code_epoch_;
	insns_.insert(address, std::move(info));
}

/* code_unchanged -- the bytes of insn are still at address (then it is
 * good for this epoch) */
bool
Recorder::code_unchanged(pid_t pid, RemotePtr address, InsnInfo *insn, const Breakpoints &breakpoints)
{
	uint8_t now[InsnInfo::MAX_LENGTH] = {};
	if (!cached_code_ || !cached_code_(address, now, insn->length)) {
		read_tracee(pid, address, now, insn->length);
		breakpoints.show_original(address, now, insn->length);
	}
	if (memcmp(now, insn->code, insn->length) != 0)
		return false;
	insn->epoch = code_epoch_;
	return true;
}

std::vector<uint8_t>
Recorder::take_events()
{
	std::vector<uint8_t> taken;
	taken.swap(events_);
	return taken;
}

void
Recorder::before(pid_t pid, const InsnInfo &insn, const Registers &regs)
{
	const size_t n = insn.writes.size();
	PMFIT_ASSERT(n <= InsnInfo::MAX_WRITES);
	for (size_t i = 0; i < n; i++)
		write_addrs_[i] = regs.effective_address(insn.writes[i]);
	rdi_before_ = regs.rdi();
	df_before_ = regs.direction_flag();
	if (insn.special)
		special_before(pid, insn, regs);
}

/* special_before -- the byte ranges of the operands that are not
 * MEM_PLAIN, while the registers that select them are as the instruction
 * finds them */
void
Recorder::special_before(pid_t pid, const InsnInfo &insn, const Registers &regs)
{
	special_ranges_.clear();
	bool fetched = false;
	for (size_t i = 0; i < insn.writes.size(); i++) {
		const MemOperand &op = insn.writes[i];
		if (needs_vector_regs(op) && !fetched) {
			vregs_.fetch(pid);
			fetched = true;
		}
		if (is_xsave(op.kind))
			rfbm_ = ((regs.value(REG_RDX + REG_32) << 32) | regs.value(REG_RAX + REG_32)) &
				XstateLayout::get().xcr0();
		else if (op.kind == MEM_SCATTER)
			scatter_mask_[i] = vregs_.opmask(op.reg);
		else if (op.kind != MEM_PLAIN)
			written_bytes(op, write_addrs_[i], regs, vregs_, &special_ranges_);
		special_end_[i] = special_ranges_.size();
	}
}

void
Recorder::after(pid_t pid, const InsnInfo &insn, const Registers &regs, RemotePtr insn_addr, uint64_t index)
{
	const uint32_t flags = insn.flags;
	const size_t n = insn.writes.size();
	if (n != 0) {
		const uint8_t store_kind = (flags & INSN_NT_STORE) ? EV_NT_STORE : EV_STORE;
		if (flags & INSN_REP_STRING) {
			/* One iteration per step; its element is where rdi
			 * moved over, whatever the operand says. */
			uint64_t elem = insn.writes[0].size;
			RemotePtr lo, hi;
			if (!df_before_) {
				lo = rdi_before_;
				hi = regs.rdi();
			} else {
				lo = regs.rdi() + elem;
				hi = rdi_before_ + elem;
			}
			if (hi > lo)
				store(pid, store_kind, lo, hi - lo, insn_addr, index);
		} else if (flags & (INSN_CLFLUSH | INSN_CLFLUSHOPT | INSN_CLWB)) {
			const uint8_t kind = (flags & INSN_CLFLUSH)	 ? EV_CLFLUSH
					     : (flags & INSN_CLFLUSHOPT) ? EV_CLFLUSHOPT
									 : EV_CLWB;
			for (size_t i = 0; i < n; i++)
				emit_flush(kind, write_addrs_[i], insn_addr, index);
		} else {
			for (size_t i = 0; i < n; i++) {
				const MemOperand &op = insn.writes[i];
				if (op.kind == MEM_PLAIN)
					store(pid, store_kind, write_addrs_[i], op.size, insn_addr, index);
				else
					special_after(pid, op, i, store_kind, insn_addr, index);
			}
		}
	}
	if (flags & (INSN_FENCE | INSN_LOCKED))
		append_record(EV_FENCE, NO_FILE, 0, 0, insn_addr, index);
}

/* special_after -- the stores of operand i, which is not MEM_PLAIN */
void
Recorder::special_after(pid_t pid, const MemOperand &op, size_t i, uint8_t kind, RemotePtr insn_addr, uint64_t index)
{
	if (is_xsave(op.kind)) {
		/* laid out by the header the instruction wrote: an area it
		 * could not write faulted, and no step completed */
		const RemotePtr area = write_addrs_[i];
		uint64_t xstate_bv = 0;
		read_tracee(pid, area + XSTATE_BV, reinterpret_cast<uint8_t *>(&xstate_bv), sizeof(xstate_bv));
		after_ranges_.clear();
		XstateLayout::get().written(op.kind, rfbm_, xstate_bv, &after_ranges_);
		for (const ByteRange &range : after_ranges_)
			store(pid, kind, area + range.start, range.len, insn_addr, index);
		return;
	}
	if (op.kind == MEM_SCATTER) {
		/* the elements whose opmask bit this step cleared */
		vregs_.fetch(pid);
		const uint64_t done = scatter_mask_[i] & ~vregs_.opmask(op.reg);
		after_ranges_.clear();
		scatter_bytes(op, write_addrs_[i], vregs_, done, &after_ranges_);
		for (const ByteRange &range : after_ranges_)
			store(pid, kind, RemotePtr(range.start), range.len, insn_addr, index);
		return;
	}
	for (size_t r = i == 0 ? 0 : special_end_[i - 1]; r < special_end_[i]; r++)
		store(pid, kind, RemotePtr(special_ranges_[r].start), special_ranges_[r].len, insn_addr, index);
}

/* writes_code_alias -- [addr, addr + len) touches a shared mapping of a
 * file also mapped executable (the mappings read once after each
 * mappings_changed) */
bool
Recorder::writes_code_alias(pid_t pid, RemotePtr addr, uint64_t len)
{
	if (aliases_stale_) {
		const std::vector<MapsLine> maps = read_proc_maps(pid);
		const auto code = files_of(maps, [](const MapsLine &m) { return m.executable(); });
		code_aliases_.clear();
		for (const MapsLine &m : maps) {
			if (m.shared() && m.file_among(code))
				code_aliases_.push_back({m.start, m.end});
		}
		aliases_stale_ = false;
	}
	for (const auto &range : code_aliases_) {
		if (addr.as_int() < range.second && addr.as_int() + len > range.first)
			return true;
	}
	return false;
}

/* store -- bytes the instruction wrote: an event for the part in PM, and a
 * new code epoch if they land on a page of decoded code, or on another
 * mapping of a file that holds code */
void
Recorder::store(pid_t pid, uint8_t kind, RemotePtr addr, uint64_t len, RemotePtr insn_addr, uint64_t index)
{
	if (insns_.holds_code(addr, len) || writes_code_alias(pid, addr, len))
		code_epoch_++;
	emit_store(pid, kind, addr, len, insn_addr, index);
}

/* emit_store -- the written bytes, one record per PM range they touch */
void
Recorder::emit_store(pid_t pid, uint8_t kind, RemotePtr addr, uint64_t len, RemotePtr insn_addr, uint64_t index)
{
	RemotePtr end = addr + len < addr ? RemotePtr(UINT64_MAX) : addr + len;
	for (const PmRange &range : ranges_) {
		RemotePtr lo = std::max(addr, range.start);
		RemotePtr hi = std::min(end, range.end);
		if (lo >= hi)
			continue;
		uint64_t offset = range.file_offset + (lo - range.start);
		uint8_t *data =
			append_record(kind, (uint8_t)range.file_id, (uint32_t)(hi - lo), offset, insn_addr, index);
		read_tracee(pid, lo, data, hi - lo);
	}
}

bool
Recorder::holds_store(size_t pos, const uint8_t *bytes, size_t len) const
{
	if (pos + RECORD_HEADER + ((len + 7) & ~(size_t)7) != events_.size())
		return false;
	const uint8_t *rec = events_.data() + pos;
	uint32_t length = 0;
	memcpy(&length, rec + 4, 4);
	return (rec[0] == EV_STORE || rec[0] == EV_NT_STORE) && length == len &&
	       memcmp(rec + RECORD_HEADER, bytes, len) == 0;
}

void
Recorder::signal_frame(pid_t pid, const Registers &regs, uint64_t index)
{
	/* Bytes above the frame are recorded with the value they have, which
	 * changes no image: the trace holds them already. */
	emit_store(pid, EV_STORE, regs.sp(), quirks::signal_frame_bound(), regs.ip(), index);
}

bool
Recorder::in_pm(RemotePtr addr, uint64_t len) const
{
	const RemotePtr end = addr + len < addr ? RemotePtr(UINT64_MAX) : addr + len;
	for (const PmRange &range : ranges_) {
		if (addr < range.end && end > range.start)
			return true;
	}
	return false;
}

bool
Recorder::page_clean(RemotePtr page) const
{
	for (const PmRange &range : ranges_) {
		if (page >= range.start && page < range.end)
			return dirty_.page_clean((uint8_t)range.file_id, range.file_offset + (page - range.start),
						 thread_);
	}
	return false;
}

/* emit_flush -- a flush names its whole line, by file offset */
void
Recorder::emit_flush(uint8_t kind, RemotePtr addr, RemotePtr insn_addr, uint64_t index)
{
	for (const PmRange &range : ranges_) {
		if (addr < range.start || addr >= range.end)
			continue;
		uint64_t offset = (range.file_offset + (addr - range.start)) & ~(LINE - 1);
		append_record(kind, (uint8_t)range.file_id, (uint32_t)LINE, offset, insn_addr, index);
		return;
	}
}

/* append_record -- trace/format.ts layout; its data area (zeroed, length
 * bytes for kinds that carry data) for the caller to fill */
uint8_t *
Recorder::append_record(uint8_t kind, uint8_t file_id, uint32_t length, uint64_t offset, RemotePtr insn_addr,
			uint64_t index)
{
	if (kind == EV_STORE || kind == EV_NT_STORE)
		dirty_.stored(file_id, offset, length, kind == EV_NT_STORE, thread_);
	else if (kind == EV_CLFLUSH || kind == EV_CLFLUSHOPT || kind == EV_CLWB)
		dirty_flushes_ += dirty_.flushed(file_id, offset, kind != EV_CLFLUSH, thread_) ? 1 : 0;
	else if (kind == EV_FENCE)
		dirty_.fenced(thread_);
	size_t data_len = carries_data(kind) ? length : 0;
	size_t padded = (data_len + 7) & ~(size_t)7;
	size_t pos = events_.size();
	events_.resize(pos + RECORD_HEADER + padded, 0);
	uint8_t *rec = events_.data() + pos;
	uint64_t address = insn_addr.as_int();
	rec[0] = kind;
	rec[1] = file_id;
	memcpy(rec + 2, &thread_, 2);
	memcpy(rec + 4, &length, 4); /* x86: already little endian */
	memcpy(rec + 8, &index, 8);
	memcpy(rec + 16, &address, 8);
	memcpy(rec + 24, &offset, 8);
	return rec + RECORD_HEADER;
}

void
Recorder::snapshot(pid_t pid)
{
	before_syscall_.clear();
	for (const PmRange &range : ranges_) {
		std::vector<uint8_t> bytes(range.end - range.start);
		bytes.resize(read_tracee(pid, range.start, bytes.data(), bytes.size()));
		before_syscall_.push_back(std::move(bytes));
	}
}

void
Recorder::emit_diff(pid_t pid, RemotePtr insn_addr, uint64_t index)
{
	/* the state after is read a chunk at a time: a second whole copy of
	 * a large mapping would double the peak memory of the recorder */
	std::vector<uint8_t> now(DIFF_CHUNK);
	for (size_t r = 0; r < ranges_.size() && r < before_syscall_.size(); r++) {
		const PmRange &range = ranges_[r];
		const std::vector<uint8_t> &old = before_syscall_[r];
		for (size_t base = 0; base < old.size(); base += DIFF_CHUNK) {
			size_t len = std::min(DIFF_CHUNK, old.size() - base);
			len = read_tracee(pid, range.start + base, now.data(), len);
			const uint8_t *was = old.data() + base;
			size_t i = 0;
			while (i < len) {
				if (now[i] == was[i]) {
					i++;
					continue;
				}
				size_t j = i;
				while (j < len && now[j] != was[j])
					j++;
				uint8_t *data = append_record(EV_STORE, (uint8_t)range.file_id, (uint32_t)(j - i),
							      range.file_offset + base + i, insn_addr, index);
				memcpy(data, now.data() + i, j - i);
				i = j;
			}
		}
	}
	before_syscall_.clear();
}

} /* namespace pmfit */
