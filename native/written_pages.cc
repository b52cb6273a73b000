/*
 * written_pages.cc -- userfaultfd write-protect (async) and PAGEMAP_SCAN
 * (Documentation/admin-guide/mm/userfaultfd.rst, pagemap.rst); the
 * constants are spelled out because libc's kernel headers may predate
 * them (Linux 6.7)
 */
#include "written_pages.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "error.h"
#include "injected_syscall.h"
#include "registers.h"

namespace pmfit {

namespace {

constexpr uint64_t PAGE = 4096;

/* include/uapi/linux/userfaultfd.h (6.7) */
constexpr uint64_t FEATURE_WP_UNPOPULATED = 1u << 13;
constexpr uint64_t FEATURE_WP_ASYNC = 1u << 15;
/* UFFD_USER_MODE_ONLY: open without privilege (vm.unprivileged_userfaultfd
 * is 0 by default); async write-protection resolves kernel-mode faults too */
constexpr uint64_t USER_MODE_ONLY = 1;

/* include/uapi/linux/fs.h (6.7) */
struct PageRegion {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};
struct PmScanArg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};
constexpr unsigned long PAGEMAP_SCAN = _IOWR('f', 16, PmScanArg);
constexpr uint64_t PAGE_IS_WRITTEN = 1u << 1;
constexpr uint64_t PM_SCAN_WP_MATCHING = 1u << 0;
constexpr uint64_t PM_SCAN_CHECK_WPASYNC = 1u << 1;

/* REGIONS -- runs of written pages asked for per PAGEMAP_SCAN call */
constexpr size_t REGIONS = 512;

/* in_tracee -- system call nr run by the stopped thread tid with the
 * registers regs, over the code at its rip (two calls, once a run: no
 * syscall site is looked for); its result (-errno). Throws TaskError when
 * the thread dies meanwhile. */
int64_t
in_tracee(pid_t tid, const Registers &regs, long nr, uint64_t arg, std::vector<int> *signals)
{
	const TracerSyscall call = inject_syscall(tid, regs, RemotePtr(), nr, {arg, 0, 0, 0, 0, 0}, signals);
	if (!call.alive)
		throw TaskError("process " + std::to_string(tid) + " ended during a system call of the tracer");
	return call.result;
}

} /* namespace */

WrittenPages::~WrittenPages()
{
	close();
}

void
WrittenPages::close()
{
	if (uffd_ >= 0)
		::close(uffd_);
	if (pagemap_ >= 0)
		::close(pagemap_);
	uffd_ = pagemap_ = -1;
}

bool
WrittenPages::open(pid_t tid, pid_t tgid, std::vector<int> *signals)
{
	PMFIT_ASSERT(uffd_ < 0);
	Registers regs;
	regs.fetch(tid);
	const int64_t remote = in_tracee(tid, regs, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | USER_MODE_ONLY, signals);
	if (remote < 0)
		return false; /* ENOSYS, EPERM: no userfaultfd here */
	/* the descriptor table is the process's: its leader's pidfd */
	int pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
	int fd = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, (int)remote, 0);
	if (pidfd >= 0)
		::close(pidfd);
	/* the tracee's descriptor goes at once: the program sees no new fd */
	in_tracee(tid, regs, SYS_close, (uint64_t)remote, signals);
	if (fd < 0)
		return false;
	uffdio_api api = {};
	api.api = UFFD_API;
	api.features = FEATURE_WP_ASYNC | FEATURE_WP_UNPOPULATED;
	const std::string pagemap = "/proc/" + std::to_string(tgid) + "/pagemap";
	int map = ioctl(fd, UFFDIO_API, &api) == 0 ? ::open(pagemap.c_str(), O_RDONLY | O_CLOEXEC) : -1;
	if (map < 0) {
		::close(fd);
		return false;
	}
	uffd_ = fd;
	pagemap_ = map;
	return true;
}

void
WrittenPages::watch(RemotePtr start, RemotePtr end)
{
	PMFIT_ASSERT(active() && start.as_int() % PAGE == 0);
	const uint64_t len = (end.as_int() - start.as_int() + PAGE - 1) / PAGE * PAGE;
	uffdio_register reg = {};
	reg.range = {start.as_int(), len};
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(uffd_, UFFDIO_REGISTER, &reg) != 0)
		throw TaskError(syserr("UFFDIO_REGISTER " + hex(start.as_int()), errno));
	uffdio_writeprotect wp = {};
	wp.range = {start.as_int(), len};
	wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
	if (ioctl(uffd_, UFFDIO_WRITEPROTECT, &wp) != 0)
		throw TaskError(syserr("UFFDIO_WRITEPROTECT " + hex(start.as_int()), errno));
}

std::vector<RemotePtr>
WrittenPages::take(RemotePtr start, RemotePtr end)
{
	PMFIT_ASSERT(active());
	std::vector<RemotePtr> pages;
	PageRegion regions[REGIONS];
	const uint64_t stop = (end.as_int() + PAGE - 1) / PAGE * PAGE;
	for (uint64_t from = start.as_int(); from < stop;) {
		PmScanArg arg = {};
		arg.size = sizeof(arg);
		arg.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
		arg.start = from;
		arg.end = stop;
		arg.vec = (uint64_t)(uintptr_t)regions;
		arg.vec_len = REGIONS;
		arg.category_mask = PAGE_IS_WRITTEN;
		arg.return_mask = PAGE_IS_WRITTEN;
		long n = ioctl(pagemap_, PAGEMAP_SCAN, &arg);
		if (n < 0)
			throw TaskError(syserr("PAGEMAP_SCAN " + hex(from), errno));
		for (long i = 0; i < n; i++)
			for (uint64_t page = regions[i].start; page < regions[i].end; page += PAGE)
				pages.push_back(RemotePtr(page));
		/* walk_end: where the kernel stopped, the end when it is done */
		if (arg.walk_end <= from)
			throw TaskError("PAGEMAP_SCAN made no progress at " + hex(from));
		from = arg.walk_end;
	}
	return pages;
}

} /* namespace pmfit */
