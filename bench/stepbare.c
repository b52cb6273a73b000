/*
 * stepbare.c -- the floor for single-stepping on this machine: the
 * barest loop of PTRACE_SINGLESTEP + waitpid + PTRACE_GETREGS, over the
 * same span that the addon's count mode steps in bench/step.ts
 *
 * usage: stepbare CPU ADDRESS PROGRAM [ARGS...]
 *
 * Runs PROGRAM pinned (with this process) to CPU, with ASLR off, at full
 * speed to an int3 at ADDRESS (hex, a function entry), then single-steps
 * until that call has returned (rsp back above the return address and rip
 * at it), exactly the region of `--function` in the addon. Prints
 * "steps N us_per_step X".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static int
wait_stop(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, __WALL) != pid)
		die("waitpid");
	if (!WIFSTOPPED(status)) {
		fprintf(stderr, "stepbare: tracee ended early (status 0x%x)\n", status);
		exit(2);
	}
	return status;
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: stepbare CPU ADDRESS PROGRAM [ARGS...]\n");
		return 2;
	}
	int cpu = atoi(argv[1]);
	uint64_t addr = strtoull(argv[2], NULL, 16);
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		die("sched_setaffinity");

	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		personality(ADDR_NO_RANDOMIZE);
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	wait_stop(pid);
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC));
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	wait_stop(pid); /* exec */

	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)(addr & ~7ul), NULL);
	if (errno)
		die("PTRACE_PEEKTEXT");
	unsigned shift = (addr & 7) * 8;
	long patched = (word & ~(0xffl << shift)) | (0xccl << shift);
	ptrace(PTRACE_POKETEXT, pid, (void *)(addr & ~7ul), (void *)patched);
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	wait_stop(pid); /* the int3 */

	struct user_regs_struct regs;
	ptrace(PTRACE_GETREGS, pid, NULL, &regs);
	regs.rip -= 1;
	ptrace(PTRACE_SETREGS, pid, NULL, &regs);
	ptrace(PTRACE_POKETEXT, pid, (void *)(addr & ~7ul), (void *)word);
	uint64_t entry_rsp = regs.rsp;
	uint64_t ret = (uint64_t)ptrace(PTRACE_PEEKDATA, pid, (void *)regs.rsp, NULL);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long steps = 0;
	for (;;) {
		int status;
		ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL);
		waitpid(pid, &status, __WALL);
		if (!WIFSTOPPED(status))
			break;
		ptrace(PTRACE_GETREGS, pid, NULL, &regs);
		steps++;
		if (regs.rsp == entry_rsp + 8 && regs.rip == ret)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);

	double us = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
	printf("steps %lu us_per_step %.3f\n", steps, steps ? us / steps : 0.0);
	return 0;
}
