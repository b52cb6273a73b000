/*
 * breakpoints.cc -- Breakpoints: int3 in and out of the tracee's code
 */
#include "breakpoints.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "error.h"
#include "tracee_memory.h"

namespace pmfit {

namespace {

constexpr uint8_t INT3 = 0xCC;
constexpr uint64_t PAGE_BYTES = 4096;

uint64_t
page_of(RemotePtr addr)
{
	return addr.as_int() & ~(PAGE_BYTES - 1);
}

/* write_code -- bytes over the tracee's code through /proc/PID/mem, which
 * writes read-only pages as a debugger may (POKETEXT would take a call per
 * word) */
void
write_code(int fd, RemotePtr at, const uint8_t *bytes, size_t length)
{
	size_t done = 0;
	while (done < length) {
		ssize_t n = pwrite(fd, bytes + done, length - done, (off_t)(at.as_int() + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			throw TaskError(syserr("cannot write code at " + hex(at.as_int() + done), n < 0 ? errno : EIO));
		done += (size_t)n;
	}
}

} /* namespace */

Breakpoints::~Breakpoints()
{
	if (mem_fd_ >= 0)
		close(mem_fd_);
}

int
Breakpoints::mem_fd(pid_t pid)
{
	if (mem_pid_ != pid) {
		if (mem_fd_ >= 0)
			close(mem_fd_);
		mem_fd_ = -1;
		const std::string path = "/proc/" + std::to_string(pid) + "/mem";
		const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
		if (fd < 0)
			throw TaskError(syserr("open " + path, errno));
		mem_fd_ = fd;
		mem_pid_ = pid;
	}
	return mem_fd_;
}

void
Breakpoints::write_byte(pid_t pid, RemotePtr addr, uint8_t byte)
{
	write_code(mem_fd(pid), addr, &byte, 1);
}

const Breakpoints::Breakpoint *
Breakpoints::find(RemotePtr addr) const
{
	for (const std::vector<Breakpoint> *table : {&markers_, &frontier_}) {
		for (const Breakpoint &bp : *table) {
			if (bp.addr == addr)
				return &bp;
		}
	}
	return const_cast<Breakpoints *>(this)->find_trap(addr);
}

Breakpoints::Breakpoint *
Breakpoints::find_trap(RemotePtr addr)
{
	auto it = std::lower_bound(traps_.begin(), traps_.end(), addr,
				   [](const Breakpoint &bp, RemotePtr a) { return bp.addr < a; });
	return it != traps_.end() && it->addr == addr ? &*it : nullptr;
}

void
Breakpoints::install_markers(pid_t pid)
{
	for (Breakpoint &bp : markers_) {
		if (!bp.installed) {
			poke_byte(pid, bp.addr, INT3, &bp.orig);
			bp.installed = true;
		}
	}
}

void
Breakpoints::remove_markers(pid_t pid)
{
	for (Breakpoint &bp : markers_) {
		if (bp.installed) {
			write_byte(pid, bp.addr, bp.orig);
			bp.installed = false;
		}
	}
}

bool
Breakpoints::install_traps(pid_t pid)
{
	if (traps_.empty())
		return true;
	if (!traps_in_)
		return write_traps(pid, true);
	/* the few lifted for a step since */
	for (RemotePtr addr : lifted_) {
		Breakpoint *bp = find_trap(addr);
		uint8_t was = 0;
		poke_byte(pid, bp->addr, INT3, &was);
		if (was != bp->orig) {
			/* rewritten: left as the program has it */
			poke_byte(pid, bp->addr, was, nullptr);
			return false;
		}
		bp->installed = true;
	}
	lifted_.clear();
	return true;
}

void
Breakpoints::remove_traps(pid_t pid)
{
	if (traps_in_)
		write_traps(pid, false);
}

void
Breakpoints::add_frontier(pid_t pid, const RemotePtr *addrs, const uint8_t *code, size_t count)
{
	if (frontier_.size() + count > MAX_FRONTIER)
		clear_frontier(pid);
	for (size_t i = 0; i < count; i++) {
		if (find(addrs[i]))
			continue;
		write_byte(pid, addrs[i], INT3);
		frontier_.push_back({addrs[i], BreakpointKind::Frontier, code[i], true});
	}
}

void
Breakpoints::lift_frontier(pid_t pid, RemotePtr addr)
{
	for (size_t i = 0; i < frontier_.size(); i++) {
		if (frontier_[i].addr != addr)
			continue;
		if (frontier_[i].installed)
			write_byte(pid, addr, frontier_[i].orig);
		frontier_.erase(frontier_.begin() + (long)i);
		return;
	}
}

void
Breakpoints::clear_frontier(pid_t pid)
{
	for (const Breakpoint &bp : frontier_) {
		if (bp.installed)
			write_byte(pid, bp.addr, bp.orig);
	}
	frontier_.clear();
}

bool
Breakpoints::frontier_at(RemotePtr addr) const
{
	for (const Breakpoint &bp : frontier_) {
		if (bp.addr == addr && bp.installed)
			return true;
	}
	return false;
}

bool
Breakpoints::covers(RemotePtr addr, size_t length) const
{
	bool any = false;
	for_each_installed(addr, length, [&any](const Breakpoint &) { any = true; });
	return any;
}

void
Breakpoints::remove_all(pid_t pid)
{
	remove_markers(pid);
	remove_traps(pid);
	clear_frontier(pid);
}

/*
 * write_traps -- the traps are grouped in runs of pages that each hold a
 * trap (so every byte written is code of the mapping the trap is in, never
 * a page of data between two libraries), each run read once, patched and
 * written back whole: the markers and lifted traps in it keep what they
 * have. Going in, every trap's byte is checked against the one it covered
 * the first time; any other means the code changed, and no trap goes in.
 */
bool
Breakpoints::write_traps(pid_t pid, bool in)
{
	struct Run {
		size_t first, last; /* indices into traps_ */
		std::vector<uint8_t> bytes;
	};
	std::vector<Run> runs;
	for (size_t i = 0; i < traps_.size(); i++) {
		if (!runs.empty() && page_of(traps_[i].addr) <= page_of(traps_[runs.back().last].addr) + PAGE_BYTES)
			runs.back().last = i;
		else
			runs.push_back({i, i, {}});
	}
	for (Run &run : runs) {
		const RemotePtr start = traps_[run.first].addr;
		const size_t length = (size_t)(traps_[run.last].addr - start) + 1;
		run.bytes.resize(length);
		if (read_tracee(pid, start, run.bytes.data(), length) < length)
			throw TaskError("cannot read the code of flush traps at " + hex(start.as_int()));
		for (size_t i = run.first; i <= run.last; i++) {
			Breakpoint &bp = traps_[i];
			uint8_t &byte = run.bytes[bp.addr - start];
			if (in && !bp.installed) {
				if (traps_seen_ && byte != bp.orig)
					return false;
				bp.orig = byte;
			}
			if (bp.installed || in)
				byte = in ? INT3 : bp.orig;
		}
	}
	const int fd = mem_fd(pid);
	for (const Run &run : runs)
		write_code(fd, traps_[run.first].addr, run.bytes.data(), run.bytes.size());
	for (Breakpoint &bp : traps_)
		bp.installed = in;
	traps_seen_ = traps_seen_ || in;
	traps_in_ = in;
	lifted_.clear();
	return true;
}

void
Breakpoints::lift(pid_t pid, RemotePtr addr)
{
	if (frontier_at(addr)) {
		lift_frontier(pid, addr);
		return;
	}
	Breakpoint *bp = const_cast<Breakpoint *>(find(addr));
	if (bp && bp->installed) {
		write_byte(pid, bp->addr, bp->orig);
		bp->installed = false;
		if (bp->kind == BreakpointKind::Flush)
			lifted_.push_back(bp->addr);
	}
}

void
Breakpoints::remove_from_child(pid_t child) const
{
	for (const std::vector<Breakpoint> *table : {&markers_, &traps_, &frontier_}) {
		for (const Breakpoint &bp : *table) {
			if (!bp.installed)
				continue;
			try {
				poke_byte(child, bp.addr, bp.orig, nullptr);
			} catch (const TaskError &) {
				/* unmapped in the child: nothing to hit there */
			}
		}
	}
}

void
Breakpoints::show_original(RemotePtr address, uint8_t *bytes, size_t length) const
{
	for_each_installed(address, length,
			   [address, bytes](const Breakpoint &bp) { bytes[bp.addr - address] = bp.orig; });
}

void
Breakpoints::set(pid_t pid, BreakpointKind kind, const std::vector<RemotePtr> &addresses)
{
	for (RemotePtr addr : addresses) {
		const Breakpoint *bp = find(addr);
		if (bp && bp->kind != kind)
			throw TaskError("breakpoint at " + hex(addr.as_int()) + " has another role");
	}
	if (kind == BreakpointKind::Flush) {
		remove_traps(pid);
		traps_.clear();
		lifted_.clear();
		for (RemotePtr addr : addresses)
			traps_.push_back({addr, kind, 0, false});
		std::sort(traps_.begin(), traps_.end(),
			  [](const Breakpoint &a, const Breakpoint &b) { return a.addr < b.addr; });
		traps_.erase(std::unique(traps_.begin(), traps_.end(),
					 [](const Breakpoint &a, const Breakpoint &b) { return a.addr == b.addr; }),
			     traps_.end());
		traps_seen_ = false;
		return;
	}
	for (Breakpoint &bp : markers_) {
		if (bp.kind == kind && bp.installed) {
			write_byte(pid, bp.addr, bp.orig);
			bp.installed = false;
		}
	}
	markers_.erase(std::remove_if(markers_.begin(), markers_.end(),
				      [kind](const Breakpoint &bp) { return bp.kind == kind; }),
		       markers_.end());
	for (RemotePtr addr : addresses) {
		if (!find(addr))
			markers_.push_back({addr, kind, 0, false});
	}
	end_addrs_.clear();
	for (const Breakpoint &bp : markers_) {
		if (bp.kind == BreakpointKind::RegionEnd)
			end_addrs_.push_back(bp.addr);
	}
}

} /* namespace pmfit */
