/*
 * page_cache.h -- which pages of a file were written since it was last
 * written back: the page cache's dirty state, by cachestat(2), and
 * write-back to start a new interval
 *
 * A store through a shared mapping marks the page's folio dirty at its
 * first write fault (the kernel write-protects the page again when it
 * writes it back), and so does a write(2)-family call, by any process.
 * The recorder compares only those pages with the trace (record.ts). The
 * dirty state is lost when something else writes the page back (sync,
 * fsync, the kernel's flusher), and filesystems without write-back (tmpfs,
 * DAX) have none: the recorder knows when to compare whole files instead.
 */
#ifndef PMFIT_PAGE_CACHE_H
#define PMFIT_PAGE_CACHE_H

#include <cstdint>
#include <vector>

namespace pmfit {

constexpr uint64_t PAGE_SIZE_BYTES = 4096;

/* dirty_pages -- indexes of the pages of [0, size) of the open file fd whose
 * folio is dirty, in order; throws TaskError (cachestat unsupported: ENOSYS) */
std::vector<uint64_t> dirty_pages(int fd, uint64_t size);

/* write_back -- start writing every dirty page of fd back: from then on
 * each is under write-back or clean until written again; throws TaskError */
void write_back(int fd);

} /* namespace pmfit */

#endif /* PMFIT_PAGE_CACHE_H */
