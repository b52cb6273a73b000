/*
 * breakpoints.cc -- Breakpoints: int3 in and out of the tracee's code
 */
#include "breakpoints.h"

#include <algorithm>

#include "error.h"
#include "tracee_memory.h"

namespace pmfit {

namespace {

constexpr uint8_t INT3 = 0xCC;

} /* namespace */

const Breakpoints::Breakpoint *
Breakpoints::find(RemotePtr addr) const
{
	for (const Breakpoint &bp : breakpoints_) {
		if (bp.addr == addr)
			return &bp;
	}
	return nullptr;
}

void
Breakpoints::install_all(pid_t pid)
{
	for (Breakpoint &bp : breakpoints_) {
		if (!bp.installed) {
			poke_byte(pid, bp.addr, INT3, &bp.orig);
			bp.installed = true;
		}
	}
}

void
Breakpoints::remove_all(pid_t pid)
{
	for (Breakpoint &bp : breakpoints_) {
		if (bp.installed) {
			poke_byte(pid, bp.addr, bp.orig, nullptr);
			bp.installed = false;
		}
	}
}

void
Breakpoints::remove_from_child(pid_t child) const
{
	for (const Breakpoint &bp : breakpoints_) {
		if (!bp.installed)
			continue;
		try {
			poke_byte(child, bp.addr, bp.orig, nullptr);
		} catch (const TaskError &) {
			/* unmapped in the child: nothing to hit there */
		}
	}
}

void
Breakpoints::show_original(RemotePtr address, uint8_t *bytes, size_t length) const
{
	for (const Breakpoint &bp : breakpoints_) {
		if (bp.installed && bp.addr >= address && bp.addr - address < length)
			bytes[bp.addr - address] = bp.orig;
	}
}

void
Breakpoints::set(pid_t pid, BreakpointKind kind, const std::vector<RemotePtr> &addresses)
{
	for (RemotePtr addr : addresses) {
		const Breakpoint *bp = find(addr);
		if (bp && bp->kind != kind)
			throw TaskError("breakpoint at " + hex(addr.as_int()) + " has another role");
	}
	for (Breakpoint &bp : breakpoints_) {
		if (bp.kind == kind && bp.installed) {
			poke_byte(pid, bp.addr, bp.orig, nullptr);
			bp.installed = false;
		}
	}
	breakpoints_.erase(std::remove_if(breakpoints_.begin(), breakpoints_.end(),
					  [kind](const Breakpoint &bp) { return bp.kind == kind; }),
			   breakpoints_.end());
	for (RemotePtr addr : addresses) {
		if (!find(addr))
			breakpoints_.push_back({addr, kind, 0, false});
	}
	end_addrs_.clear();
	for (const Breakpoint &bp : breakpoints_) {
		if (bp.kind == BreakpointKind::RegionEnd)
			end_addrs_.push_back(bp.addr);
	}
}

} /* namespace pmfit */
