/*
 * cpu_pin.h -- the tracer thread pinned to the tracee's CPU
 *
 * Tracer and tracee share one CPU: a single step costs ~19 us then, ~60 us
 * with the two on different CPUs (measured on this project's machines).
 * The calling thread's own affinity is saved by the first live pin of the
 * thread and given back by the last one.
 */
#ifndef PMFIT_CPU_PIN_H
#define PMFIT_CPU_PIN_H

namespace pmfit {

class CpuPin {
public:
	CpuPin() = default;
	~CpuPin() { release(); }
	CpuPin(const CpuPin &) = delete;
	CpuPin &operator=(const CpuPin &) = delete;

	/* acquire -- pin the calling thread to cpu (< 0: leave it alone);
	 * false, and nothing changed, when that is not possible */
	bool acquire(int cpu);
	/* release -- undo acquire; nothing when not pinned */
	void release();
	bool
	pinned() const
	{
		return pinned_;
	}

private:
	bool pinned_ = false;
};

} /* namespace pmfit */

#endif /* PMFIT_CPU_PIN_H */
