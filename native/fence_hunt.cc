/*
 * fence_hunt.cc -- FenceHunt: straight lines of decoded code from the
 * tracee's rip to the breakpoints of the next stop
 */
#include "fence_hunt.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "error.h"
#include "proc_maps.h"
#include "tracee_memory.h"

namespace pmfit {

namespace {

/* MAX_LINE -- instructions of one straight line (a loop of direct jumps
 * ends somewhere) */
constexpr size_t MAX_LINE = 512;

/* REWALKS -- walks of a line again in one plan, for paths that reach it
 * knowing less of the stack than it was walked with (FenceHunt::Stack) */
constexpr size_t REWALKS = 3;

/* must_step -- instructions the hunt stops at and the recorder steps: the
 * fence-like ones it looks for, and those whose successor it cannot know
 * or that it must see run (system calls, instructions it refuses) */
bool
must_step(const InsnInfo &insn)
{
	return insn.flow == FLOW_OTHER || insn.flow == FLOW_RETURN || insn.flow == FLOW_INDIRECT ||
	       (insn.flags & (INSN_FENCE | INSN_LOCKED | INSN_SYSCALL | INSN_UNSUPPORTED));
}

/* target_now -- where the return or indirect branch at rip goes, read
 * from the registers and memory as they are (nothing runs before it);
 * false when its operand cannot be read (stepping it faults) */
bool
target_now(pid_t pid, const InsnInfo &insn, const Registers &regs, WordReads *words, RemotePtr *target)
{
	if (insn.flow == FLOW_INDIRECT && insn.via_reg != REG_NONE) {
		*target = RemotePtr(regs.value(insn.via_reg));
		return true;
	}
	const RemotePtr from = insn.flow == FLOW_RETURN ? regs.sp() : regs.effective_address(insn.via);
	uint64_t word = 0;
	if (!words->word(pid, from, &word))
		return false;
	*target = RemotePtr(word);
	return true;
}

void
add_range(std::vector<std::pair<uint64_t, uint64_t>> *ranges, uint64_t start, uint64_t end)
{
	if (!ranges->empty() && ranges->back().second == start)
		ranges->back().second = end;
	else
		ranges->push_back({start, end});
}

bool
in_ranges(const std::vector<std::pair<uint64_t, uint64_t>> &ranges, RemotePtr at, uint64_t len)
{
	const uint64_t lo = at.as_int(), hi = lo + len;
	for (const auto &range : ranges) {
		if (lo >= range.first && hi <= range.second && hi > lo)
			return true;
	}
	return false;
}

/* walks_alike -- whether a Run made with one decoding holds with the
 * other: the same bytes, and all a walk of straight instructions reads */
bool
walks_alike(const InsnInfo &a, const InsnInfo &b)
{
	return a.length == b.length && memcmp(a.code, b.code, a.length) == 0 && a.flags == b.flags &&
	       a.flow == b.flow && a.target == b.target && a.rsp_add == b.rsp_add && a.gpr_writes == b.gpr_writes &&
	       a.stack_top == b.stack_top && a.wild_write == b.wild_write;
}

} /* namespace */

void
FenceHunt::region_began(bool calls_seen)
{
	if (!calls_seen) {
		mappings_changed();
		return;
	}
	maps_stale_ = true;
	epoch_++;
	pages_kept_ = true;
}

void
FenceHunt::read_maps(pid_t pid)
{
	const auto safe = std::move(safe_);
	const auto constant = std::move(constant_);
	safe_.clear();
	constant_.clear();
	writable_.clear();
	const std::vector<MapsLine> maps = read_proc_maps(pid);
	/* files the program maps shared, whatever the permissions (a PM
	 * mapping the recorder protected shows r--s): a store through such
	 * a mapping (a JIT mapping one file twice), or the tracer's own
	 * write of a PM file (store_emulation.h), changes the pages of a
	 * private mapping of the file not copied yet with no system call.
	 * Such a mapping is neither code nor constants nor a pointer's page
	 * to watch, and no int3 goes there (its copy would part the page
	 * from the file, and the program would no longer see its writes) */
	const auto shared = files_of(maps, [](const MapsLine &m) { return m.shared(); });
	for (const MapsLine &m : maps) {
		/* the kernel's own pages ([vvar] changes under the program,
		 * [stack] and [heap] are written all the time) */
		const bool own = m.pseudo();
		if (m.file_among(shared))
			continue;
		/* not shared either: an int3 written there would reach the
		 * file */
		if (!m.writable() && !m.shared()) {
			if (m.executable())
				add_range(&safe_, m.start, m.end);
			/* what the program reads and cannot write (a RELRO
			 * GOT): a jump through it goes where it says until an
			 * mprotect, a system call */
			if (m.readable() && !own)
				add_range(&constant_, m.start, m.end);
		} else if (m.readable() && m.writable() && !m.shared() && !own) {
			/* a library's .data or .bss, an anonymous mapping: a
			 * pointer there is followed while its page is watched */
			writable_.push_back(
				{m.start, m.end, PROT_READ | PROT_WRITE | (m.executable() ? PROT_EXEC : 0)});
		}
	}
	maps_stale_ = false;
	if (pages_kept_ && (safe_ != safe || constant_ != constant))
		pages_.clear();
	pages_kept_ = false;
}

bool
FenceHunt::safe_code(RemotePtr at, uint64_t len) const
{
	return in_ranges(safe_, at, len);
}

/* constant_target -- where an indirect jump or call through a fixed
 * address (rip-relative or absolute) goes while its 8 bytes cannot change
 * unseen before it runs:
 * - in memory the program cannot write (a RELRO GOT of a BIND_NOW
 *   library: every call through the PLT, every -fno-plt call): they
 *   change only after an mprotect, a system call, which starts a new
 *   epoch;
 * - on a page the fast recorder has write-protected (PM, or private
 *   memory it watches: write_protected_): a store to them by the program
 *   faults and a kernel write happens in a system call, both stops after
 *   which the caller plans again from rip, so they are read afresh each
 *   plan, not from the epoch's pages.
 * Through private writable memory that is not protected, the page is
 * proposed for a watch (planning_->watch) */
bool
FenceHunt::constant_target(pid_t pid, const InsnInfo &insn, const Breakpoints &breakpoints, RemotePtr *target)
{
	const MemOperand &via = insn.via;
	if (insn.flow != FLOW_INDIRECT || insn.via_reg != REG_NONE || via.base != REG_NONE || via.index != REG_NONE ||
	    via.seg != SEG_NONE || via.kind != MEM_PLAIN)
		return false;
	return pointer_at(pid, RemotePtr((uint64_t)via.disp), breakpoints, true, target);
}

/* register_target -- where an indirect jump or call further on goes when
 * no line of the plan writes the registers it reads (plan_writes_, checked
 * once the plan is made, and banned_): through the register, its value at
 * rip; through memory at an address from them, as pointer_at says (no
 * watch: a pointer in the heap would fault at every store near it) */
bool
FenceHunt::register_target(pid_t pid, const InsnInfo &insn, const Breakpoints &breakpoints, RemotePtr *target)
{
	if (!follow_ || !regs_ || insn.flow != FLOW_INDIRECT)
		return false;
	/* 64-bit registers but rsp, which the path moves without a write
	 * of its own (push, call) */
	constexpr uint8_t RSP = 5;
	const auto unwritten = [this](uint8_t reg) {
		return reg > REG_NONE && reg < REG_COUNT && reg != RSP && !(banned_ & (1u << (reg - 1)));
	};
	const auto bit = [](uint8_t reg) { return reg == REG_NONE ? 0u : 1u << (reg - 1); };
	if (insn.via_reg != REG_NONE) {
		if (!unwritten(insn.via_reg))
			return false;
		plan_relies_ |= bit(insn.via_reg);
		*target = RemotePtr(regs_->value(insn.via_reg));
		return true;
	}
	const MemOperand &via = insn.via;
	if (via.base == REG_NONE && via.index == REG_NONE)
		return false; /* constant_target's */
	if ((via.base != REG_NONE && !unwritten(via.base)) || (via.index != REG_NONE && !unwritten(via.index)) ||
	    via.seg != SEG_NONE || via.kind != MEM_PLAIN)
		return false;
	if (!pointer_at(pid, regs_->effective_address(via), breakpoints, false, target))
		return false;
	plan_relies_ |= bit(via.base) | bit(via.index);
	return true;
}

/* pointer_at -- the 8 bytes at `at` while they cannot change unseen
 * (constant_target); may_watch: propose their page for a watch when they
 * are in private writable memory */
bool
FenceHunt::pointer_at(pid_t pid, RemotePtr at, const Breakpoints &breakpoints, bool may_watch, RemotePtr *target)
{
	uint64_t word = 0;
	uint8_t *bytes = reinterpret_cast<uint8_t *>(&word);
	/* protected first: pages the recorder protected are read-only in
	 * the maps too, and may be written again before the epoch ends */
	if (write_protected_ && (*write_protected_)(at) && (*write_protected_)(at + (sizeof(word) - 1))) {
		if (!words_.word(pid, at, &word))
			return false;
	} else if (in_ranges(constant_, at, sizeof(word))) {
		if (!read_code(pid, at, bytes, sizeof(word), breakpoints))
			return false;
	} else {
		constexpr uint64_t PAGE = 4096;
		const uint64_t page = at.as_int() & ~(PAGE - 1);
		for (const WritableRange &range : writable_) {
			/* one page holds all 8 bytes: one page watched */
			if (may_watch && planning_ && planning_->watch.is_null() && at.as_int() >= range.start &&
			    at.as_int() + sizeof(word) <= std::min(range.end, page + PAGE)) {
				planning_->watch = RemotePtr(page);
				planning_->watch_prot = range.prot;
			}
		}
		return false;
	}
	*target = RemotePtr(word);
	return true;
}

void
FenceHunt::learn(pid_t pid, RemotePtr address, InsnInfo info, const Breakpoints &breakpoints)
{
	if (info.length == 0 || info.length > InsnInfo::MAX_LENGTH)
		throw TaskError("instruction length " + std::to_string(info.length) + " at " + hex(address.as_int()));
	/* where the writes go, for Stack::apply; the writes themselves are
	 * the recorder's, not the hunt's */
	constexpr uint8_t RSP = 5; /* Reg: x86 encoding order plus one */
	/* a flush's operand is the line it writes back, which it does not
	 * change: the stack stays as it was (libpmem's loop of clwbs before
	 * its return made the path forget it) */
	if (info.flags & (INSN_CLFLUSH | INSN_CLFLUSHOPT | INSN_CLWB))
		info.writes.clear();
	for (const MemOperand &write : info.writes) {
		const bool stacked = write.kind == MEM_PLAIN && write.base == RSP && write.index == REG_NONE &&
				     write.seg == SEG_NONE && info.rsp_add <= 0;
		if (stacked)
			info.stack_top = std::max(info.stack_top, write.disp + (int64_t)write.size);
		else
			info.wild_write = true;
	}
	if (info.flags & INSN_REP_STRING)
		info.wild_write = true;
	info.writes.clear();
	memset(info.code, 0, sizeof(info.code));
	if (!read_code(pid, address, info.code, info.length, breakpoints)) {
		/* unreadable: a line ends here, and stepping it faults */
		info.flow = FLOW_OTHER;
	}
	info.epoch = epoch_;
	/* a Run may have been made from the decoding it replaces (a known
	 * run or a Decode stop learns again the instructions of its bytes
	 * that are known: 201 times on txmap with 20 inserts, the same) */
	const InsnInfo *was = flows_.find(address);
	if (was && !walks_alike(*was, info))
		drop_runs();
	flows_.insert(address, std::move(info));
}

/* lookup -- the decoding of the instruction at `at`, good in this epoch;
 * null when unknown or rewritten since */
const InsnInfo *
FenceHunt::lookup(pid_t pid, RemotePtr at, const Breakpoints &breakpoints)
{
	InsnInfo *insn = flows_.find(at);
	if (!insn)
		return learn_known(pid, at, breakpoints);
	if (insn->epoch == epoch_)
		return insn;
	uint8_t now[InsnInfo::MAX_LENGTH] = {};
	if (!read_code(pid, at, now, insn->length, breakpoints))
		return nullptr;
	if (memcmp(now, insn->code, insn->length) != 0)
		return learn_known(pid, at, breakpoints);
	insn->epoch = epoch_;
	return insn;
}

void
FenceHunt::know(RemotePtr address, std::vector<uint8_t> bytes, std::vector<InsnInfo> infos)
{
	/* decodings of instructions that start and end in the bytes (the
	 * one of no bytes aside), as a stop's are */
	size_t end = 0;
	for (const InsnInfo &info : infos) {
		if (info.length == 0 || info.length > InsnInfo::MAX_LENGTH)
			throw TaskError("instruction length " + std::to_string(info.length));
		end += info.length;
	}
	if (bytes.size() > AHEAD_BYTES || infos.empty() || end > std::max(bytes.size(), (size_t)1))
		throw TaskError("a known run's decodings do not fit its bytes at " + hex(address.as_int()));
	known_[address.as_int()] = {std::move(bytes), std::move(infos)};
}

/* learn_known -- the known run at `at` learned, when the code there is its
 * bytes (know); null otherwise, and the line asks for a decoding. The
 * comparison reads the pages the line's lookups read in this epoch */
const InsnInfo *
FenceHunt::learn_known(pid_t pid, RemotePtr at, const Breakpoints &breakpoints)
{
	const auto it = known_.find(at.as_int());
	if (it == known_.end())
		return nullptr;
	const KnownRun &run = it->second;
	const size_t len = run.bytes.size();
	std::vector<uint8_t> now(len);
	if (!read_code(pid, at, now.data(), len, breakpoints) || memcmp(now.data(), run.bytes.data(), len) != 0)
		return nullptr;
	uint8_t past = 0;
	if (len < AHEAD_BYTES && read_code(pid, at + len, &past, 1, breakpoints))
		return nullptr;
	RemotePtr address = at;
	for (const InsnInfo &info : run.infos) {
		learn(pid, address, info, breakpoints);
		address = address + info.length;
	}
	return flows_.find(at);
}

bool
FenceHunt::read_code(pid_t pid, RemotePtr at, uint8_t *out, size_t len, const Breakpoints &breakpoints)
{
	constexpr uint64_t PAGE = 4096;
	for (size_t done = 0; done < len;) {
		const uint64_t addr = at.as_int() + done;
		const uint64_t page = addr & ~(PAGE - 1);
		done += (size_t)(PAGE - (addr - page));
		if (pages_.count(page))
			continue;
		std::vector<uint8_t> bytes(PAGE);
		bytes.resize(read_tracee(pid, RemotePtr(page), bytes.data(), PAGE));
		breakpoints.show_original(RemotePtr(page), bytes.data(), bytes.size());
		pages_.emplace(page, std::move(bytes));
	}
	return copy_pages(at, out, len);
}

bool
FenceHunt::copy_pages(RemotePtr at, uint8_t *out, size_t len) const
{
	constexpr uint64_t PAGE = 4096;
	for (size_t done = 0; done < len;) {
		const uint64_t addr = at.as_int() + done;
		const uint64_t page = addr & ~(PAGE - 1);
		const auto it = pages_.find(page);
		const size_t from = (size_t)(addr - page);
		const size_t take = std::min(len - done, (size_t)PAGE - from);
		if (it == pages_.end() || from + take > it->second.size())
			return false;
		memcpy(out + done, it->second.data() + from, take);
		done += take;
	}
	return true;
}

bool
FenceHunt::code_bytes(pid_t pid, RemotePtr addr, size_t len, const Breakpoints &breakpoints, uint8_t *out)
{
	return read_code(pid, addr, out, len, breakpoints);
}

bool
FenceHunt::cached_code(RemotePtr at, uint8_t *out, size_t len) const
{
	return !maps_stale_ && safe_code(at, len) && copy_pages(at, out, len);
}

/* same_frames -- the same rsp and the same calls not returned from */
bool
FenceHunt::Stack::same_frames(const Stack &other) const
{
	if (delta != other.delta || calls != other.calls)
		return false;
	for (size_t i = 0; i < calls; i++) {
		if (call[i].slot != other.call[i].slot || call[i].back != other.call[i].back)
			return false;
	}
	return true;
}

bool
FenceHunt::Stack::covers(const Stack &other) const
{
	if (lost)
		return true;
	if (other.lost || !same_frames(other) || other.top > top)
		return false;
	for (size_t i = 0; i < calls; i++) {
		if (other.call[i].top > call[i].top)
			return false;
	}
	return true;
}

void
FenceHunt::Stack::meet(const Stack &other)
{
	if (lost || other.lost || !same_frames(other)) {
		lost = true;
		return;
	}
	top = std::max(top, other.top);
	for (size_t i = 0; i < calls; i++)
		call[i].top = std::max(call[i].top, other.call[i].top);
}

void
FenceHunt::Stack::apply(const InsnInfo &insn)
{
	if (lost)
		return;
	if (insn.wild_write || (insn.flags & INSN_RSP_OTHER)) {
		lost = true;
		return;
	}
	wrote(insn.stack_top);
	delta += insn.rsp_add;
}

void
FenceHunt::Stack::wrote(int64_t end)
{
	if (end == InsnInfo::NO_STACK_WRITE)
		return;
	top = std::max(top, delta + end);
	for (size_t i = 0; i < calls; i++)
		call[i].top = std::max(call[i].top, delta + end);
}

void
FenceHunt::Stack::called(uint64_t back)
{
	if (lost)
		return;
	if (calls == CALLS) {
		lost = true;
		return;
	}
	call[calls++] = {delta, back, InsnInfo::NO_STACK_WRITE};
}

void
FenceHunt::Stack::then(const Stack &run)
{
	if (lost)
		return;
	/* a call pushed past CALLS loses the path, as called() does */
	if (run.lost || calls + run.calls > CALLS) {
		lost = true;
		return;
	}
	wrote(run.top);
	for (size_t i = 0; i < run.calls; i++) {
		const Call &pushed = run.call[i];
		call[calls++] = {delta + pushed.slot, pushed.back,
				 pushed.top == InsnInfo::NO_STACK_WRITE ? pushed.top : delta + pushed.top};
	}
	delta += run.delta;
}

/* stack_return -- where the return the path stands at goes, when its
 * Stack proves it: to what a call on the path pushed to the slot, or, at
 * the depth of rip, to what the slot holds now; either way no write of
 * the path since may have reached the slot (their highest end is at or
 * below it). Only the tracee's thread writes its stack between two stops
 * (a signal or a system call stops it first, and every stop plans again
 * from rip); a slot below rsp at rip is not the program's yet */
bool
FenceHunt::stack_return(pid_t pid, Stack *stack, RemotePtr *target)
{
	if (stack->lost)
		return false;
	const int64_t slot = stack->delta;
	if (stack->calls > 0) {
		const Stack::Call &call = stack->call[stack->calls - 1];
		if (call.slot != slot || call.top > slot)
			return false;
		*target = RemotePtr(call.back);
		stack->calls--;
		return true;
	}
	if (slot < 0 || stack->top > slot)
		return false;
	uint64_t word = 0;
	if (!words_.word(pid, RemotePtr(rsp_ + (uint64_t)slot), &word))
		return false;
	*target = RemotePtr(word);
	return true;
}

/* walk -- the line from start; here: the registers when start is rip;
 * stack: what the path knows of the stack at start, then at the end */
FenceHunt::Line
FenceHunt::walk(pid_t pid, RemotePtr start, const Breakpoints &breakpoints, const Registers *here, Stack *stack)
{
	RemotePtr at = start;
	bool from_regs = false, relied = false;
	/* the Run being walked, kept where it ends (runs_) */
	RemotePtr run_from;
	Run run;
	uint64_t run_dropped = runs_dropped_;
	const auto keep_run = [this, &run_from, &run, &run_dropped, &at]() {
		if (run.count == 0)
			return;
		run.end = at;
		if (run_dropped == runs_dropped_)
			runs_[run_from.as_int()] = run;
		run = Run();
	};
	for (size_t n = 0; n < MAX_LINE; n++) {
		if (run.count == 0) {
			/* a Run known from here: its instructions are straight,
			 * the instruction after it is walked as before */
			const auto known = runs_.find(at.as_int());
			if (known != runs_.end() && n + known->second.count < MAX_LINE) {
				plan_writes_ |= known->second.gpr_writes;
				stack->then(known->second.effect);
				at = known->second.end;
				n += known->second.count;
			}
		}
		if (!safe_code(at, 1)) {
			keep_run();
			return {Line::End::Unsafe, at, {}, from_regs, relied};
		}
		const InsnInfo *insn = lookup(pid, at, breakpoints);
		if (!insn) {
			keep_run();
			return {Line::End::Decode, at, {}, from_regs, relied};
		}
		plan_writes_ |= insn->gpr_writes;
		/* straight: none of the ways on below but its fall-through,
		 * direct jump or direct call applies */
		const bool straight = (insn->flow == FLOW_NEXT || insn->flow == FLOW_JUMP || insn->flow == FLOW_CALL) &&
				      !must_step(*insn) && safe_code(at, insn->length);
		if (straight) {
			if (run.count == 0) {
				run_from = at;
				run_dropped = runs_dropped_;
			}
			run.count++;
			run.gpr_writes |= insn->gpr_writes;
			run.effect.apply(*insn);
			stack->apply(*insn);
			const RemotePtr next = at + insn->length;
			if (insn->flow == FLOW_CALL) {
				run.effect.called(next.as_int());
				stack->called(next.as_int());
			}
			at = insn->flow == FLOW_NEXT ? next : RemotePtr(insn->target);
			continue;
		}
		keep_run();
		const bool plain = !(insn->flags & (INSN_FENCE | INSN_LOCKED | INSN_SYSCALL | INSN_UNSUPPORTED));
		const bool resolvable =
			here && n == 0 && (insn->flow == FLOW_RETURN || insn->flow == FLOW_INDIRECT) && plain;
		RemotePtr constant;
		const bool fixed = plain && constant_target(pid, *insn, breakpoints, &constant);
		/* one further on, through registers the plan does not write */
		RemotePtr through;
		const bool registered =
			plain && !resolvable && !fixed && register_target(pid, *insn, breakpoints, &through);
		/* a return further on, where the path's stack says */
		RemotePtr back;
		Stack after = *stack;
		const bool returns = follow_ && plain && !resolvable && insn->flow == FLOW_RETURN &&
				     safe_code(at, insn->length) && stack_return(pid, &after, &back);
		if (!safe_code(at, insn->length) ||
		    (must_step(*insn) && !resolvable && !fixed && !registered && !returns))
			return {Line::End::Stop, at, {}, from_regs, relied};
		const RemotePtr next = at + insn->length;
		if (returns) {
			*stack = after;
			stack->apply(*insn);
			at = back;
			relied = true;
			continue;
		}
		stack->apply(*insn);
		/* a call pushes where it comes back to */
		if (insn->flow == FLOW_CALL ||
		    ((fixed || resolvable || registered) && insn->flow == FLOW_INDIRECT && insn->rsp_add < 0))
			stack->called(next.as_int());
		if (fixed) {
			at = constant;
			continue;
		}
		if (registered) {
			at = through;
			continue;
		}
		if (resolvable) {
			if (!target_now(pid, *insn, *here, &words_, &at))
				return {Line::End::Stop, start, {}, true, relied};
			from_regs = true;
			continue;
		}
		switch (insn->flow) {
		case FLOW_NEXT:
			at = next;
			break;
		case FLOW_JUMP:
		case FLOW_CALL:
			at = RemotePtr(insn->target);
			break;
		case FLOW_BRANCH:
			return {Line::End::Branch, at, {RemotePtr(insn->target), next}, from_regs, relied};
		default:
			return {Line::End::Stop, at, {}, from_regs, relied};
		}
	}
	return {Line::End::Stop, at, {}, from_regs, relied};
}

FenceHunt::Plan
FenceHunt::plan(pid_t pid, const Registers &regs, const Breakpoints &breakpoints, const WriteProtected &write_protected)
{
	/* the tracee ran or was changed since the last plan; not again
	 * within this one, remade or not (plan_all) */
	words_.forget(regs.sp().as_int());
	return plan_all(pid, regs, breakpoints, write_protected);
}

FenceHunt::Plan
FenceHunt::plan_all(pid_t pid, const Registers &regs, const Breakpoints &breakpoints,
		    const WriteProtected &write_protected)
{
	/* a plan that followed a branch through a register one of its
	 * lines writes (the path to the branch may run that line) is made
	 * again without following through it: at most once a register */
	banned_ = 0;
	for (;;) {
		plan_writes_ = 0;
		plan_relies_ = 0;
		const Plan plan = plan_once(pid, regs, breakpoints, write_protected);
		const uint32_t clash = plan_writes_ & plan_relies_;
		if (!clash)
			return plan;
		banned_ |= clash;
	}
}

FenceHunt::Plan
FenceHunt::plan_once(pid_t pid, const Registers &regs, const Breakpoints &breakpoints,
		     const WriteProtected &write_protected)
{
	Plan plan;
	if (maps_stale_) {
		/* Runs stand on the pages and the safe code they were made
		 * from (read_maps only drops pages) */
		const size_t pages = pages_.size();
		const auto safe = safe_;
		read_maps(pid);
		if (pages_.size() != pages || safe_ != safe)
			drop_runs();
	}
	/* for constant_target while this plan is made */
	struct Planning {
		FenceHunt *hunt;
		Planning(FenceHunt *h, const WriteProtected *write_protected, Plan *plan) : hunt(h)
		{
			hunt->write_protected_ = write_protected;
			hunt->planning_ = plan;
		}
		~Planning()
		{
			hunt->write_protected_ = nullptr;
			hunt->planning_ = nullptr;
			hunt->regs_ = nullptr;
		}
	} planning(this, &write_protected, &plan);
	const RemotePtr rip = regs.ip();
	rsp_ = regs.sp().as_int();
	regs_ = &regs;
	Stack stack;
	const Line first = walk(pid, rip, breakpoints, &regs, &stack);
	switch (first.end) {
	case Line::End::Decode:
		plan.kind = Plan::Kind::Decode;
		plan.at = first.at;
		return plan;
	case Line::End::Unsafe:
		plan.kind = Plan::Kind::Step;
		return plan;
	case Line::End::Stop:
		if (first.at == rip) {
			plan.kind = Plan::Kind::Step;
			return plan;
		}
		break;
	case Line::End::Branch:
		break;
	}
	/* the frontier: where the tracee may go next, each either the start
	 * of a line not walked yet or an instruction to stop at */
	struct Node {
		RemotePtr addr;
		bool open;
		Stack stack; /* of the path that reaches it */
	};
	std::vector<Node> frontier;
	/* line starts walked, and whether every way out of each is a node
	 * (closed): a node there needs no int3, the tracee goes on along
	 * the line to the nodes that close it (a loop back into code of
	 * this plan stopped it once an iteration: 1,080 of 5,660 stops
	 * on txmap with 20 inserts) */
	struct Walked {
		RemotePtr first;
		bool second;  /* closed */
		Stack stack;  /* it was walked with */
		size_t walks; /* again */
	};
	std::vector<Walked> walked;
	/* once a line of the plan followed a return where its path's Stack
	 * said (relied), the lines after it were walked with what that path
	 * knew: a line start some path reaches with another Stack
	 * (mismatched) gets an int3, so that the tracee runs every line of
	 * the plan knowing no less than it was walked with (Stack::covers:
	 * a walk that knows less follows fewer returns) */
	bool relied = first.relied;
	std::vector<RemotePtr> mismatched;
	/* the line from rip closes only if it did not start where the
	 * registers said (a return at rip goes elsewhere the next time) */
	walked.push_back({rip, !first.from_regs, Stack(), 0});
	auto walked_at = [&walked](RemotePtr addr) -> Walked * {
		for (auto &line : walked) {
			if (line.first == addr)
				return &line;
		}
		return nullptr;
	};
	/* a node not walked yet that another path reaches too is walked
	 * knowing what both know (Stack::meet) */
	auto add = [&frontier, &walked_at](RemotePtr addr, bool open, const Stack &stack) {
		const Walked *line = walked_at(addr);
		const bool again = line && !line->stack.covers(stack);
		for (Node &node : frontier) {
			if (node.addr == addr && node.open) {
				node.stack.meet(stack);
				return;
			}
			if (node.addr == addr && !again)
				return;
		}
		/* a walked line this path knows less at: walked again */
		frontier.push_back({addr, open || again, stack});
	};
	if (first.end == Line::End::Stop) {
		add(first.at, false, stack);
	} else {
		add(first.succ[0], true, stack);
		add(first.succ[1], true, stack);
	}
	/* pass after pass over the frontier: a branch's fall-through,
	 * added, is walked in this pass, its taken successor (the node
	 * moved there) in the next, so the frontier grows along every path
	 * a branch at a time (following one path branch after branch
	 * before the others filled it along that path: 1,643 stops against
	 * 1,560 on txmap with 20 inserts) */
	for (bool moved = true; moved;) {
		moved = false;
		for (size_t i = 0; i < frontier.size(); i++) {
			if (!frontier[i].open)
				continue;
			frontier[i].open = false;
			const RemotePtr from = frontier[i].addr;
			Stack out = frontier[i].stack;
			if (Walked *line = walked_at(from)) {
				if (line->stack.covers(out))
					continue;
				/* walked again knowing what both paths know, a few
				 * times at most (a loop whose body writes the stack
				 * higher each time around) */
				if (line->walks == REWALKS || line->first == rip) {
					mismatched.push_back(from);
					continue;
				}
				out.meet(line->stack);
				line->stack = out;
				line->walks++;
				line->second = false;
			} else {
				walked.push_back({from, false, out, 0});
			}
			const Line line = walk(pid, from, breakpoints, nullptr, &out);
			relied = relied || line.relied;
			switch (line.end) {
			case Line::End::Decode:
				plan.kind = Plan::Kind::Decode;
				plan.at = line.at;
				return plan;
			case Line::End::Unsafe:
				/* no int3 goes where the program may write */
				plan.kind = Plan::Kind::Step;
				return plan;
			case Line::End::Stop:
				/* closed by the node at its end, unless that node
				 * is its start (a fence reached by a jump) */
				frontier[i].addr = line.at;
				walked_at(from)->second = line.at != from;
				break;
			case Line::End::Branch:
				/* one more breakpoint: this one moves to the taken
				 * branch, the fall-through is added */
				if (frontier.size() < FRONTIER) {
					frontier[i].addr = line.succ[0];
					frontier[i].open = true;
					frontier[i].stack = out;
					walked_at(from)->second = true;
					add(line.succ[1], true, out);
					moved = true;
				}
				break;
			}
		}
	}
	/* two nodes may have moved to one address; a node at the start of a
	 * closed line is none; a node at rip (a loop back to a return
	 * there) would stop the tracee before it ran anything */
	for (size_t i = 0; relied && i < mismatched.size(); i++) {
		if (Walked *line = walked_at(mismatched[i]))
			line->second = false;
	}
	/* the plan of old, which stops at returns: when a path that
	 * followed them came back to rip (a step there, not a run), or
	 * more nodes need an int3 than a plan has */
	auto again = [&]() {
		follow_ = false;
		struct Restore {
			FenceHunt *hunt;
			~Restore() { hunt->follow_ = true; }
		} restore{this};
		return this->plan_all(pid, regs, breakpoints, write_protected);
	};
	plan.kind = Plan::Kind::Run;
	for (const Node &node : frontier) {
		const auto *line = walked_at(node.addr);
		if (line && line->second)
			continue;
		if (node.addr == rip && follow_)
			return again();
		if (node.addr == rip) {
			plan.kind = Plan::Kind::Step;
			plan.count = 0;
			return plan;
		}
		bool seen = false;
		for (size_t j = 0; j < plan.count; j++)
			seen = seen || plan.addrs[j] == node.addr;
		if (!seen && plan.count == FRONTIER && follow_)
			return again();
		if (!seen && plan.count < FRONTIER)
			plan.addrs[plan.count++] = node.addr;
	}
	return plan;
}

} /* namespace pmfit */
