/*
 * task_written_pages.cc -- Task's side of written_pages.h: the userfaultfd
 * is made by the tracee at a stop, once, and signals that arrive while it
 * runs that one system call are delivered later, as any signal is
 */
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "quirks.h"
#include "task.h"

namespace pmfit {

bool
Task::watch_writes(const std::vector<RemotePtr> &bounds)
{
	check_alive();
	PMFIT_ASSERT(bounds.size() % 2 == 0);
	if (phase_ == Phase::Running || in_flight_ != InFlight::None)
		throw TaskError("watchWrites: the tracee is running");
	if (!written_pages_tried_) {
		written_pages_tried_ = true;
		std::vector<int> signals;
		written_pages_.open(pid_, tgid_, &signals);
		for (int sig : signals) {
			if (pending_sig_ == 0) {
				pending_sig_ = sig;
				pending_caught_ = quirks::signal_has_handler(pid_, sig);
			} else {
				/* one slot: the others are sent again */
				syscall(SYS_tgkill, pid_, pid_, sig);
			}
		}
	}
	if (!written_pages_.active())
		return false;
	for (size_t i = 0; i < bounds.size(); i += 2)
		written_pages_.watch(bounds[i], bounds[i + 1]);
	return true;
}

std::vector<RemotePtr>
Task::take_written_pages(RemotePtr start, RemotePtr end)
{
	check_alive();
	if (!written_pages_.active())
		throw TaskError("takeWrittenPages: no pages are watched");
	return written_pages_.take(start, end);
}

} /* namespace pmfit */
