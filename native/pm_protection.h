/*
 * pm_protection.h -- the tracee's PM pages made inaccessible while a region
 * runs at full speed (the fast recorder: docs/recording.md)
 *
 * Every page of the PM ranges loses its write permission, with mprotect
 * calls injected into the tracee, so that any store the program makes to
 * PM faults. A page with a line stored since its last flush (dirty_lines.h)
 * becomes PROT_NONE, so that a load, clflush, clflushopt or clwb of it
 * faults too (all three flushes fault on a PROT_NONE page; on a PROT_READ
 * page they do not). A clean page keeps its read permission: a flush of it
 * changes no crash state, and loads, most of the faults of a PROT_NONE
 * page (2,002 of 2,303 on txmap with 20 inserts), run at full speed. The
 * protection each mapping had, as /proc/PID/maps lists it, is remembered
 * and put back by restore(). While the pages are protected the program
 * makes no system call (the fast loop takes each back at its entry, and
 * between regions Task stops at each: fast_region.cc), so nothing else
 * changes them, nor any other mapping: the syscall site of the injected
 * calls (injected_syscall.h), found in the vDSO when protect() reads
 * /proc/PID/maps, stays valid until restore(). The pages stay protected
 * from one region to the next until something outside the regions needs
 * them (fast_region.cc, "Between regions").
 *
 * Pages of private memory the fence hunt follows pointers through (a
 * library's .data) are write-protected the same way while it relies on
 * them (watch()), and put back with the PM pages; a store of the program
 * to one gives it its own protection back for good (unwatch()). So the
 * pages covers() names are those no store reaches unseen.
 *
 * Each method takes the registers the caller fetched at the tracee's
 * current stop (they are the tracee's again when it returns).
 */
#ifndef PMFIT_PM_PROTECTION_H
#define PMFIT_PM_PROTECTION_H

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "breakpoints.h"
#include "injected_syscall.h"
#include "recorder.h"
#include "remote_ptr.h"

namespace pmfit {

/* Registers (registers.h) is only declared: its <sys/user.h> defines a
 * PAGE_SHIFT macro that insn_cache.h, included after this header in some
 * files, cannot take */
class Registers;

/* CleanPage -- whether no line of the PM page at this (page-aligned)
 * address waits for a flush: it may stay readable */
using CleanPage = std::function<bool(uint64_t page)>;

class PmProtection {
public:
	/* Outcome -- protect(): Protected, or Refused when an mprotect
	 * failed (everything is put back; the region stays single-stepped),
	 * or Died (status says how) */
	enum class Outcome { Protected, Refused, Died };

	/* breakpoints: the tracer's int3s, which may cover the syscall site
	 * (a frontier node of the fence hunt in the vDSO) */
	explicit PmProtection(const Breakpoints &breakpoints) : breakpoints_(breakpoints) {}

	bool
	active() const
	{
		return !segments_.empty();
	}
	Outcome protect(pid_t pid, const Registers &regs, const std::vector<PmRange> &ranges, const CleanPage &clean,
			std::vector<int> *deferred, int *status);
	/* restore -- every page back to its own protection; false when the
	 * tracee died (*status) */
	bool restore(pid_t pid, const Registers &regs, std::vector<int> *deferred, int *status);

	/* calls -- mprotect calls made in the tracee so far */
	uint64_t
	calls() const
	{
		return calls_;
	}
	/* covers -- addr is on a protected page that is not open (PM or
	 * watched): a store to it faults */
	bool covers(RemotePtr addr) const;
	/* watch -- the page at page (private memory of protection prot, not
	 * PM) loses its write permission too until restore() or a store to
	 * it (unwatch): the fence hunt follows pointers there while it is
	 * watched (fence_hunt.h). False when the tracee died (*status);
	 * *watched whether the page is watched now (never after unwatch(),
	 * nor the page of the rseq area, nor more than MAX_WATCHED pages) */
	bool watch(pid_t pid, const Registers &regs, RemotePtr page, int prot, bool *watched,
		   std::vector<int> *deferred, int *status);
	/* writable -- addr is on a PM page whose own protection allows
	 * writes (not a watched one) */
	bool writable(RemotePtr addr) const;
	/* watching -- addr is on a watched page (covers() too) */
	bool watching(RemotePtr addr) const;
	/* unwatch -- the watched page holding addr gets its own protection
	 * back for good (the program writes it: each store would stop);
	 * false when the tracee died */
	bool unwatch(pid_t pid, const Registers &regs, RemotePtr addr, std::vector<int> *deferred, int *status);
	/* open_page -- the protected page holding addr gets its own
	 * protection back until close_pages(); false when the tracee died */
	bool open_page(pid_t pid, const Registers &regs, RemotePtr addr, std::vector<int> *deferred, int *status);
	/* opened -- pages open_page() opened since the last close_pages() */
	size_t
	opened() const
	{
		return open_.size();
	}
	/* close_pages -- the pages open_page() opened are protected again,
	 * readable when clean */
	bool close_pages(pid_t pid, const Registers &regs, const CleanPage &clean, std::vector<int> *deferred,
			 int *status);

private:
	struct Segment {
		uint64_t start;
		uint64_t end;
		int prot;
		bool watched; /* a page of private memory, not PM */
	};
	/* MAX_WATCHED -- most pages watched at once: each costs two mprotect
	 * calls, one to watch it and one at restore() */
	static constexpr size_t MAX_WATCHED = 8;
	/* read_maps -- the segments of the PM ranges, and site_, from one
	 * read of /proc/PID/maps */
	std::vector<Segment> read_maps(pid_t pid, const std::vector<PmRange> &ranges);

	const Segment *segment_of(uint64_t addr) const;
	static bool holds_rseq(pid_t pid, uint64_t page);
	TracerSyscall mprotect_in(pid_t pid, const Registers &regs, uint64_t start, uint64_t end, int prot,
				  std::vector<int> *deferred) const;
	/* protect_pages -- [start, end) of segment s to the protection each
	 * page needs, adjacent pages alike in one call; false when the tracee
	 * died, *result the first failed call's */
	bool protect_pages(pid_t pid, const Registers &regs, const Segment &s, uint64_t start, uint64_t end,
			   const CleanPage &clean, std::vector<int> *deferred, int *status, int64_t *result) const;

	const Breakpoints &breakpoints_;
	std::vector<Segment> segments_; /* protected now, with their own protection */
	std::vector<uint64_t> open_;	/* pages of segments_ opened since */
	std::vector<uint64_t> dropped_; /* pages unwatched: written by the program */
	RemotePtr site_;		/* where injected calls run (null: at rip) */
	mutable uint64_t calls_ = 0;	/* counted where they are made, in const methods */
};

} /* namespace pmfit */

#endif /* PMFIT_PM_PROTECTION_H */
