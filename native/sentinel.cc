/*
 * sentinel.cc -- start the sentinel program
 */
#include "sentinel.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "error.h"
#include "shared_clone.h"

namespace pmfit {

namespace {

/*
 * Launch -- what the child reads until its exec. pmfit goes on while the
 * child gets there (10-25 ms after the clone under a load of 15, measured:
 * CLONE_VFORK made pmfit wait that long), so it lives as long as pmfit.
 */
struct Launch {
	std::string file;
	std::vector<std::string> argv, env;
	std::vector<char *> argv_ptrs, env_ptrs;
	int read_fd = -1;
	CloneStack stack;
};

/*
 * run_sentinel -- the child up to execve, on pmfit's memory
 * (shared_clone.h); every signal stays blocked through the exec, and the
 * sentinel program unblocks them
 */
[[noreturn]] void
run_sentinel(const char *file, char *const argv[], char *const envp[], int read_fd)
{
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(read_fd, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	syscall(SYS_close_range, 3, UINT_MAX, 0);
	execve(file, argv, envp);
	_exit(127);
}

int
sentinel_main(void *arg)
{
	const Launch &launch = *static_cast<const Launch *>(arg);
	run_sentinel(launch.file.c_str(), launch.argv_ptrs.data(), launch.env_ptrs.data(), launch.read_fd);
}

std::vector<char *>
c_strings(const std::vector<std::string> &strings)
{
	std::vector<char *> out;
	for (const std::string &s : strings)
		out.push_back(const_cast<char *>(s.c_str()));
	out.push_back(nullptr);
	return out;
}

} /* namespace */

pid_t
start_sentinel(const std::string &file, const std::vector<std::string> &argv, const std::vector<std::string> &env)
{
	static Launch *launch = nullptr;
	if (launch)
		throw TaskError("the sentinel is started once per process");
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		throw TaskError(syserr("pipe", errno));
	launch = new Launch;
	launch->file = file;
	launch->argv = argv;
	launch->env = env;
	launch->argv_ptrs = c_strings(launch->argv);
	launch->env_ptrs = c_strings(launch->env);
	launch->read_fd = fds[0];
	pid_t pid = clone_sharing_memory(sentinel_main, launch, launch->stack, 0);
	if (pid < 0) {
		int err = errno;
		close(fds[0]);
		close(fds[1]);
		throw TaskError(syserr("clone", err));
	}
	close(fds[0]);
	/* fds[1] stays open, unused, until pmfit ends: then the sentinel reads
	 * end of file */
	return pid;
}

} /* namespace pmfit */
