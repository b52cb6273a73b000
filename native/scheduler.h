/*
 * scheduler.h -- the deterministic thread schedule of a multithreaded
 * tracee: which thread runs next, and when the running one gives way
 *
 * One thread of the program runs at a time (rr's model); the others wait in
 * a ptrace stop. A switch happens only at points that are the same in every
 * run of the program with the same seed: a region's entry or exit, a system
 * call that may block (futex, read, nanosleep, ...) before it enters the
 * kernel, a thread's creation or end, and after a quantum of counted region
 * instructions. Every decision draws from one splitmix64 stream seeded by
 * --schedule-seed, so a recording and its crash replays take the same
 * decisions in the same order. The one exception is a thread that stays in
 * the kernel or at full speed for longer than BLOCK_BOUND_NS (a lock held by
 * a parked thread): it is interrupted and parked, which depends on time only
 * for a thread that would otherwise have waited for another forever.
 *
 * Pure: no ptrace here (the Task's switching is in threads.cc).
 */
#ifndef PMFIT_SCHEDULER_H
#define PMFIT_SCHEDULER_H

#include <cstddef>
#include <cstdint>

namespace pmfit {

/*
 * Wake -- what may end the wait of a thread parked blocked (interrupted
 * after BLOCK_BOUND_NS), weakest first: any run of another thread (a
 * system call that waits for the others' doings: read, poll, ...); a system
 * call of another thread (it computed without one: it works or spins on
 * memory, and lets the thread that stores to PM go on until that one gives
 * way); a futex wake or a thread's end (a futex wait: a mutex, a condition
 * variable, a join)
 */
enum class Wake : uint8_t { AnyRun, Syscall, Futex };

class Scheduler {
public:
	/* BLOCK_BOUND_NS -- how long the running thread may go without a stop
	 * before it is taken to be waiting for a parked one */
	static constexpr int64_t BLOCK_BOUND_NS = 50 * 1000 * 1000;
	/* MAX_QUANTUM -- most counted region instructions between switches */
	static constexpr uint64_t MAX_QUANTUM = 400;

	void
	seed(uint64_t seed)
	{
		state_ = seed;
		quantum_ = 0;
	}

	/* coin -- switch at an optional switch point? */
	bool
	coin()
	{
		return next() & 1;
	}

	/* pick -- one of n candidates */
	size_t
	pick(size_t n)
	{
		return n <= 1 ? 0 : (size_t)(next() % n);
	}

	/* new_quantum -- a switch happened: the next one is due after
	 * 1..MAX_QUANTUM counted instructions */
	void
	new_quantum()
	{
		quantum_ = 1 + next() % MAX_QUANTUM;
	}

	/* tick -- one counted instruction ran; true when the quantum is over */
	bool
	tick()
	{
		if (quantum_ == 0)
			new_quantum();
		return --quantum_ == 0;
	}

	/* may_block -- x86-64 system calls at which a thread gives way: those
	 * that wait for another thread or for time */
	static bool
	may_block(int64_t nr)
	{
		switch (nr) {
		case 0:	  /* read */
		case 7:	  /* poll */
		case 19:  /* readv */
		case 23:  /* select */
		case 24:  /* sched_yield */
		case 34:  /* pause */
		case 35:  /* nanosleep */
		case 43:  /* accept */
		case 45:  /* recvfrom */
		case 47:  /* recvmsg */
		case 61:  /* wait4 */
		case 202: /* futex */
		case 230: /* clock_nanosleep */
		case 232: /* epoll_wait */
		case 247: /* waitid */
		case 270: /* pselect6 */
		case 271: /* ppoll */
		case 281: /* epoll_pwait */
		case 288: /* accept4 */
		case 449: /* futex_waitv */
			return true;
		default:
			return false;
		}
	}

	/* futex_waits -- a futex call (x86-64 202) with operation OP that
	 * waits until another thread wakes it (linux/futex.h: WAIT,
	 * LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2) */
	static bool
	futex_waits(int64_t op)
	{
		switch (op & 0x7f) { /* without FUTEX_PRIVATE_FLAG, CLOCK_REALTIME */
		case 0:
		case 6:
		case 9:
		case 11:
		case 13:
			return true;
		default:
			return false;
		}
	}

private:
	/* next -- splitmix64 */
	uint64_t
	next()
	{
		uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		return z ^ (z >> 31);
	}

	uint64_t state_ = 0;
	uint64_t quantum_ = 0;
};

} /* namespace pmfit */

#endif /* PMFIT_SCHEDULER_H */
