/*
 * stop.h -- what Task::resume() is asked to do (ResumeOptions) and why it
 * returned (Stop)
 *
 * The kinds are the contract with harness/tracer/native.ts NativeStop;
 * change them together (binding.cc names them).
 */
#ifndef PMFIT_STOP_H
#define PMFIT_STOP_H

#include <cstdint>
#include <vector>

#include "remote_ptr.h"

namespace pmfit {

struct ResumeOptions {
	int64_t stop_at = -1;	/* < 0: never */
	int64_t max_steps = -1; /* < 0: no limit */
	int64_t budget = 0;	/* <= 0: no limit */
	bool record = false;
	/* record mode: run the region at full speed between PM accesses
	 * (fast_region.cc) */
	bool fast = false;
	/* a tracee running free outside regions is looked at once: `yield`
	 * when it has not stopped, so that JavaScript works meanwhile (the
	 * recorder's preload); the tracer thread leaves the tracee's CPU
	 * (cpu_pin.h) until the tracee stops */
	bool poll = false;
};

enum class StopKind {
	Exited,
	Signaled,
	StopAt,
	MaxSteps,
	Yield,
	Blocked,
	Decode,
	Syscall,
	SyscallDone,
	RegionBegin,
	RegionEnd,
	Buffer,
	Unsupported,
};

/* Stop -- why resume() or step_syscall() returned; which fields mean
 * something depends on kind, as in native.ts NativeStop */
struct Stop {
	StopKind kind = StopKind::Yield;
	uint64_t index = 0;
	int code = 0;		    /* Exited */
	int signal = 0;		    /* Signaled */
	bool in_region = false;	    /* Exited, Signaled, Yield, Blocked, Unsupported */
	RemotePtr address;	    /* Signaled, MaxSteps, Decode, Syscall, Unsupported */
	std::vector<uint8_t> bytes; /* Decode */
	bool ahead = false;	    /* Decode: code ahead for the fence hunt (Task::set_flows) */
	int64_t nr = 0;		    /* Syscall */
	int64_t args[6] = {0, 0, 0, 0, 0, 0};
	int64_t result = 0;    /* SyscallDone */
	const char *what = ""; /* Unsupported: fork, vfork, clone, exec */
	uint32_t thread = 0;   /* the running thread's number: 0 is the leader */
};

} /* namespace pmfit */

#endif /* PMFIT_STOP_H */
