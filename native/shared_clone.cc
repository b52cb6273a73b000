/*
 * shared_clone.cc -- start a child process that shares pmfit's memory
 */
#include "shared_clone.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <cerrno>

namespace pmfit {

namespace {

/* STACK_SIZE -- the child's frames and glibc's (install_seccomp_filter,
 * system call wrappers) take a few KiB */
constexpr size_t STACK_SIZE = 256 * 1024;

} /* namespace */

CloneStack::CloneStack()
    : base_(mmap(nullptr, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0))
{
}

CloneStack::~CloneStack()
{
	if (base_ != MAP_FAILED)
		munmap(base_, STACK_SIZE);
}

bool
CloneStack::ok() const
{
	return base_ != MAP_FAILED;
}

void *
CloneStack::top() const
{
	return static_cast<char *>(base_) + STACK_SIZE;
}

pid_t
clone_sharing_memory(int (*fn)(void *), void *arg, const CloneStack &stack, int flags)
{
	if (!stack.ok()) {
		errno = ENOMEM;
		return -1;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = clone(fn, stack.top(), CLONE_VM | flags | SIGCHLD, arg);
	int err = errno;
	pthread_sigmask(SIG_SETMASK, &old, nullptr);
	errno = err;
	return pid;
}

} /* namespace pmfit */
