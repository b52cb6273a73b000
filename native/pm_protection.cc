/*
 * pm_protection.cc -- PmProtection: PM pages read-only or PROT_NONE and
 * back, through mprotect calls injected into the tracee
 */
#include "pm_protection.h"

#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <algorithm>
#include <string>

#include "error.h"
#include "proc_maps.h"
#include "registers.h"

namespace pmfit {

namespace {

constexpr uint64_t PAGE_SIZE_BYTES = 4096;

uint64_t
page_up(uint64_t addr)
{
	return (addr + PAGE_SIZE_BYTES - 1) & ~(PAGE_SIZE_BYTES - 1);
}

} /* namespace */

std::vector<PmProtection::Segment>
PmProtection::read_maps(pid_t pid, const std::vector<PmRange> &ranges)
{
	std::vector<Segment> out;
	const std::vector<MapsLine> maps = read_proc_maps(pid);
	/* the vDSO: code the program cannot write, there in every process
	 * (a program that remaps it is seen here, at the next protect) */
	RemotePtr site;
	for (const MapsLine &m : maps) {
		if (m.name == "[vdso]" && m.executable() && !m.writable())
			site = find_syscall_site(pid, m.start, m.end, site_);
	}
	site_ = site;
	for (const PmRange &range : ranges) {
		const uint64_t start = range.start.as_int();
		/* the rest of the file's last page belongs to the mapping */
		const uint64_t end = page_up(range.end.as_int());
		for (const MapsLine &m : maps) {
			const uint64_t s = std::max(start, m.start), e = std::min(end, m.end);
			if (s < e && m.prot() != PROT_NONE)
				out.push_back({s, e, m.prot(), false});
		}
	}
	std::sort(out.begin(), out.end(), [](const Segment &a, const Segment &b) { return a.start < b.start; });
	/* ranges of one mapping are often adjacent: one call for them */
	std::vector<Segment> merged;
	for (const Segment &s : out) {
		if (!merged.empty() && merged.back().end >= s.start && merged.back().prot == s.prot)
			merged.back().end = std::max(merged.back().end, s.end);
		else
			merged.push_back(s);
	}
	return merged;
}

TracerSyscall
PmProtection::mprotect_in(pid_t pid, const Registers &regs, uint64_t start, uint64_t end, int prot,
			  std::vector<int> *deferred) const
{
	calls_++;
	/* the site's bytes were read with the maps, and nothing but an int3
	 * of ours changes them until restore() (no read per call: 604 on
	 * txmap with 20 inserts) */
	const RemotePtr site = breakpoints_.covers(site_, SYSCALL_INSN_LEN) ? RemotePtr() : site_;
	return inject_syscall(pid, regs, site, SYS_mprotect, {start, end - start, (uint64_t)prot, 0, 0, 0}, deferred);
}

bool
PmProtection::protect_pages(pid_t pid, const Registers &regs, const Segment &s, uint64_t start, uint64_t end,
			    const CleanPage &clean, std::vector<int> *deferred, int *status, int64_t *result) const
{
	/* a clean page stays readable (and executable): only stores
	 * fault; so does a watched one, which holds no PM line */
	const int readable = s.prot & ~PROT_WRITE;
	*result = 0;
	for (uint64_t at = start; at < end;) {
		const int prot = s.watched || clean(at) ? readable : PROT_NONE;
		uint64_t run = at + PAGE_SIZE_BYTES;
		while (run < end && (s.watched || clean(run) ? readable : PROT_NONE) == prot)
			run += PAGE_SIZE_BYTES;
		TracerSyscall call = mprotect_in(pid, regs, at, run, prot, deferred);
		if (!call.alive) {
			*status = call.status;
			return false;
		}
		if (call.result != 0) {
			*result = call.result;
			return true;
		}
		at = run;
	}
	return true;
}

PmProtection::Outcome
PmProtection::protect(pid_t pid, const Registers &regs, const std::vector<PmRange> &ranges, const CleanPage &clean,
		      std::vector<int> *deferred, int *status)
{
	PMFIT_ASSERT(segments_.empty());
	const std::vector<Segment> segments = read_maps(pid, ranges);
	for (const Segment &s : segments) {
		/* remembered first: a failed call leaves part of it changed */
		segments_.push_back(s);
		int64_t result = 0;
		if (!protect_pages(pid, regs, s, s.start, s.end, clean, deferred, status, &result)) {
			segments_.clear();
			return Outcome::Died;
		}
		if (result != 0) {
			if (!restore(pid, regs, deferred, status))
				return Outcome::Died;
			return Outcome::Refused;
		}
	}
	return Outcome::Protected;
}

const PmProtection::Segment *
PmProtection::segment_of(uint64_t addr) const
{
	for (const Segment &s : segments_) {
		if (addr >= s.start && addr < s.end)
			return &s;
	}
	return nullptr;
}

bool
PmProtection::covers(RemotePtr addr) const
{
	const uint64_t page = addr.as_int() & ~(PAGE_SIZE_BYTES - 1);
	return segment_of(page) && std::find(open_.begin(), open_.end(), page) == open_.end();
}

bool
PmProtection::writable(RemotePtr addr) const
{
	const Segment *s = segment_of(addr.as_int() & ~(PAGE_SIZE_BYTES - 1));
	return s && !s->watched && (s->prot & PROT_WRITE);
}

bool
PmProtection::watching(RemotePtr addr) const
{
	const Segment *s = segment_of(addr.as_int() & ~(PAGE_SIZE_BYTES - 1));
	return s && s->watched;
}

/* holds_rseq -- the page may hold the thread's rseq area, which the kernel
 * writes when it resumes the thread, outside any system call (a failed
 * write kills it with SIGSEGV): true also when the kernel cannot say */
bool
PmProtection::holds_rseq(pid_t pid, uint64_t page)
{
	struct __ptrace_rseq_configuration config = {};
	const long got = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, (void *)sizeof(config), &config);
	if (got < 0)
		return true;
	if (config.rseq_abi_size == 0)
		return false;
	return config.rseq_abi_pointer < page + PAGE_SIZE_BYTES &&
	       config.rseq_abi_pointer + config.rseq_abi_size > page;
}

bool
PmProtection::watch(pid_t pid, const Registers &regs, RemotePtr page, int prot, bool *watched,
		    std::vector<int> *deferred, int *status)
{
	const uint64_t at = page.as_int();
	*watched = false;
	const auto watches =
		std::count_if(segments_.begin(), segments_.end(), [](const Segment &s) { return s.watched; });
	if ((size_t)watches >= MAX_WATCHED || segment_of(at) ||
	    std::find(dropped_.begin(), dropped_.end(), at) != dropped_.end())
		return true;
	if (holds_rseq(pid, at)) {
		dropped_.push_back(at);
		return true;
	}
	TracerSyscall call = mprotect_in(pid, regs, at, at + PAGE_SIZE_BYTES, prot & ~PROT_WRITE, deferred);
	if (!call.alive) {
		*status = call.status;
		return false;
	}
	if (call.result != 0) {
		/* unchanged: not watched, not tried again */
		dropped_.push_back(at);
		return true;
	}
	segments_.push_back({at, at + PAGE_SIZE_BYTES, prot, true});
	*watched = true;
	return true;
}

bool
PmProtection::unwatch(pid_t pid, const Registers &regs, RemotePtr addr, std::vector<int> *deferred, int *status)
{
	const uint64_t page = addr.as_int() & ~(PAGE_SIZE_BYTES - 1);
	const auto s = std::find_if(segments_.begin(), segments_.end(),
				    [page](const Segment &seg) { return seg.watched && seg.start == page; });
	PMFIT_ASSERT(s != segments_.end());
	const int prot = s->prot;
	segments_.erase(s);
	dropped_.push_back(page);
	TracerSyscall call = mprotect_in(pid, regs, page, page + PAGE_SIZE_BYTES, prot, deferred);
	if (!call.alive) {
		*status = call.status;
		return false;
	}
	if (call.result != 0)
		throw TaskError("cannot give watched page " + hex(page) +
				" its protection back: mprotect: " + std::to_string(-call.result));
	return true;
}

bool
PmProtection::open_page(pid_t pid, const Registers &regs, RemotePtr addr, std::vector<int> *deferred, int *status)
{
	const uint64_t page = addr.as_int() & ~(PAGE_SIZE_BYTES - 1);
	const Segment *s = segment_of(page);
	PMFIT_ASSERT(s != nullptr);
	TracerSyscall call = mprotect_in(pid, regs, page, page + PAGE_SIZE_BYTES, s->prot, deferred);
	if (!call.alive) {
		*status = call.status;
		return false;
	}
	if (call.result != 0)
		throw TaskError("cannot open PM page " + hex(page) + ": mprotect: " + std::to_string(-call.result));
	open_.push_back(page);
	return true;
}

bool
PmProtection::close_pages(pid_t pid, const Registers &regs, const CleanPage &clean, std::vector<int> *deferred,
			  int *status)
{
	std::sort(open_.begin(), open_.end());
	for (size_t i = 0; i < open_.size();) {
		/* adjacent pages of one segment in one call per protection */
		const Segment *s = segment_of(open_[i]);
		PMFIT_ASSERT(s != nullptr);
		size_t j = i + 1;
		while (j < open_.size() && open_[j] == open_[j - 1] + PAGE_SIZE_BYTES && open_[j] < s->end)
			j++;
		int64_t result = 0;
		if (!protect_pages(pid, regs, *s, open_[i], open_[j - 1] + PAGE_SIZE_BYTES, clean, deferred, status,
				   &result)) {
			open_.clear();
			segments_.clear();
			return false;
		}
		if (result != 0)
			throw TaskError("cannot protect PM page " + hex(open_[i]) +
					" again: mprotect: " + std::to_string(-result));
		i = j;
	}
	open_.clear();
	return true;
}

bool
PmProtection::restore(pid_t pid, const Registers &regs, std::vector<int> *deferred, int *status)
{
	std::vector<Segment> segments;
	segments.swap(segments_);
	open_.clear();
	for (const Segment &s : segments) {
		TracerSyscall call = mprotect_in(pid, regs, s.start, s.end, s.prot, deferred);
		if (!call.alive) {
			*status = call.status;
			return false;
		}
		if (call.result != 0)
			throw TaskError("cannot give PM pages " + hex(s.start) + ".." + hex(s.end) +
					" their protection back: mprotect: " + std::to_string(-call.result));
	}
	return true;
}

} /* namespace pmfit */
