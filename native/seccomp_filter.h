/*
 * seccomp_filter.h -- one classic-BPF seccomp filter for the traced child,
 * built from rules before fork and installed between fork and exec
 *
 * Several parts of pmfit want a say in the tracee's syscalls (the user-file
 * guard's notifications, a recorder's trace stops): each contributes
 * SyscallRules and spawn installs one filter made of all of them, so that
 * the kernel evaluates one program per syscall. The filter is inherited by
 * every process the program forks and survives exec.
 */
#ifndef PMFIT_SECCOMP_FILTER_H
#define PMFIT_SECCOMP_FILTER_H

#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace pmfit {

/* SyscallAction -- what the filter returns for a matching syscall */
enum class SyscallAction {
	Notify, /* SECCOMP_RET_USER_NOTIF: the listener's supervisor decides */
	Trace,	/* SECCOMP_RET_TRACE | data: a PTRACE_EVENT_SECCOMP stop (ENOSYS without a tracer) */
};

/* SyscallRule -- match one syscall of one architecture */
struct SyscallRule {
	uint32_t arch; /* AUDIT_ARCH_X86_64 or AUDIT_ARCH_I386 (int 0x80 from 64-bit code) */
	uint32_t nr;   /* syscall number in that architecture's table */
	SyscallAction action;
	uint16_t data = 0; /* SECCOMP_RET_DATA for Trace */
	/*
	 * With flags_arg >= 0, the rule matches only when the low 32 bits of
	 * argument flags_arg have a bit of flags_mask set (open's flags: a
	 * read-only open costs no notification).
	 */
	int flags_arg = -1;
	uint32_t flags_mask = 0;
};

/* SeccompFilter -- a built program, ready to install in a forked child */
struct SeccompFilter {
	std::vector<sock_filter> program; /* empty: nothing to install */
	bool wants_listener = false;	  /* a rule notifies: install with NEW_LISTENER */
};

/*
 * build_seccomp_filter -- one program for every rule; other syscalls, and
 * syscalls of other architectures, are allowed. On x86-64 the x32 bit of
 * the number is ignored (the same call through the x32 table).
 */
SeccompFilter build_seccomp_filter(const std::vector<SyscallRule> &rules);

/*
 * install_seccomp_filter -- in the forked child (async-signal-safe):
 * PR_SET_NO_NEW_PRIVS, which lets an unprivileged process install a
 * filter, then the filter. Returns the listener fd (close-on-exec) when
 * the filter wants one, 0 when it does not, -1 with errno on failure.
 */
int install_seccomp_filter(const SeccompFilter &filter);

} /* namespace pmfit */

#endif /* PMFIT_SECCOMP_FILTER_H */
