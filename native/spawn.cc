/*
 * spawn.cc -- the traced child from fork to its exec stop
 */
#include "spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "fixed_random.h"
#include "quirks.h"
#include "shared_clone.h"
#include "wait_status.h"

namespace pmfit {

namespace {

/* Start-up failures of the child, sent through a close-on-exec pipe. */
enum ChildStage : int { STAGE_FDS = 1, STAGE_CHDIR, STAGE_TRACEME, STAGE_SECCOMP, STAGE_EXEC };

struct ChildFailure {
	int stage;
	int err;
};

[[noreturn]] void
child_fail(int report_fd, int stage)
{
	ChildFailure failure = {stage, errno};
	ssize_t ignored = write(report_fd, &failure, sizeof(failure));
	(void)ignored;
	_exit(127);
}

/* ChildArgs -- what the child reads, in the memory it shares with pmfit */
struct ChildArgs {
	const SpawnOptions *options;
	char *const *argv;
	char *const *envp;
	int report_fd;
	int listener_fd;
};

/*
 * run_child -- the child up to execve, on pmfit's memory (shared_clone.h):
 * its own stack written, nothing else, and errno only on the way to
 * child_fail
 */
[[noreturn]] void
run_child(const SpawnOptions &options, char *const argv[], char *const envp[], int report_fd, int listener_fd)
{
	/* Node ignores SIGPIPE and installs handlers; the target starts with
	 * default dispositions and nothing blocked, as uv_spawn's children do.
	 * Every signal is blocked until then (shared_clone.h). glibc refuses its own
	 * SIGCANCEL and SIGSETXID (32, 33; EINVAL) and exec resets a caught
	 * signal anyway. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP && sig != 32 && sig != 33)
			sigaction(sig, &dfl, nullptr);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, nullptr);

	/* Own process group: Ctrl-C at the terminal reaches the harness,
	 * which kills the tracee, never the tracee directly. */
	setpgid(0, 0);

	int persona = personality(0xffffffff);
	if (persona != -1)
		personality((unsigned long)persona | ADDR_NO_RANDOMIZE);

	if (options.cpu >= 0 && options.cpu < CPU_SETSIZE) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(options.cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}

	/* Through copies above 2 so that a source fd that is itself 0, 1
	 * or 2 is not overwritten before it is used. */
	int from[3] = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
	int copy[3];
	for (int i = 0; i < 3; i++) {
		copy[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 3);
		if (copy[i] < 0)
			child_fail(report_fd, STAGE_FDS);
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(copy[i], i) < 0)
			child_fail(report_fd, STAGE_FDS);
	}

	if (chdir(options.cwd.c_str()) != 0)
		child_fail(report_fd, STAGE_CHDIR);
	if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0)
		child_fail(report_fd, STAGE_TRACEME);
	/* Last, so that only the program runs under it. The parent takes a
	 * copy of the listener while the child stands at the SIGSTOP; the
	 * program never holds it (a process answering its own notifications
	 * would pass the guard). */
	int listener = install_seccomp_filter(options.seccomp);
	if (listener < 0)
		child_fail(report_fd, STAGE_SECCOMP);
	if (listener > 0 && write(listener_fd, &listener, sizeof(listener)) != (ssize_t)sizeof(listener))
		child_fail(report_fd, STAGE_SECCOMP);
	raise(SIGSTOP);
	if (listener > 0)
		close(listener);
	execve(options.file.c_str(), argv, envp);
	child_fail(report_fd, STAGE_EXEC);
}

int
child_main(void *arg)
{
	const ChildArgs &a = *static_cast<const ChildArgs *>(arg);
	run_child(*a.options, a.argv, a.envp, a.report_fd, a.listener_fd);
}

/* early_death -- the child's own account of dying before its exec */
std::string
early_death(const SpawnOptions &options, int report_fd, int status)
{
	ChildFailure failure;
	ssize_t got;
	do
		got = read(report_fd, &failure, sizeof(failure));
	while (got < 0 && errno == EINTR);
	if (got == (ssize_t)sizeof(failure)) {
		switch (failure.stage) {
		case STAGE_EXEC:
			return syserr("exec " + options.file + " failed", failure.err);
		case STAGE_CHDIR:
			return syserr("chdir " + options.cwd + " failed", failure.err);
		case STAGE_TRACEME:
			return syserr("PTRACE_TRACEME failed", failure.err);
		case STAGE_SECCOMP:
			return syserr("installing the seccomp filter failed", failure.err);
		default:
			return syserr("cannot set up stdin/stdout/stderr for " + options.file, failure.err);
		}
	}
	if (WIFSIGNALED(status))
		return options.file + " was killed by signal " + std::to_string(WTERMSIG(status)) + " before exec";
	return options.file + " exited before exec";
}

/* ChildDied -- the child is gone (already reaped): nothing to kill */
struct ChildDied {
	std::string why;
};

/*
 * take_listener -- a copy of the child's listener fd, whose number the
 * child wrote to listener_fd before its SIGSTOP; -1 without a listener
 */
int
take_listener(const SpawnOptions &options, pid_t pid, int listener_fd)
{
	if (!options.seccomp.wants_listener)
		return -1;
	int number;
	if (read(listener_fd, &number, sizeof(number)) != (ssize_t)sizeof(number))
		throw TaskError("the child did not report its seccomp listener");
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		throw TaskError(syserr("pidfd_open", errno));
	int listener = (int)syscall(SYS_pidfd_getfd, pidfd, number, 0);
	int err = errno;
	close(pidfd);
	if (listener < 0)
		throw TaskError(syserr("pidfd_getfd of the seccomp listener", err));
	return listener;
}

/* to_exec -- from the child's SIGSTOP to its PTRACE_EVENT_EXEC stop */
void
to_exec(const SpawnOptions &options, pid_t pid, int report_fd, int listener_fd, int *listener)
{
	int status = wait_blocking(pid);
	if (!WIFSTOPPED(status))
		throw ChildDied{early_death(options, report_fd, status)};
	*listener = take_listener(options, pid, listener_fd);
	if (ptrace(PTRACE_SETOPTIONS, pid, nullptr, (void *)ptrace_options(false)) != 0)
		throw TaskError(syserr("PTRACE_SETOPTIONS", errno));
	int sig = 0;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, nullptr, (void *)(long)sig) != 0)
			throw TaskError(syserr("PTRACE_CONT", errno));
		status = wait_blocking(pid);
		if (WIFEXITED(status) || WIFSIGNALED(status))
			throw ChildDied{early_death(options, report_fd, status)};
		if ((status >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
			return;
		/* a signal sent to the new process before it ran: pass it on */
		sig = WSTOPSIG(status) == SIGTRAP || (status >> 16) != 0 ? 0 : WSTOPSIG(status);
		if (quirks::is_group_stop(pid, sig))
			sig = 0;
	}
}

} /* namespace */

long
ptrace_options(bool syscall_stops_marked)
{
	long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACECLONE;
	return syscall_stops_marked ? opts | PTRACE_O_TRACESYSGOOD : opts;
}

Spawned
spawn_traced(const SpawnOptions &options)
{
	if (options.argv.empty())
		throw TaskError("argv must not be empty");
	std::vector<char *> argv;
	for (const std::string &arg : options.argv)
		argv.push_back(const_cast<char *>(arg.c_str()));
	argv.push_back(nullptr);
	std::vector<char *> envp;
	for (const std::string &var : options.env)
		envp.push_back(const_cast<char *>(var.c_str()));
	envp.push_back(nullptr);

	int report[2];
	if (pipe2(report, O_CLOEXEC) != 0)
		throw TaskError(syserr("pipe", errno));
	int listener_report[2];
	if (pipe2(listener_report, O_CLOEXEC) != 0) {
		int err = errno;
		close(report[0]);
		close(report[1]);
		throw TaskError(syserr("pipe", err));
	}
	auto close_reads = [&]() {
		close(report[0]);
		close(listener_report[0]);
	};
	/* Not CLONE_VFORK: the child stops for this thread before its exec.
	 * Declared before the child, the stack is unmapped once it is gone or
	 * has exec'd (every way out below). */
	CloneStack stack;
	ChildArgs args = {&options, argv.data(), envp.data(), report[1], listener_report[1]};
	pid_t pid = clone_sharing_memory(child_main, &args, stack, 0);
	if (pid < 0) {
		int err = errno;
		close_reads();
		close(report[1]);
		close(listener_report[1]);
		throw TaskError(syserr("clone", err));
	}
	close(report[1]);
	close(listener_report[1]);
	int listener = -1;
	try {
		to_exec(options, pid, report[0], listener_report[0], &listener);
		fix_at_random(pid);
	} catch (const ChildDied &died) {
		close_reads();
		if (listener >= 0)
			close(listener);
		throw TaskError(died.why);
	} catch (...) {
		close_reads();
		if (listener >= 0)
			close(listener);
		::kill(pid, SIGKILL);
		reap(pid);
		throw;
	}
	close_reads();
	return Spawned{pid, listener};
}

} /* namespace pmfit */
