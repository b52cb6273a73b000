/*
 * fence_hunt.cc -- FenceHunt: straight lines of decoded code from the
 * tracee's rip to the breakpoints of the next stop
 */
#include "fence_hunt.h"

#include <sys/mman.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "error.h"
#include "tracee_memory.h"

namespace pmfit {

namespace {

/* MAX_LINE -- instructions of one straight line (a loop of direct jumps
 * ends somewhere) */
constexpr size_t MAX_LINE = 512;

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
target_now(pid_t pid, const InsnInfo &insn, const Registers &regs, RemotePtr *target)
{
	if (insn.flow == FLOW_INDIRECT && insn.via_reg != REG_NONE) {
		*target = RemotePtr(regs.value(insn.via_reg));
		return true;
	}
	const RemotePtr from = insn.flow == FLOW_RETURN ? regs.sp() : regs.effective_address(insn.via);
	uint64_t word = 0;
	if (read_tracee(pid, from, reinterpret_cast<uint8_t *>(&word), sizeof(word)) < sizeof(word))
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

} /* namespace */

void
FenceHunt::read_maps(pid_t pid)
{
	safe_.clear();
	constant_.clear();
	writable_.clear();
	const std::string path = "/proc/" + std::to_string(pid) + "/maps";
	FILE *f = fopen(path.c_str(), "re");
	if (!f)
		throw TaskError(syserr("open " + path, errno));
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end;
		char perms[8] = {0};
		int name = 0;
		const bool parsed =
			sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %*s %*s %*s %n", &start, &end, perms, &name) >= 3;
		/* the kernel's own pages ([vvar] changes under the program,
		 * [stack] and [heap] are written all the time) */
		const bool own = name > 0 && line[name] == '[';
		/* not shared either: an int3 written there would reach the
		 * file, and another mapping of it may rewrite the code */
		if (parsed && perms[1] != 'w' && perms[3] != 's') {
			if (perms[2] == 'x')
				add_range(&safe_, start, end);
			/* what the program reads and cannot write (a RELRO
			 * GOT): a jump through it goes where it says until an
			 * mprotect, a system call */
			if (perms[0] == 'r' && name > 0 && !own)
				add_range(&constant_, start, end);
		} else if (parsed && perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p' && !own) {
			/* a library's .data or .bss, an anonymous mapping: a
			 * pointer there is followed while its page is watched */
			writable_.push_back({start, end, PROT_READ | PROT_WRITE | (perms[2] == 'x' ? PROT_EXEC : 0)});
		}
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
	}
	fclose(f);
	maps_stale_ = false;
}

bool
FenceHunt::safe_code(RemotePtr at, uint64_t len)
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
	const RemotePtr at((uint64_t)via.disp);
	uint64_t word = 0;
	uint8_t *bytes = reinterpret_cast<uint8_t *>(&word);
	/* protected first: pages the recorder protected are read-only in
	 * the maps too, and may be written again before the epoch ends */
	if (write_protected_ && (*write_protected_)(at) && (*write_protected_)(at + (sizeof(word) - 1))) {
		if (read_tracee(pid, at, bytes, sizeof(word)) < sizeof(word))
			return false;
	} else if (in_ranges(constant_, at, sizeof(word))) {
		if (!read_code(pid, at, bytes, sizeof(word), breakpoints))
			return false;
	} else {
		constexpr uint64_t PAGE = 4096;
		const uint64_t page = at.as_int() & ~(PAGE - 1);
		for (const WritableRange &range : writable_) {
			/* one page holds all 8 bytes: one page watched */
			if (planning_ && planning_->watch.is_null() && at.as_int() >= range.start &&
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
	info.writes.clear();
	memset(info.code, 0, sizeof(info.code));
	if (!read_code(pid, address, info.code, info.length, breakpoints)) {
		/* unreadable: a line ends here, and stepping it faults */
		info.flow = FLOW_OTHER;
	}
	info.epoch = epoch_;
	flows_.insert(address, std::move(info));
}

/* lookup -- the decoding of the instruction at `at`, good in this epoch;
 * null when unknown or rewritten since */
const InsnInfo *
FenceHunt::lookup(pid_t pid, RemotePtr at, const Breakpoints &breakpoints)
{
	InsnInfo *insn = flows_.find(at);
	if (!insn || insn->epoch == epoch_)
		return insn;
	uint8_t now[InsnInfo::MAX_LENGTH] = {};
	if (!read_code(pid, at, now, insn->length, breakpoints))
		return nullptr;
	if (memcmp(now, insn->code, insn->length) != 0)
		return nullptr;
	insn->epoch = epoch_;
	return insn;
}

bool
FenceHunt::read_code(pid_t pid, RemotePtr at, uint8_t *out, size_t len, const Breakpoints &breakpoints)
{
	constexpr uint64_t PAGE = 4096;
	for (size_t done = 0; done < len;) {
		const uint64_t addr = at.as_int() + done;
		const uint64_t page = addr & ~(PAGE - 1);
		auto it = pages_.find(page);
		if (it == pages_.end()) {
			std::vector<uint8_t> bytes(PAGE);
			bytes.resize(read_tracee(pid, RemotePtr(page), bytes.data(), PAGE));
			breakpoints.show_original(RemotePtr(page), bytes.data(), bytes.size());
			it = pages_.emplace(page, std::move(bytes)).first;
		}
		const size_t from = (size_t)(addr - page);
		const size_t take = std::min(len - done, (size_t)PAGE - from);
		if (from + take > it->second.size())
			return false;
		memcpy(out + done, it->second.data() + from, take);
		done += take;
	}
	return true;
}

bool
FenceHunt::code_byte(pid_t pid, RemotePtr addr, const Breakpoints &breakpoints, uint8_t *byte)
{
	return read_code(pid, addr, byte, 1, breakpoints);
}

/* walk -- the line from start; here: the registers when start is rip */
FenceHunt::Line
FenceHunt::walk(pid_t pid, RemotePtr start, const Breakpoints &breakpoints, const Registers *here)
{
	RemotePtr at = start;
	bool from_regs = false;
	for (size_t n = 0; n < MAX_LINE; n++) {
		if (!safe_code(at, 1))
			return {Line::End::Unsafe, at, {}, from_regs};
		const InsnInfo *insn = lookup(pid, at, breakpoints);
		if (!insn)
			return {Line::End::Decode, at, {}, from_regs};
		const bool plain = !(insn->flags & (INSN_FENCE | INSN_LOCKED | INSN_SYSCALL | INSN_UNSUPPORTED));
		const bool resolvable =
			here && n == 0 && (insn->flow == FLOW_RETURN || insn->flow == FLOW_INDIRECT) && plain;
		RemotePtr constant;
		const bool fixed = plain && constant_target(pid, *insn, breakpoints, &constant);
		if (!safe_code(at, insn->length) || (must_step(*insn) && !resolvable && !fixed))
			return {Line::End::Stop, at, {}, from_regs};
		if (fixed) {
			at = constant;
			continue;
		}
		if (resolvable) {
			if (!target_now(pid, *insn, *here, &at))
				return {Line::End::Stop, start, {}, true};
			from_regs = true;
			continue;
		}
		switch (insn->flow) {
		case FLOW_NEXT:
			at = at + insn->length;
			break;
		case FLOW_JUMP:
		case FLOW_CALL:
			at = RemotePtr(insn->target);
			break;
		case FLOW_BRANCH:
			return {Line::End::Branch, at, {RemotePtr(insn->target), at + insn->length}, from_regs};
		default:
			return {Line::End::Stop, at, {}, from_regs};
		}
	}
	return {Line::End::Stop, at, {}, from_regs};
}

FenceHunt::Plan
FenceHunt::plan(pid_t pid, const Registers &regs, const Breakpoints &breakpoints, const WriteProtected &write_protected)
{
	Plan plan;
	if (maps_stale_)
		read_maps(pid);
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
		}
	} planning(this, &write_protected, &plan);
	const RemotePtr rip = regs.ip();
	const Line first = walk(pid, rip, breakpoints, &regs);
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
	};
	std::vector<Node> frontier;
	/* line starts walked, and whether every way out of each is a node
	 * (closed): a node there needs no int3, the tracee goes on along
	 * the line to the nodes that close it (a loop back into code of
	 * this plan stopped it once an iteration: 1,080 of 5,660 stops
	 * on txmap with 20 inserts) */
	std::vector<std::pair<RemotePtr, bool>> walked;
	/* the line from rip closes only if it did not start where the
	 * registers said (a return at rip goes elsewhere the next time) */
	walked.push_back({rip, !first.from_regs});
	auto add = [&frontier](RemotePtr addr, bool open) {
		for (const Node &node : frontier) {
			if (node.addr == addr)
				return;
		}
		frontier.push_back({addr, open});
	};
	auto walked_at = [&walked](RemotePtr addr) -> std::pair<RemotePtr, bool> * {
		for (auto &line : walked) {
			if (line.first == addr)
				return &line;
		}
		return nullptr;
	};
	if (first.end == Line::End::Stop) {
		add(first.at, false);
	} else {
		add(first.succ[0], true);
		add(first.succ[1], true);
	}
	for (size_t i = 0; i < frontier.size(); i++) {
		if (!frontier[i].open)
			continue;
		frontier[i].open = false;
		const RemotePtr from = frontier[i].addr;
		if (walked_at(from))
			continue;
		walked.push_back({from, false});
		const Line line = walk(pid, from, breakpoints, nullptr);
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
				add(line.succ[1], true);
				walked_at(from)->second = true;
				i = (size_t)-1; /* from the start: the moved node again */
			}
			break;
		}
	}
	/* two nodes may have moved to one address; a node at the start of a
	 * closed line is none; a node at rip (a loop back to a return
	 * there) would stop the tracee before it ran anything */
	plan.kind = Plan::Kind::Run;
	for (const Node &node : frontier) {
		const auto *line = walked_at(node.addr);
		if (line && line->second)
			continue;
		if (node.addr == rip) {
			plan.kind = Plan::Kind::Step;
			plan.count = 0;
			return plan;
		}
		bool seen = false;
		for (size_t j = 0; j < plan.count; j++)
			seen = seen || plan.addrs[j] == node.addr;
		if (!seen && plan.count < FRONTIER)
			plan.addrs[plan.count++] = node.addr;
	}
	return plan;
}

} /* namespace pmfit */
