/*
 * breakpoints.h -- the int3 breakpoints of a tracee's code (rr's
 * AddressSpace breakpoint table): region markers and the traced function
 *
 * Outside a region they are in memory and the tracee runs at full speed;
 * inside one they are all out and the stepping loop compares rip with the
 * region ends itself.
 */
#ifndef PMFIT_BREAKPOINTS_H
#define PMFIT_BREAKPOINTS_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "remote_ptr.h"

namespace pmfit {

/* BreakpointKind -- native.ts BreakpointKind */
enum class BreakpointKind : uint8_t {
	RegionBegin = 0,
	RegionEnd = 1,
	Function = 2,
};

class Breakpoints {
public:
	struct Breakpoint {
		RemotePtr addr;
		BreakpointKind kind;
		uint8_t orig;
		bool installed;
	};

	/* set -- the breakpoints of one kind become addresses; those of that
	 * kind in memory are taken out first. Throws TaskError when an
	 * address already has another kind. */
	void set(pid_t pid, BreakpointKind kind, const std::vector<RemotePtr> &addresses);

	/* find -- the breakpoint at addr, or nullptr */
	const Breakpoint *find(RemotePtr addr) const;
	void install_all(pid_t pid);
	void remove_all(pid_t pid);
	/* remove_from_child -- a forked child has our int3s in its copy of
	 * the code; failures are ignored (unmapped there: nothing to hit) */
	void remove_from_child(pid_t child) const;
	/* show_original -- bytes read at address, with our int3s replaced by
	 * the code they hide */
	void show_original(RemotePtr address, uint8_t *bytes, size_t length) const;

	/* is_region_end -- whether ip is a RegionEnd address (every step of
	 * a region asks, so a flat array) */
	bool
	is_region_end(RemotePtr ip) const
	{
		for (RemotePtr addr : end_addrs_) {
			if (ip == addr)
				return true;
		}
		return false;
	}

private:
	std::vector<Breakpoint> breakpoints_;
	std::vector<RemotePtr> end_addrs_; /* RegionEnd entries */
};

} /* namespace pmfit */

#endif /* PMFIT_BREAKPOINTS_H */
