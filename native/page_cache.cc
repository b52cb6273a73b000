/*
 * page_cache.cc -- cachestat(2) bisection and sync_file_range(2)
 */
#include "page_cache.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "error.h"

namespace pmfit {

namespace {

/* SYS_cachestat -- x86-64 number (Linux 6.5); older libc headers lack it */
constexpr long CACHESTAT_NR = 451;

/* CHUNK -- bytes asked about at the top level: the kernel walks every
 * cached folio of a range, so the file is walked once in chunks and only
 * chunks with dirty pages are split further */
constexpr uint64_t CHUNK = 2u << 20;

struct CachestatRange {
	uint64_t off;
	uint64_t len;
};

struct Cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

uint64_t
dirty_in(int fd, uint64_t off, uint64_t len)
{
	CachestatRange range = {off, len};
	Cachestat stat = {};
	if (syscall(CACHESTAT_NR, fd, &range, &stat, 0) != 0)
		throw TaskError(syserr("cachestat", errno));
	/* pages under write-back were dirty a moment ago: still to compare */
	return stat.nr_dirty + stat.nr_writeback;
}

void
collect(int fd, uint64_t off, uint64_t len, std::vector<uint64_t> *pages)
{
	PMFIT_ASSERT(off % PAGE_SIZE_BYTES == 0 && len % PAGE_SIZE_BYTES == 0 && len > 0);
	uint64_t dirty = dirty_in(fd, off, len);
	if (dirty == 0)
		return;
	/* A range dirty throughout needs no split: ext4's large folios dirty
	 * 16 pages or more at a time (one 8-byte pwrite marked 16 dirty pages
	 * on Linux 6.18), and splitting each down to single pages cost 30 of
	 * the ~40 calls per folio. cachestat counts only the pages of a folio
	 * inside the range asked, so the count is the range's own. */
	if (dirty >= len / PAGE_SIZE_BYTES) {
		for (uint64_t page = off / PAGE_SIZE_BYTES; page < (off + len) / PAGE_SIZE_BYTES; page++)
			pages->push_back(page);
		return;
	}
	uint64_t half = (len / PAGE_SIZE_BYTES / 2) * PAGE_SIZE_BYTES;
	collect(fd, off, half, pages);
	collect(fd, off + half, len - half, pages);
}

} /* namespace */

std::vector<uint64_t>
dirty_pages(int fd, uint64_t size)
{
	std::vector<uint64_t> pages;
	uint64_t end = (size + PAGE_SIZE_BYTES - 1) / PAGE_SIZE_BYTES * PAGE_SIZE_BYTES;
	for (uint64_t off = 0; off < end; off += CHUNK)
		collect(fd, off, end - off < CHUNK ? end - off : CHUNK, &pages);
	return pages;
}

void
write_back(int fd)
{
	/* Started, not waited for: a page under write-back still counts as
	 * dirty in dirty_pages() (compared again, harmlessly), and one the
	 * program writes meanwhile is dirty again. Waiting cost the tree
	 * workload ~4 ms a check on this machine's disk. */
	if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0)
		throw TaskError(syserr("sync_file_range", errno));
}

} /* namespace pmfit */
