/*
 * seccomp_filter.cc -- building and installing the tracee's seccomp filter
 */
#include "seccomp_filter.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace pmfit {

namespace {

constexpr uint32_t X32_SYSCALL_BIT = 0x40000000;

sock_filter
stmt(uint16_t code, uint32_t k)
{
	return sock_filter{code, 0, 0, k};
}

sock_filter
jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	return sock_filter{code, jt, jf, k};
}

uint32_t
return_value(const SyscallRule &rule)
{
	return rule.action == SyscallAction::Notify ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_TRACE | rule.data;
}

/*
 * add_rule -- "if nr matches (and the flags argument has a masked bit),
 * return the action"; the accumulator holds the syscall number before and
 * after. Every jump is short and forward.
 */
void
add_rule(std::vector<sock_filter> *out, const SyscallRule &rule)
{
	if (rule.flags_arg < 0) {
		out->push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, rule.nr, 0, 1));
		out->push_back(stmt(BPF_RET | BPF_K, return_value(rule)));
		return;
	}
	/* low half of args[flags_arg] (little-endian) */
	uint32_t arg = offsetof(seccomp_data, args) + 8 * (uint32_t)rule.flags_arg;
	out->push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, rule.nr, 0, 4));
	out->push_back(stmt(BPF_LD | BPF_W | BPF_ABS, arg));
	out->push_back(jump(BPF_JMP | BPF_JSET | BPF_K, rule.flags_mask, 0, 1));
	out->push_back(stmt(BPF_RET | BPF_K, return_value(rule)));
	out->push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
}

/* add_arch -- the block of rules of one architecture */
void
add_arch(std::vector<sock_filter> *out, uint32_t arch, const std::vector<SyscallRule> &rules)
{
	std::vector<sock_filter> block;
	block.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
	if (arch == AUDIT_ARCH_X86_64)
		block.push_back(stmt(BPF_ALU | BPF_AND | BPF_K, ~X32_SYSCALL_BIT));
	for (const SyscallRule &rule : rules) {
		if (rule.arch == arch)
			add_rule(&block, rule);
	}
	block.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	/* "if arch matches run the block, else jump past it" (ja: 32-bit offset) */
	out->push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
	out->push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0));
	out->push_back(stmt(BPF_JMP | BPF_JA, (uint32_t)block.size()));
	out->insert(out->end(), block.begin(), block.end());
}

} /* namespace */

SeccompFilter
build_seccomp_filter(const std::vector<SyscallRule> &rules)
{
	SeccompFilter filter;
	if (rules.empty())
		return filter;
	for (uint32_t arch : {(uint32_t)AUDIT_ARCH_X86_64, (uint32_t)AUDIT_ARCH_I386})
		add_arch(&filter.program, arch, rules);
	filter.program.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	for (const SyscallRule &rule : rules)
		filter.wants_listener |= rule.action == SyscallAction::Notify;
	return filter;
}

int
install_seccomp_filter(const SeccompFilter &filter)
{
	if (filter.program.empty())
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	sock_fprog prog;
	prog.len = (unsigned short)filter.program.size();
	prog.filter = const_cast<sock_filter *>(filter.program.data());
	unsigned long flags = filter.wants_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long got = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (got < 0)
		return -1;
	return filter.wants_listener ? (int)got : 0;
}

} /* namespace pmfit */
