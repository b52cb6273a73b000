/*
 * user_file_guard.h -- the traced program may not open the user's own PM
 * files for writing, by any path
 *
 * allcounts --cmd --pm FILE gives the program a copy of FILE and rewrites
 * every argument that names FILE. A program that reaches FILE some other
 * way (a hard link or symlink it makes, a path in an environment variable
 * or a configuration file, a forked child doing any of these) would write
 * the user's data and record nothing. The guard refuses it before it
 * happens: a seccomp filter sends every open that asks for write access or
 * truncation (open, openat, openat2, creat, truncate) to a supervisor
 * thread in pmfit, which resolves the path as the calling process sees it
 * (its cwd, its dirfd, /proc/self as that process), compares the file's
 * device and inode with the user's files, and answers EACCES for them and
 * "go on" for everything else. Read-only opens never reach it.
 *
 * What the guard does not cover, and why that is enough: an fd opened
 * before the program started (pmfit passes only /dev/null and its own
 * stdout/stderr); ftruncate, write, mmap and fallocate, which need an fd
 * opened for writing, which the guard refused; and a program that swaps a
 * path component between the check and the kernel's own lookup (a race
 * only a hostile program would run; pmfit is not a sandbox). The run-time
 * check of run-target.ts still compares the files afterwards.
 */
#ifndef PMFIT_USER_FILE_GUARD_H
#define PMFIT_USER_FILE_GUARD_H

#include <sys/types.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "seccomp_filter.h"

namespace pmfit {

class UserFileGuard {
public:
	/* stat()s each path now (a missing one is skipped); throws TaskError */
	explicit UserFileGuard(const std::vector<std::string> &paths);
	~UserFileGuard();
	UserFileGuard(const UserFileGuard &) = delete;
	UserFileGuard &operator=(const UserFileGuard &) = delete;

	/* the rules that send writing opens to the supervisor */
	static std::vector<SyscallRule> rules();

	/* start -- serve the filter's listener (taken over) in a thread */
	void start(int listener);

	/* refusals -- one line per open refused so far, in order */
	std::vector<std::string> refusals() const;

private:
	struct Guarded {
		dev_t dev;
		ino_t ino;
		std::string path;
	};

	void serve();
	void answer(int listener);

	std::vector<Guarded> files_;
	int listener_ = -1;
	int stop_[2] = {-1, -1}; /* a byte on stop_[1] ends serve() */
	std::thread thread_;
	mutable std::mutex mutex_;
	std::vector<std::string> refusals_;
};

} /* namespace pmfit */

#endif /* PMFIT_USER_FILE_GUARD_H */
