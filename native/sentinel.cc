/*
 * sentinel.cc -- fork and exec the sentinel process
 */
#include "sentinel.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "error.h"

namespace pmfit {

namespace {

/* run_sentinel -- the forked child; async-signal-safe calls only */
[[noreturn]] void
run_sentinel(const char *file, char *const argv[], char *const envp[], int read_fd)
{
	setsid();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, nullptr);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(read_fd, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	syscall(SYS_close_range, 3, UINT_MAX, 0);
	execve(file, argv, envp);
	_exit(127);
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
	std::vector<char *> args = c_strings(argv);
	std::vector<char *> envp = c_strings(env);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		throw TaskError(syserr("pipe", errno));
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(fds[0]);
		close(fds[1]);
		throw TaskError(syserr("fork", err));
	}
	if (pid == 0)
		run_sentinel(file.c_str(), args.data(), envp.data(), fds[0]);
	close(fds[0]);
	/* fds[1] stays open, unused, until pmfit ends: then the sentinel reads
	 * end of file */
	return pid;
}

} /* namespace pmfit */
