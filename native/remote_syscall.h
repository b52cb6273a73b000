/*
 * remote_syscall.h -- make a stopped tracee run one system call of the
 * tracer's choosing, as if its own code had made it
 *
 * Some kernel objects can only be created by the process they belong to:
 * a userfaultfd watches the memory of the process that opened it
 * (written_pages.h). The tracer borrows the tracee for one `syscall`
 * instruction at its current rip, then puts back the code and every
 * register, so the program cannot tell it happened.
 */
#ifndef PMFIT_REMOTE_SYSCALL_H
#define PMFIT_REMOTE_SYSCALL_H

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace pmfit {

/*
 * remote_syscall -- system call nr with args, run by the tracee pid, which
 * must be in a ptrace-stop with no step in flight; the raw result (-errno
 * on failure). A signal whose delivery stopped the tracee meanwhile is not
 * delivered: it is appended to *signals for the caller to inject with its
 * next resume. Throws TaskError when the tracee dies or ptrace fails.
 */
int64_t remote_syscall(pid_t pid, long nr, const std::vector<uint64_t> &args, std::vector<int> *signals);

} /* namespace pmfit */

#endif /* PMFIT_REMOTE_SYSCALL_H */
