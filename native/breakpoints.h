/*
 * breakpoints.h -- the int3 breakpoints of a tracee's code (rr's
 * AddressSpace breakpoint table): region markers, the traced function, and
 * the fast recorder's flush traps
 *
 * Markers are in memory outside a region, where the tracee runs at full
 * speed; inside one the stepping loop compares rip with the region ends
 * itself, and they are out, but in a fast region (fast_region.cc), whose
 * page windows keep them in.
 *
 * Flush traps sit on every clflush, clflushopt and clwb of the executable
 * code, at instruction starts JavaScript proved (harness/elf/flush-sites.ts),
 * so that the fast recorder sees every flush without making the pages of
 * unflushed PM lines inaccessible (docs/recording.md, "Flush traps"). They
 * are in memory only during a fast region, put in and taken out a page run
 * at a time through /proc/PID/mem: a library has hundreds of them.
 *
 * The fence hunt's frontier (fence_hunt.h) is int3s at the instruction
 * starts a fast region may reach next while a flush waits for its fence,
 * in until the fence is found.
 *
 * A single step whose instruction is under an int3 of any kind lifts that
 * one first (Task::request_step); the next install puts it back.
 */
#ifndef PMFIT_BREAKPOINTS_H
#define PMFIT_BREAKPOINTS_H

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "remote_ptr.h"

namespace pmfit {

/* BreakpointKind -- native.ts BreakpointKind */
enum class BreakpointKind : uint8_t {
	RegionBegin = 0,
	RegionEnd = 1,
	Function = 2,
	Flush = 3,
	Frontier = 4, /* the fence hunt's (fence_hunt.h); not set from JavaScript */
};

class Breakpoints {
public:
	Breakpoints() = default;
	~Breakpoints();
	Breakpoints(const Breakpoints &) = delete;
	Breakpoints &operator=(const Breakpoints &) = delete;

	/* MAX_FRONTIER -- most int3s of the fence hunt in memory at once */
	static constexpr size_t MAX_FRONTIER = 64;

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
	/* markers: the region and function entries */
	void install_markers(pid_t pid);
	void remove_markers(pid_t pid);
	/* install_traps -- every flush trap into memory (all at once, or
	 * those lifted since). False when the byte under a trap is not the
	 * one it covered when it first went in: the code was rewritten, its
	 * flush sites are stale (then remove_traps) */
	bool install_traps(pid_t pid);
	void remove_traps(pid_t pid);
	bool
	has_traps() const
	{
		return !traps_.empty();
	}
	/* CodeBytes -- the program's bytes at [at, at + len) now, int3s of
	 * ours shown as what they cover; false where unreadable */
	using CodeBytes = std::function<bool(pid_t pid, RemotePtr at, uint8_t *out, size_t len)>;
	/* set_code_bytes -- where the frontier's writes find the bytes
	 * between two of its changes on a page (FenceHunt::code_bytes: the
	 * frontier is only in code the program cannot write, which changes
	 * only by a system call, and so read once per page between two) */
	void
	set_code_bytes(CodeBytes code_bytes)
	{
		code_bytes_ = std::move(code_bytes);
	}
	/* add_frontier -- int3s at addrs[0..count), over the bytes code[i]
	 * the program has there, but where one of ours is already and at
	 * `stand`, where the tracee is about to run from (a node of an
	 * earlier plan there goes out); the nodes of earlier plans stay
	 * (each is an instruction start the tracee may still reach), at
	 * most MAX_FRONTIER in all */
	void add_frontier(pid_t pid, const RemotePtr *addrs, const uint8_t *code, size_t count, RemotePtr stand);
	/* lift_frontier -- the node at addr out (the tracee stopped there, or
	 * is about to run from there) */
	void lift_frontier(pid_t pid, RemotePtr addr);
	void clear_frontier(pid_t pid);
	bool
	has_frontier() const
	{
		return !frontier_.empty();
	}
	/* covers -- an int3 of ours is in memory in [addr, addr + length) */
	bool covers(RemotePtr addr, size_t length) const;
	/* frontier_at -- addr holds an int3 of the frontier in memory */
	bool frontier_at(RemotePtr addr) const;
	/* remove_all -- markers, traps and frontier */
	void remove_all(pid_t pid);
	/* lift -- the breakpoint at addr, if in memory, out until the next
	 * install, so that a single step runs the instruction under it */
	void lift(pid_t pid, RemotePtr addr);
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
	/* for_each_installed -- fn on each of ours in memory in
	 * [address, address + length) */
	template <typename Fn>
	void
	for_each_installed(RemotePtr address, size_t length, Fn fn) const
	{
		for (const std::vector<Breakpoint> *table : {&markers_, &frontier_}) {
			for (const Breakpoint &bp : *table) {
				if (bp.installed && bp.addr >= address && bp.addr - address < length)
					fn(bp);
			}
		}
		auto it = std::lower_bound(traps_.begin(), traps_.end(), address,
					   [](const Breakpoint &bp, RemotePtr a) { return bp.addr < a; });
		for (; it != traps_.end() && it->addr - address < length; ++it) {
			if (it->installed)
				fn(*it);
		}
	}
	Breakpoint *find_trap(RemotePtr addr);
	/* write_traps -- every trap in (int3) or out (its byte), one read
	 * and one write per run of pages */
	bool write_traps(pid_t pid, bool in);
	/* rewrite_frontier -- the frontier becomes next (every node in
	 * memory): only the bytes that change are written, one write per
	 * page where several do */
	void rewrite_frontier(pid_t pid, std::vector<Breakpoint> next);

	std::vector<Breakpoint> markers_;
	std::vector<Breakpoint> traps_; /* Flush, sorted by address */
	bool traps_seen_ = false;	/* traps_' orig bytes are those first covered */
	bool traps_in_ = false;		/* written in, but for lifted_ */
	std::vector<RemotePtr> lifted_; /* traps lifted for a step since */
	std::vector<Breakpoint> frontier_;
	CodeBytes code_bytes_;
	/* write_byte -- one byte of code through /proc/PID/mem (one call,
	 * where PTRACE_POKETEXT takes a read and a write of the word) */
	void write_byte(pid_t pid, RemotePtr addr, uint8_t byte);
	/* mem_fd -- /proc/PID/mem, open for the last pid asked about */
	int mem_fd(pid_t pid);
	int mem_fd_ = -1;
	pid_t mem_pid_ = -1;
	std::vector<RemotePtr> end_addrs_; /* RegionEnd entries */
};

} /* namespace pmfit */

#endif /* PMFIT_BREAKPOINTS_H */
