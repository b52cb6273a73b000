/*
 * unwinder.h -- the call stack of a thread the caller holds in a ptrace
 * stop, by elfutils' libdw (libdwfl's unwinder), loaded at run time
 *
 * The addon does not link libdw: a machine without it (Debian's libdw1 is
 * the package) still loads the addon and traces; only stacks are missing,
 * and load() says why in one line. libdw reads the CFI of every module
 * (.eh_frame, .debug_frame) from the files /proc/PID/maps names, the
 * registers with PTRACE_GETREGS and the stack with PTRACE_PEEKDATA, so it
 * must run on the thread that is the tracee's tracer (as every Task
 * method does).
 */
#ifndef PMFIT_UNWINDER_H
#define PMFIT_UNWINDER_H

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "remote_ptr.h"

namespace pmfit {

/* UnwoundFrame -- one frame, innermost first: where the thread is (the
 * first frame, and one a signal interrupted) or a return address (caller) */
struct UnwoundFrame {
	RemotePtr pc;
	bool caller;
};

class Unwinder {
public:
	/* load -- dlopen `library` (a soname or a path) and resolve the
	 * functions used; "" when ready, else why not. Once loaded, later
	 * calls answer "" whatever they name. */
	static std::string load(const std::string &library);

	/* stack -- the frames of thread tid of process pid (stopped by the
	 * calling thread), at most `max`; throws TaskError when libdw is not
	 * loaded or cannot read the process (an empty stack is never
	 * returned: the first frame is rip) */
	static std::vector<UnwoundFrame> stack(pid_t pid, pid_t tid, size_t max);
};

} /* namespace pmfit */

#endif /* PMFIT_UNWINDER_H */
