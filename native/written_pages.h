/*
 * written_pages.h -- which pages of the tracee's PM mappings were written
 * since the last look, whoever wrote them through those mappings (the
 * program, the kernel on its behalf) and whatever happened to the page
 * cache since (write-back by sync, fsync, the kernel's flusher, memory
 * pressure)
 *
 * A userfaultfd in asynchronous write-protect mode (Linux 6.7,
 * UFFD_FEATURE_WP_ASYNC, any memory type since then) over the PM ranges:
 * the kernel clears a page's write-protect bit at its first write and asks
 * nobody; PAGEMAP_SCAN on /proc/PID/pagemap lists the pages whose bit is
 * clear (PAGE_IS_WRITTEN) and sets it again in the same call. Unlike the
 * page cache's dirty state (page_cache.h), the bit survives write-back:
 * measured on Linux 6.18 on ext4 and tmpfs, a page written, fsync'ed,
 * MADV_PAGEOUT'ed and MADV_DONTNEED'ed is still reported written.
 *
 * The userfaultfd must be opened by the tracee itself (it watches the
 * memory of the process that opens it): injected_syscall.h makes it, and
 * pidfd_getfd(2) brings a copy to the tracer before the tracee's own
 * descriptor is closed again. Writes through another process's mapping or
 * through write(2) leave no mark here: those are the page cache's.
 */
#ifndef PMFIT_WRITTEN_PAGES_H
#define PMFIT_WRITTEN_PAGES_H

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "remote_ptr.h"

namespace pmfit {

class WrittenPages {
public:
	WrittenPages() = default;
	~WrittenPages();
	WrittenPages(const WrittenPages &) = delete;
	WrittenPages &operator=(const WrittenPages &) = delete;

	/* open -- the userfaultfd, made by the stopped thread tid of process
	 * tgid; false when the kernel cannot do it (then nothing changed in
	 * the tracee). Signals that stopped the thread meanwhile go to
	 * *signals. */
	bool open(pid_t tid, pid_t tgid, std::vector<int> *signals);
	bool
	active() const
	{
		return uffd_ >= 0;
	}
	/* watch -- register [start, end) and write-protect it: from now on a
	 * write to one of its pages is reported by take(); throws TaskError */
	void watch(RemotePtr start, RemotePtr end);
	/* take -- the start of every page of [start, end) written since it
	 * was watched or last taken, and write-protect them again */
	std::vector<RemotePtr> take(RemotePtr start, RemotePtr end);
	void close();

private:
	int uffd_ = -1;
	int pagemap_ = -1;
};

} /* namespace pmfit */

#endif /* PMFIT_WRITTEN_PAGES_H */
