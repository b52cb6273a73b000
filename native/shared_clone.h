/*
 * shared_clone.h -- start a child process that shares pmfit's memory until
 * its execve
 *
 * fork() of pmfit's Node process (~100 MiB, several threads) copies its page
 * tables and leaves every page copy-on-write behind it: the parent's clone
 * took 1.5-1.9 ms under `strace -T`, and each page pmfit wrote afterwards
 * (the garbage collector's, the recording's) faulted once more, each fault
 * an exit to the hypervisor on a virtual machine. A child made with
 * CLONE_VM runs on pmfit's memory instead, on a stack of its own, and gets
 * its own memory at its exec: nothing is copied.
 *
 * The child shares more than memory: the thread-local errno of the thread
 * that cloned it (errno is written only when a call fails), and pmfit's
 * signal handlers' code (so it starts with every signal blocked). It must
 * write nothing but its own stack, and call only async-signal-safe
 * functions, until its exec.
 */
#ifndef PMFIT_SHARED_CLONE_H
#define PMFIT_SHARED_CLONE_H

#include <sys/types.h>

#include <cstddef>

namespace pmfit {

/* CloneStack -- a child's stack; unmap it only once the child has exec'd
 * or is gone */
class CloneStack {
public:
	CloneStack();
	~CloneStack();
	CloneStack(const CloneStack &) = delete;
	CloneStack &operator=(const CloneStack &) = delete;
	bool ok() const;
	void *top() const;

private:
	void *base_;
};

/*
 * clone_sharing_memory -- clone(CLONE_VM | flags | SIGCHLD) running fn(arg)
 * on stack, with every signal blocked in this thread across the clone (the
 * child starts with that mask); flags 0 or CLONE_VFORK (this thread waits
 * until the child has exec'd or exited). The pid, -1 with errno.
 */
pid_t clone_sharing_memory(int (*fn)(void *), void *arg, const CloneStack &stack, int flags);

} /* namespace pmfit */

#endif /* PMFIT_SHARED_CLONE_H */
