/*
 * quirks.h -- kernel and CPU behaviour the stepping loop depends on, each in
 * one named function with the evidence for it
 *
 * Measured on this project's machines (Linux 6.18 x86-64, 2 vCPUs) with the
 * fixtures in tests/fixtures; the kernel source references are to
 * arch/x86/kernel/signal.c and kernel/signal.c.
 */
#ifndef PMFIT_QUIRKS_H
#define PMFIT_QUIRKS_H

#include <cpuid.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cerrno>

#include "remote_ptr.h"

namespace pmfit {
namespace quirks {

/*
 * signal_has_handler -- whether delivering sig runs a handler in the tracee
 *
 * Delivering a caught signal with PTRACE_SINGLESTEP does not execute an
 * instruction: handle_signal() builds the signal frame and, because the
 * thread was single-stepping, reports a SIGTRAP with rip at the handler's
 * first instruction (measured here: PTRACE_SINGLESTEP with SIGUSR1 stopped
 * with SIGTRAP and rip == the handler's address; the next step executed the
 * handler's first instruction). That stop must not be counted. An
 * ignored or default-action signal injected with the step lets the current
 * instruction run normally. The kernel offers no ptrace request for another
 * task's dispositions; /proc/PID/status SigCgt is the caught set.
 */
inline bool
signal_has_handler(pid_t pid, int sig)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[256];
	unsigned long long caught = 0;
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "SigCgt:", 7) == 0) {
			found = sscanf(line + 7, "%llx", &caught) == 1;
			break;
		}
	}
	fclose(f);
	return found && sig >= 1 && sig <= 64 && (caught >> (sig - 1)) & 1;
}

/*
 * signal_frame_bound -- how many bytes from the handler's stack pointer up
 * the kernel may have written when it delivered a signal to a handler
 *
 * get_sigframe() takes the stack's top (the alternate stack's end, or rsp
 * less the 128-byte red zone), puts the xsave area below it (64-byte
 * aligned, with a 4-byte magic after it) and struct rt_sigframe below that
 * (16-byte aligned, less 8), and enters the handler with rsp at the frame.
 * AT_MINSIGSTKSZ is the kernel's own bound for that (Linux 5.14+); CPUID
 * leaf 0xD EBX is the xsave area's size for every feature enabled in XCR0,
 * AMX included, which also covers kernels without the auxv entry and a
 * process that asks for AMX later. 1024 is more than the rest: struct
 * rt_sigframe (440 bytes) and the paddings (at most 23 + 63 + 4).
 * Measured here: EBX 11008 (AMX), AT_MINSIGSTKSZ 11952; the bound 12032.
 * The tracer's own auxv serves: the value is the kernel's and the CPU's,
 * the same for every process.
 */
inline uint64_t
signal_frame_bound()
{
	unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
	const uint64_t xsave = __get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx) ? ebx : 4096;
	return std::max<uint64_t>(xsave + 1024, getauxval(AT_MINSIGSTKSZ));
}

/*
 * is_group_stop -- whether a stop with a stop signal is a group-stop
 *
 * A tracee attached with PTRACE_TRACEME (not PTRACE_SEIZE) reports a
 * group-stop like a signal-delivery-stop, with the stop signal; only
 * PTRACE_GETSIGINFO tells them apart, failing with EINVAL for a group-stop
 * (ptrace(2), "Group-stop"). The signal of a group-stop was already delivered
 * and must not be injected again.
 */
inline bool
is_group_stop(pid_t pid, int sig)
{
	if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		return false;
	siginfo_t si;
	return ptrace(PTRACE_GETSIGINFO, pid, nullptr, &si) == -1 && errno == EINVAL;
}

/*
 * sigtrap_is_programs -- whether the SIGTRAP stop after a single step is
 * (also) a SIGTRAP of the program's own, not just the step's trap
 *
 * SIGTRAP is a standard signal, pending at most once: when the stepped
 * instruction raises one (raise(SIGTRAP) is tgkill; int3 and int n trap),
 * the step's own trap merges into it and a single stop is reported, with
 * the program's siginfo. Measured (sigtrap_in_region, PTRACE_GETSIGINFO
 * after each step of a syscall or int instruction): raise(SIGTRAP)'s
 * syscall stopped with si_code SI_TKILL (-6) and si_pid the tracee's;
 * int3 with SI_KERNEL (128); every other syscall (rt_sigprocmask,
 * rt_sigreturn) with TRAP_BRKPT (1), the kernel's report of a step over a
 * syscall. pmfit's own int3 under a stepped instruction is lifted before
 * the step (breakpoints.h), so SI_KERNEL here is the program's.
 */
inline bool
sigtrap_is_programs(pid_t pid)
{
	siginfo_t si;
	if (ptrace(PTRACE_GETSIGINFO, pid, nullptr, &si) != 0)
		return false;
	return si.si_code <= 0 || si.si_code == SI_KERNEL;
}

/*
 * sigtrap_from_int3 -- whether a SIGTRAP stop of a tracee running at full
 * speed came from an int3 it ran (si_code SI_KERNEL, as measured above),
 * not from a kill() or tgkill() of SIGTRAP (si_code <= 0) that happened to
 * stop it just past one of pmfit's int3s
 */
inline bool
sigtrap_from_int3(pid_t pid)
{
	siginfo_t si;
	return ptrace(PTRACE_GETSIGINFO, pid, nullptr, &si) == 0 && si.si_code == SI_KERNEL;
}

/*
 * may_change_code -- whether system call nr can unmap, remap or rewrite
 * executable code: flush traps are taken out before it runs and their
 * sites found again (breakpoints.h). mmap and mremap can map over code
 * (MAP_FIXED), mprotect can make it writable, madvise(MADV_DONTNEED) drops
 * a private page with its int3s, process_vm_writev and ptrace write it,
 * shmat/shmdt and remap_file_pages map, execve replaces everything.
 */
inline bool
may_change_code(int64_t nr)
{
	switch (nr) {
	case 9:	  /* mmap */
	case 10:  /* mprotect */
	case 11:  /* munmap */
	case 25:  /* mremap */
	case 28:  /* madvise */
	case 30:  /* shmat */
	case 59:  /* execve */
	case 67:  /* shmdt */
	case 101: /* ptrace */
	case 216: /* remap_file_pages */
	case 311: /* process_vm_writev */
	case 322: /* execveat */
	case 329: /* pkey_mprotect */
		return true;
	default:
		return false;
	}
}

/*
 * syscall_insn -- the syscall instruction that caused a PTRACE_EVENT stop
 *
 * Fork, clone and exec events stop the tracee inside the syscall, with rip
 * already past the 2-byte `syscall` (0f 05); reports name the instruction.
 */
inline RemotePtr
syscall_insn(uint64_t rip)
{
	return RemotePtr(rip - 2);
}

/*
 * rep_iterations_trap -- documentation only: a `rep stos`/`rep movs` under
 * TF traps after every iteration, also with fast-string operation enabled
 * (count_asm: 37 iterations of rep stosb are 37 steps, rdi advancing one
 * element per step). The recorder relies on it by deriving each iteration's
 * written range from rdi before and after the step.
 */

/*
 * sigchld_left_alone -- documentation only: the stepping thread does NOT
 * block SIGCHLD, although every ptrace stop sends the tracer one and Node
 * handles it (libuv installs a handler once child_process is used).
 * Blocked on this thread, the signal is queued even while its disposition
 * is "ignore" and wakes another Node thread, on the pinned CPU, at every
 * step: perf stat counted ~2.9 context switches per step instead of 2.0
 * (bench/spin, 480k steps). Left alone, the handler runs in this thread
 * on the way out of waitpid and costs nothing measurable (same task-clock
 * and switches as bench/stepbare).
 */

} /* namespace quirks */
} /* namespace pmfit */

#endif /* PMFIT_QUIRKS_H */
