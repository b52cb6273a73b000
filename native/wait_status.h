/*
 * wait_status.h -- what a waitpid status of the tracee means (rr's
 * WaitStatus), and the two ways of waiting for one
 */
#ifndef PMFIT_WAIT_STATUS_H
#define PMFIT_WAIT_STATUS_H

#include <sys/types.h>

#include <cstdint>

namespace pmfit {

class WaitStatus {
public:
	/* Kind -- what the status means for the stepping loops */
	enum class Kind {
		Trap,	   /* a completed step or an int3 */
		Signal,	   /* signal-delivery-stop: value is the signal */
		GroupStop, /* value is the stop signal, already delivered */
		Event,	   /* value is the PTRACE_EVENT_* */
		Exited,	   /* value is the exit code */
		Signaled,  /* value is the killing signal */
	};

	WaitStatus() = default;
	/* classify -- pid is asked (PTRACE_GETSIGINFO) to tell a group-stop
	 * from a signal-delivery-stop */
	static WaitStatus classify(pid_t pid, int status);

	Kind
	kind() const
	{
		return kind_;
	}
	int
	value() const
	{
		return value_;
	}
	/* is_stop -- the tracee is still there, stopped */
	bool
	is_stop() const
	{
		return kind_ != Kind::Exited && kind_ != Kind::Signaled;
	}

private:
	WaitStatus(Kind kind, int value) : kind_(kind), value_(value) {}

	Kind kind_ = Kind::Trap;
	int value_ = 0;
};

/* now_ns -- CLOCK_MONOTONIC in nanoseconds */
int64_t now_ns();

/* wait_blocking -- waitpid(pid) until it reports; throws TaskError */
int wait_blocking(pid_t pid);

/*
 * wait_polling -- wait for a tracee running at full speed, at most until
 * deadline_ns; false when it is still running. Throws TaskError.
 */
bool wait_polling(pid_t pid, int *status, int64_t deadline_ns);

/* reap -- wait for pid to be gone, whatever it reports on the way */
void reap(pid_t pid);

} /* namespace pmfit */

#endif /* PMFIT_WAIT_STATUS_H */
