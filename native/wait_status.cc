/*
 * wait_status.cc -- WaitStatus and waiting for the tracee
 */
#include "wait_status.h"

#include <sched.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <string>

#include "error.h"
#include "quirks.h"

namespace pmfit {

namespace {

constexpr long POLL_MIN_NS = 20 * 1000;
constexpr long POLL_MAX_NS = 1000 * 1000;
/* YIELD_NS -- how long wait_polling hands the CPU to the tracee with
 * sched_yield before it sleeps. Tracer and tracee share a CPU
 * (cpu_pin.h), and the fast recorder's tracee mostly stops again within
 * microseconds (a fault on PM): a nanosleep of 20 us, which the timer
 * slack makes ~80, cost 0.17 s of a 1.2 s txmap recording with 20 inserts
 * (2,344 waits); yielding first cut it to ~0.03 s. A tracee that runs
 * longer costs at most this much spinning per wait. */
constexpr int64_t YIELD_NS = 200 * 1000;

} /* namespace */

WaitStatus
WaitStatus::classify(pid_t pid, int status)
{
	if (WIFEXITED(status))
		return {Kind::Exited, WEXITSTATUS(status)};
	if (WIFSIGNALED(status))
		return {Kind::Signaled, WTERMSIG(status)};
	/* __WALL without WUNTRACED/WCONTINUED: anything else is a stop */
	PMFIT_ASSERT(WIFSTOPPED(status));
	int event = (status >> 16) & 0xff;
	if (event != 0)
		return {Kind::Event, event};
	int sig = WSTOPSIG(status);
	if (sig == SIGTRAP)
		return {Kind::Trap, sig};
	if (quirks::is_group_stop(pid, sig))
		return {Kind::GroupStop, sig};
	return {Kind::Signal, sig};
}

int64_t
now_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
wait_blocking(pid_t pid)
{
	for (;;) {
		int status;
		pid_t got = waitpid(pid, &status, __WALL);
		if (got == pid)
			return status;
		if (got < 0 && errno != EINTR)
			throw TaskError(syserr("waitpid " + std::to_string(pid), errno));
	}
}

/*
 * waitpid has no timeout and a SIGCHLD handler or signalfd would fight
 * Node's own; a WNOHANG poll with a sleep doubling up to 1 ms costs
 * nothing measurable here because the tracee runs while we sleep.
 */
bool
wait_polling(pid_t pid, int *status, int64_t deadline_ns)
{
	long sleep_ns = POLL_MIN_NS;
	const int64_t yield_until = now_ns() + YIELD_NS;
	for (;;) {
		pid_t got = waitpid(pid, status, __WALL | WNOHANG);
		if (got == pid)
			return true;
		if (got < 0 && errno != EINTR)
			throw TaskError(syserr("waitpid " + std::to_string(pid), errno));
		const int64_t now = now_ns();
		if (now >= deadline_ns)
			return false;
		if (now < yield_until) {
			sched_yield();
			continue;
		}
		struct timespec ts = {0, sleep_ns};
		nanosleep(&ts, nullptr);
		sleep_ns = std::min(sleep_ns * 2, POLL_MAX_NS);
	}
}

void
reap(pid_t pid)
{
	for (;;) {
		int status;
		pid_t got = waitpid(pid, &status, __WALL);
		if (got == pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			return;
		if (got < 0 && errno != EINTR)
			return;
	}
}

} /* namespace pmfit */
