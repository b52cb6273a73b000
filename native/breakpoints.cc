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
	/* the few lifted for a step since; each byte as the hunt's copy of
	 * its page has it (flush sites are only in code the program cannot
	 * write, which changes only by a system call, after which the copy
	 * is read again): one write a trap, where a read and a write of the
	 * word were two */
	for (RemotePtr addr : lifted_) {
		Breakpoint *bp = find_trap(addr);
		uint8_t was = 0;
		if (code_bytes_ && code_bytes_(pid, addr, &was, 1)) {
			if (was != bp->orig)
				return false; /* rewritten: left as the program has it */
			write_byte(pid, addr, INT3);
		} else {
			poke_byte(pid, bp->addr, INT3, &was);
			if (was != bp->orig) {
				poke_byte(pid, bp->addr, was, nullptr);
				return false;
			}
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
Breakpoints::add_frontier(pid_t pid, const RemotePtr *addrs, const uint8_t *code, size_t count, RemotePtr stand)
{
	std::vector<Breakpoint> next;
	if (frontier_.size() + count <= MAX_FRONTIER)
		next = frontier_;
	const auto ours = [this, &next](RemotePtr addr) {
		for (const Breakpoint &bp : next) {
			if (bp.addr == addr)
				return true;
		}
		for (const Breakpoint &bp : markers_) {
			if (bp.addr == addr)
				return true;
		}
		return find_trap(addr) != nullptr;
	};
	for (size_t i = 0; i < count; i++) {
		if (!ours(addrs[i]))
			next.push_back({addrs[i], BreakpointKind::Frontier, code[i], true});
	}
	next.erase(std::remove_if(next.begin(), next.end(), [stand](const Breakpoint &bp) { return bp.addr == stand; }),
		   next.end());
	rewrite_frontier(pid, std::move(next));
}

/*
 * rewrite_frontier -- a node in both frontiers stays as it is, unwritten
 * (a full frontier made again used to take every node out and put most
 * back). Where several bytes of a page change, the page's bytes between
 * the first and the last are asked of code_bytes_ before anything
 * changes (so that it shows what our int3s cover as they are now) and
 * written back in one pwrite, with an int3 wherever one of ours is in
 * memory after the change: 12,490 writes of one byte on txmap with 20
 * inserts became 5,878 writes. Only frontier bytes change: the frontier
 * is only in code the program cannot write (fence_hunt.h), and a page
 * holding a node is in one such mapping, so the bytes between two nodes
 * are code that changes only by a system call, after which code_bytes_
 * reads the page again.
 */
void
Breakpoints::rewrite_frontier(pid_t pid, std::vector<Breakpoint> next)
{
	struct Change {
		RemotePtr addr;
		uint8_t byte;
	};
	const auto in = [](const std::vector<Breakpoint> &table, RemotePtr addr) {
		for (const Breakpoint &bp : table) {
			if (bp.addr == addr)
				return true;
		}
		return false;
	};
	std::vector<Change> changes;
	for (const Breakpoint &bp : frontier_) {
		if (!in(next, bp.addr))
			changes.push_back({bp.addr, bp.orig});
	}
	for (const Breakpoint &bp : next) {
		if (!in(frontier_, bp.addr))
			changes.push_back({bp.addr, INT3});
	}
	std::sort(changes.begin(), changes.end(), [](const Change &a, const Change &b) { return a.addr < b.addr; });
	/* runs of changes on one page; the bytes of each run of several */
	struct Run {
		size_t first, last; /* indices into changes */
		std::vector<uint8_t> bytes;
	};
	std::vector<Run> runs;
	for (size_t i = 0; i < changes.size(); i++) {
		if (!runs.empty() && page_of(changes[i].addr) == page_of(changes[runs.back().last].addr))
			runs.back().last = i;
		else
			runs.push_back({i, i, {}});
	}
	for (Run &run : runs) {
		if (run.first == run.last || !code_bytes_)
			continue;
		const RemotePtr start = changes[run.first].addr;
		run.bytes.resize((size_t)(changes[run.last].addr - start) + 1);
		if (!code_bytes_(pid, start, run.bytes.data(), run.bytes.size()))
			run.bytes.clear();
	}
	frontier_ = std::move(next);
	const int fd = changes.empty() ? -1 : mem_fd(pid);
	for (Run &run : runs) {
		if (run.bytes.empty()) {
			for (size_t i = run.first; i <= run.last; i++)
				write_code(fd, changes[i].addr, &changes[i].byte, 1);
			continue;
		}
		const RemotePtr start = changes[run.first].addr;
		for_each_installed(start, run.bytes.size(),
				   [start, &run](const Breakpoint &bp) { run.bytes[bp.addr - start] = INT3; });
		write_code(fd, start, run.bytes.data(), run.bytes.size());
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
	rewrite_frontier(pid, {});
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
