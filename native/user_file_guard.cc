/*
 * user_file_guard.cc -- the supervisor behind the user-file guard's
 * seccomp notifications
 */
#include "user_file_guard.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "error.h"

namespace pmfit {

namespace {

/* flags of an open that may change the file (O_RDONLY | O_TRUNC truncates) */
constexpr uint32_t WRITING = O_WRONLY | O_RDWR | O_TRUNC;

/* at most this many refusals kept: the first ones say what happened */
constexpr size_t MAX_REFUSALS = 64;

/* the calls, by architecture (int 0x80 from 64-bit code uses i386's table) */
enum class Call { Open, OpenAt, OpenAt2, Creat, Truncate, Other };

Call
call_of(uint32_t arch, int nr)
{
	if (arch == AUDIT_ARCH_X86_64) {
		switch (nr & ~0x40000000) {
		case 2:
			return Call::Open;
		case 257:
			return Call::OpenAt;
		case 437:
			return Call::OpenAt2;
		case 85:
			return Call::Creat;
		case 76:
			return Call::Truncate;
		}
	} else if (arch == AUDIT_ARCH_I386) {
		switch (nr) {
		case 5:
			return Call::Open;
		case 295:
			return Call::OpenAt;
		case 437:
			return Call::OpenAt2;
		case 8:
			return Call::Creat;
		case 92:
		case 193: /* truncate64 */
			return Call::Truncate;
		}
	}
	return Call::Other;
}

/* Request -- what a notified call asks for, from its arguments */
struct Request {
	int dirfd = AT_FDCWD;
	uint64_t path = 0; /* tracee address */
	uint64_t flags = 0;
	bool truncate = false;
};

/* read_remote -- len bytes of pid at addr, or false */
bool
read_remote(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	iovec local = {buf, len};
	iovec remote = {(void *)addr, len};
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* read_path -- the NUL-terminated string at addr, page by page (the rest
 * of a page may be unmapped); false if unreadable or longer than PATH_MAX */
bool
read_path(pid_t pid, uint64_t addr, std::string *out)
{
	const uint64_t page = 4096;
	out->clear();
	while (out->size() < PATH_MAX) {
		char chunk[4096];
		size_t len = page - addr % page;
		if (!read_remote(pid, addr, chunk, len))
			return false;
		size_t nul = strnlen(chunk, len);
		out->append(chunk, nul);
		if (nul < len)
			return true;
		addr += len;
	}
	return false;
}

bool
request_of(const seccomp_notif &req, Request *out)
{
	const __u64 *a = req.data.args;
	bool wide = req.data.arch == AUDIT_ARCH_X86_64;
	auto arg = [&](int i) -> uint64_t { return wide ? a[i] : (a[i] & 0xffffffffu); };
	switch (call_of(req.data.arch, req.data.nr)) {
	case Call::Open:
		out->path = arg(0);
		out->flags = arg(1);
		return true;
	case Call::OpenAt:
		out->dirfd = (int)a[0];
		out->path = arg(1);
		out->flags = arg(2);
		return true;
	case Call::OpenAt2: {
		out->dirfd = (int)a[0];
		out->path = arg(1);
		open_how how;
		if (arg(3) < sizeof(how.flags) || !read_remote(req.pid, arg(2), &how.flags, sizeof(how.flags)))
			return false;
		out->flags = how.flags;
		return true;
	}
	case Call::Creat:
		out->path = arg(0);
		out->flags = O_WRONLY | O_CREAT | O_TRUNC;
		return true;
	case Call::Truncate:
		out->path = arg(0);
		out->truncate = true;
		return true;
	case Call::Other:
		break;
	}
	return false;
}

/*
 * as_seen_by -- a path pmfit can stat that names what `path` names for
 * process pid: relative paths from its cwd or dirfd, its /proc/self
 */
std::string
as_seen_by(pid_t pid, int dirfd, const std::string &path)
{
	std::string proc = "/proc/" + std::to_string(pid);
	if (path[0] == '/') {
		for (const char *self : {"/proc/self", "/proc/thread-self"}) {
			size_t n = strlen(self);
			if (path.compare(0, n, self) == 0 && (path.size() == n || path[n] == '/'))
				return proc + path.substr(n);
		}
		return path;
	}
	std::string base = dirfd == AT_FDCWD ? proc + "/cwd" : proc + "/fd/" + std::to_string(dirfd);
	return base + "/" + path;
}

} /* namespace */

UserFileGuard::UserFileGuard(const std::vector<std::string> &paths)
{
	for (const std::string &path : paths) {
		struct stat st;
		if (stat(path.c_str(), &st) == 0)
			files_.push_back(Guarded{st.st_dev, st.st_ino, path});
	}
	if (pipe2(stop_, O_CLOEXEC) != 0)
		throw TaskError(syserr("pipe", errno));
}

UserFileGuard::~UserFileGuard()
{
	if (thread_.joinable()) {
		char byte = 0;
		ssize_t ignored = write(stop_[1], &byte, 1);
		(void)ignored;
		thread_.join();
	}
	if (listener_ >= 0)
		close(listener_);
	close(stop_[0]);
	close(stop_[1]);
}

std::vector<SyscallRule>
UserFileGuard::rules()
{
	const uint32_t x64 = AUDIT_ARCH_X86_64, x86 = AUDIT_ARCH_I386;
	auto notify = [](uint32_t arch, uint32_t nr) { return SyscallRule{arch, nr, SyscallAction::Notify}; };
	auto opening = [](uint32_t arch, uint32_t nr, int flags_arg) {
		SyscallRule rule{arch, nr, SyscallAction::Notify};
		rule.flags_arg = flags_arg;
		rule.flags_mask = WRITING;
		return rule;
	};
	return {
		opening(x64, 2, 1), opening(x64, 257, 2), notify(x64, 437),	notify(x64, 85),
		notify(x64, 76),    opening(x86, 5, 1),	  opening(x86, 295, 2), notify(x86, 437),
		notify(x86, 8),	    notify(x86, 92),	  notify(x86, 193),
	};
}

void
UserFileGuard::start(int listener)
{
	listener_ = listener;
	thread_ = std::thread([this]() { serve(); });
}

std::vector<std::string>
UserFileGuard::refusals() const
{
	std::lock_guard<std::mutex> lock(mutex_);
	return refusals_;
}

void
UserFileGuard::serve()
{
	for (;;) {
		pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (fds[1].revents != 0)
			return;
		if (fds[0].revents & POLLIN)
			answer(listener_);
		else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			return; /* no process is left under the filter */
	}
}

/*
 * answer -- one notification: refuse (EACCES) a writing open or truncate of
 * a guarded file, let everything else go on as if unfiltered
 */
void
UserFileGuard::answer(int listener)
{
	seccomp_notif req;
	memset(&req, 0, sizeof(req));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0)
		return; /* EINTR, or the caller died (ENOENT) */
	seccomp_notif_resp resp;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;

	Request call;
	std::string path;
	if (request_of(req, &call) && ((call.flags & WRITING) != 0 || call.truncate) && (call.flags & O_PATH) == 0 &&
	    !files_.empty() && read_path(req.pid, call.path, &path) && !path.empty() &&
	    ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) == 0) {
		std::string seen = as_seen_by(req.pid, call.dirfd, path);
		struct stat st;
		int got = (call.flags & O_NOFOLLOW) ? lstat(seen.c_str(), &st) : stat(seen.c_str(), &st);
		for (const Guarded &file : files_) {
			if (got != 0 || st.st_dev != file.dev || st.st_ino != file.ino)
				continue;
			resp.flags = 0;
			resp.error = -EACCES;
			std::lock_guard<std::mutex> lock(mutex_);
			if (refusals_.size() < MAX_REFUSALS) {
				refusals_.push_back(
					"the traced program (pid " + std::to_string(req.pid) + ") tried to " +
					(call.truncate ? "truncate" : "open") + " your PM file " + file.path +
					(call.truncate ? "" : " for writing") + " by the path \"" + path + "\"");
			}
			break;
		}
	}
	/* ENOENT: the caller died meanwhile; nothing to answer */
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

} /* namespace pmfit */
