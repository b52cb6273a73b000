/*
 * task_stack.cc -- Task's side of unwinder.h: the stack of the thread that
 * last stopped, which is the one whose next instruction a stop names
 */
#include "task.h"

namespace pmfit {

std::vector<UnwoundFrame>
Task::stack(size_t max)
{
	check_alive();
	if (phase_ == Phase::Running || phase_ == Phase::FastRunning || in_flight_ != InFlight::None)
		throw TaskError("stack: the tracee is running");
	return Unwinder::stack(tgid_, pid_, max);
}

} /* namespace pmfit */
