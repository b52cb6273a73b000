/*
 * spawn.h -- start a program under ptrace, stopped at its exec
 */
#ifndef PMFIT_SPAWN_H
#define PMFIT_SPAWN_H

#include <sys/types.h>

#include <string>
#include <vector>

#include "seccomp_filter.h"

namespace pmfit {

struct SpawnOptions {
	std::string file;
	std::vector<std::string> argv;
	std::vector<std::string> env;
	std::string cwd;
	int cpu = -1; /* -1: leave affinity alone */
	int stdin_fd = 0;
	int stdout_fd = 1;
	int stderr_fd = 2;
	/* installed in the child before exec; empty: none */
	SeccompFilter seccomp;
};

/* Spawned -- a child stopped at its exec */
struct Spawned {
	pid_t pid;
	/* the filter's notification listener, pmfit's own fd (close-on-exec);
	 * -1 when the filter has none */
	int listener;
};

/*
 * spawn_traced -- fork, PTRACE_TRACEME, install options.seccomp and execve
 * options.file; the child, stopped at its PTRACE_EVENT_EXEC with pmfit's
 * ptrace options set, and the filter's listener. On failure the child is
 * killed and reaped and TaskError says why in one line (the child's own
 * account of an early death when it has one).
 */
Spawned spawn_traced(const SpawnOptions &options);

/*
 * ptrace_options -- the PTRACE_SETOPTIONS pmfit gives its tracees; with
 * syscall_stops_marked, PTRACE_O_TRACESYSGOOD too (threads.cc sets it once
 * a process has a second thread, whose syscall-stops are switch points)
 */
long ptrace_options(bool syscall_stops_marked);

} /* namespace pmfit */

#endif /* PMFIT_SPAWN_H */
