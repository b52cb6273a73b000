/*
 * cpu_pin.cc -- CpuPin: sched_setaffinity of the tracer thread, counted
 * per thread
 */
#include "cpu_pin.h"

#include <sched.h>

#include "error.h"

namespace pmfit {

namespace {

thread_local int pin_count;
thread_local cpu_set_t pin_saved;

} /* namespace */

bool
CpuPin::acquire(int cpu)
{
	PMFIT_ASSERT(!pinned_);
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return false;
	if (pin_count == 0 && sched_getaffinity(0, sizeof(pin_saved), &pin_saved) != 0)
		return false;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		return false;
	++pin_count;
	pinned_ = true;
	return true;
}

void
CpuPin::release()
{
	if (!pinned_)
		return;
	pinned_ = false;
	if (pin_count > 0 && --pin_count == 0)
		sched_setaffinity(0, sizeof(pin_saved), &pin_saved);
}

} /* namespace pmfit */
