/*
 * threads.cc -- the threads of a traced process: adopting new ones, parking
 * all but one, and the switch points of the deterministic schedule
 * (scheduler.h)
 *
 * A program with one thread never reaches this file's decisions: multi()
 * is false until a clone, and every hook returns at once. From the first
 * clone on, every thread of the process is traced (PTRACE_O_TRACECLONE
 * attaches it); the one that runs has its state in Task's own fields and
 * the others wait in a ptrace stop as Parked records. Outside regions the
 * running thread is resumed with PTRACE_SYSCALL instead of PTRACE_CONT, so
 * that a system call that may block is a switch point; inside regions it is
 * single-stepped as before and the quantum counts its steps.
 */
#include "task.h"

#include <sys/ptrace.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "spawn.h"

namespace pmfit {

namespace {

/* stat_of -- /proc/TGID/task/TID/status, "" when the thread is gone */
std::string
status_of(pid_t tgid, pid_t tid)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)tgid, (int)tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return "";
	std::string text;
	char buf[1024];
	size_t got;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		text.append(buf, got);
	fclose(f);
	return text;
}

/* field -- the value of "Name:\tvalue" in a status text */
std::string
field(const std::string &status, const char *name)
{
	const std::string key = std::string("\n") + name + ":";
	size_t at = status.find(key);
	if (at == std::string::npos)
		return "";
	at += key.size();
	while (at < status.size() && (status[at] == '\t' || status[at] == ' '))
		at++;
	size_t end = status.find('\n', at);
	return status.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

/*
 * dying -- the thread is on its way out: gone, a zombie, or with SIGKILL
 * pending (exit_group() and fatal signals give every other thread of the
 * group a SIGKILL before the caller's own exit is reported:
 * kernel/exit.c do_group_exit(), kernel/signal.c zap_other_threads())
 */
bool
dying(pid_t tgid, pid_t tid)
{
	const std::string status = status_of(tgid, tid);
	if (status.empty())
		return true;
	const std::string state = field(status, "State");
	if (state.empty() || state[0] == 'Z' || state[0] == 'X')
		return true;
	const unsigned long long pending = strtoull(field(status, "SigPnd").c_str(), nullptr, 16);
	return (pending >> (SIGKILL - 1)) & 1;
}

} /* namespace */

void
Task::set_schedule_seed(uint64_t seed)
{
	sched_.seed(seed);
}

/*
 * adopt_clone -- at the PTRACE_EVENT_CLONE stop of the running thread: the
 * new thread, auto-attached and starting in a stop of its own, is parked
 */
void
Task::adopt_clone()
{
	unsigned long msg = 0;
	ptrace(PTRACE_GETEVENTMSG, pid_, nullptr, &msg);
	const pid_t child = (pid_t)msg;
	if (child <= 0)
		return;
	int status;
	pid_t got;
	while ((got = waitpid(child, &status, __WALL)) < 0 && errno == EINTR)
		;
	if (got != child || !WIFSTOPPED(status))
		return; /* gone already (killed with the group) */
	if (!sysgood_) {
		/* syscall-stops from now on say so in their status */
		for (pid_t tid : {pid_, child}) {
			if (ptrace(PTRACE_SETOPTIONS, tid, nullptr, (void *)ptrace_options(true)) != 0)
				throw TaskError(syserr("PTRACE_SETOPTIONS " + std::to_string(tid), errno));
		}
		sysgood_ = true;
	}
	Parked p{};
	p.tid = child;
	p.number = next_number_++;
	p.phase = Phase::Stopped;
	p.regs.fetch(child);
	p.last_rip = p.regs.ip();
	parked_.push_back(p);
	if (sched_.coin())
		switch_due_ = true;
}

/* is_thread -- the clone made a thread of this process, not a process that
 * merely shares its memory */
bool
Task::clone_is_thread()
{
	unsigned long msg = 0;
	ptrace(PTRACE_GETEVENTMSG, pid_, nullptr, &msg);
	const std::string tgid = field(status_of((pid_t)msg, (pid_t)msg), "Tgid");
	return !tgid.empty() && std::stol(tgid) == tgid_;
}

/*
 * consume_own_stop -- a SIGSTOP that interrupt_if_overdue() sent: never
 * delivered; a system call it interrupted starts again when the thread is
 * next resumed, and the thread gives way
 */
bool
Task::consume_own_stop(const WaitStatus &w)
{
	if (w.kind() != WaitStatus::Kind::Signal || w.value() != SIGSTOP || own_stops_ == 0)
		return false;
	own_stops_--;
	/* not in a system call: it computes (or spins) at full speed */
	wake_ = Wake::Syscall;
	if (regs_.rewind_restartable_syscall()) {
		regs_.store(pid_);
		last_rip_ = regs_.ip();
		const bool futex = regs_.syscall_nr() == SYS_futex && Scheduler::futex_waits(regs_.syscall_arg(1));
		wake_ = futex ? Wake::Futex : Wake::AnyRun;
	}
	blocked_ = true;
	switch_due_ = multi();
	return true;
}

/*
 * thread_gone -- the running thread, not the leader, has exited or was
 * killed; false after switching to another thread, true with *out set
 * when the whole process has ended
 */
bool
Task::thread_gone(const WaitStatus &w, Stop *out)
{
	if (w.kind() == WaitStatus::Kind::Signaled && death_rip_.as_int() == 0) {
		death_rip_ = last_rip_;
		death_in_region_ = in_region();
	}
	/* Threads killed with it are reaped now: the leader's own status is
	 * reported only after theirs. */
	/* its end wakes whoever joins it (CLONE_CHILD_CLEARTID's futex wake) */
	wake_parked(Wake::Futex);
	for (size_t i = parked_.size(); i-- > 0;) {
		const pid_t tid = parked_[i].tid;
		if (tid != tgid_ && dying(tgid_, tid)) {
			reap(tid);
			parked_.erase(parked_.begin() + (long)i);
		}
	}
	if (parked_.size() == 1 && parked_[0].tid == tgid_ && dying(tgid_, tgid_)) {
		unpark(parked_[0]);
		parked_.clear();
		const WaitStatus last = WaitStatus::classify(tgid_, wait_blocking(tgid_));
		if (last.kind() == WaitStatus::Kind::Exited) {
			*out = make_final_exit(last.value());
		} else {
			const bool in_region = death_in_region_;
			const RemotePtr rip = death_rip_.as_int() != 0 ? death_rip_ : last_rip_;
			*out = make_final_signal(last.kind() == WaitStatus::Kind::Signaled ? last.value() : SIGKILL);
			out->in_region = in_region;
			out->address = rip;
		}
		return true;
	}
	switch_thread(false);
	return false;
}

/*
 * syscall_stop -- a syscall-stop of the thread running at full speed; true
 * if status is one (then the thread is stopped, maybe due to give way)
 */
bool
Task::syscall_stop(int status)
{
	if (!sysgood_ || !WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80))
		return false;
	regs_.fetch(pid_);
	last_rip_ = regs_.ip();
	phase_ = Phase::Stopped;
	blocked_ = false;
	wake_ = Wake::AnyRun;
	struct __ptrace_syscall_info info;
	memset(&info, 0, sizeof(info));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, pid_, (void *)sizeof(info), &info) <= 0)
		return true;
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
		const int64_t nr = (int64_t)info.entry.nr;
		if (nr == SYS_futex && !Scheduler::futex_waits((int64_t)info.entry.args[1]))
			wake_parked(Wake::Futex);
		if (Scheduler::may_block(nr) && sched_.coin())
			switch_due_ = true;
	} else {
		/* the call may have woken the others */
		wake_parked(Wake::Syscall);
	}
	return true;
}

/*
 * leader_exits_alone -- the program's first thread is about to make system
 * call NR at AT: true with *out set (everything killed) when that is the
 * exit of that thread alone (SYS_exit, as pthread_exit in main ends) while
 * other threads go on. Not supported: the kernel reports the leader's end
 * only with the last thread's (kernel/exit.c, delay_group_leader), and its
 * wait would hang until --timeout; a one-line refusal instead.
 */
bool
Task::leader_exits_alone(int64_t nr, RemotePtr at, Stop *out)
{
	if (nr != SYS_exit || pid_ != tgid_ || !multi())
		return false;
	*out = kill_unsupported("exit-leader", at);
	return true;
}

/*
 * region_syscall_point -- before a counted step at AT: a system call that
 * may block is a switch point, drawn once per execution of it; true when
 * the thread gives way first
 */
bool
Task::region_syscall_point(RemotePtr at)
{
	if (!multi() || syscall_decided_ || !syscall_insn_at(at))
		return false;
	syscall_decided_ = true;
	wake_parked(regs_.syscall_nr() == SYS_futex && !Scheduler::futex_waits(regs_.syscall_arg(1)) ? Wake::Futex
												     : Wake::Syscall);
	if (!Scheduler::may_block(regs_.syscall_nr()) || !sched_.coin())
		return false;
	switch_due_ = true;
	return true;
}

/* counted_step -- the running thread completed a counted instruction */
void
Task::counted_step()
{
	syscall_decided_ = false;
	if (!multi())
		return;
	blocked_ = false;
	wake_ = Wake::AnyRun;
	if (sched_.tick())
		switch_due_ = true;
}

/* note_running -- the running thread was just resumed */
void
Task::note_running()
{
	if (multi())
		running_since_ = now_ns();
}

/*
 * interrupt_if_overdue -- the running thread has not stopped for
 * BLOCK_BOUND_NS: it waits for a parked thread (a lock, a join) or for
 * time. A SIGSTOP of ours takes it out of the kernel (consume_own_stop).
 * Threads of a process that is exiting are reaped here, so that the
 * leader's exit can be reported.
 */
void
Task::interrupt_if_overdue()
{
	if (!multi())
		return;
	for (size_t i = parked_.size(); i-- > 0;) {
		int status;
		const pid_t tid = parked_[i].tid;
		if (tid == tgid_)
			continue;
		if (waitpid(tid, &status, __WALL | WNOHANG) == tid && (WIFEXITED(status) || WIFSIGNALED(status))) {
			parked_.erase(parked_.begin() + (long)i);
			wake_parked(Wake::Futex);
		}
	}
	if (!multi() || own_stops_ > 0 || now_ns() - running_since_ < Scheduler::BLOCK_BOUND_NS)
		return;
	if (syscall(SYS_tgkill, tgid_, pid_, SIGSTOP) == 0)
		own_stops_++;
}

/*
 * switch_thread -- park the running thread (unless it is gone) and run
 * another: one that is not blocked if there is one, drawn by the schedule;
 * when all others are blocked, a running thread that is not goes on
 */
void
Task::switch_thread(bool current_alive)
{
	PMFIT_ASSERT(!parked_.empty() && in_flight_ == InFlight::None);
	if (current_alive && !blocked_) {
		/* it ran: whatever the others waited for may have happened */
		wake_parked(Wake::AnyRun);
	}
	std::vector<size_t> candidates;
	for (size_t i = 0; i < parked_.size(); i++) {
		if (!parked_[i].blocked)
			candidates.push_back(i);
	}
	if (candidates.empty()) {
		if (current_alive && !blocked_) {
			/* every other thread waits: this one goes on */
			sched_.new_quantum();
			switch_due_ = false;
			return;
		}
		for (size_t i = 0; i < parked_.size(); i++)
			candidates.push_back(i);
	}
	const size_t chosen = candidates[sched_.pick(candidates.size())];
	const Parked next = parked_[chosen];
	if (current_alive)
		park(&parked_[chosen]);
	else
		parked_.erase(parked_.begin() + (long)chosen);
	unpark(next);
	sched_.new_quantum();
	switch_due_ = false;
	/* the int3s are in memory only while a thread runs at full speed */
	const bool steps = phase_ != Phase::Stopped || step_over_;
	if (steps && phase_ != Phase::Dead)
		breakpoints_.remove_all(pid_);
	/* other code ran: look at the bytes of instructions again, and at
	 * the mappings (an untraced thread's system calls may map) */
	recorder_.code_may_have_changed();
	recorder_.mappings_changed();
}

/*
 * wake_parked -- EVENT happened: the parked threads blocked in a wait it may
 * end go back into the draw (scheduler.h, Wake). A thread asleep on a
 * condition variable or computing away from PM is thus not resumed, and
 * waited for BLOCK_BOUND_NS, at every switch point of the thread that
 * works on PM (bench:threads).
 */
void
Task::wake_parked(Wake event)
{
	for (Parked &p : parked_) {
		if (p.blocked && p.wake <= event) {
			p.blocked = false;
			p.wake = Wake::AnyRun;
		}
	}
}

void
Task::park(Parked *into) const
{
	into->tid = pid_;
	into->number = thread_;
	into->phase = phase_;
	into->regs = regs_;
	into->last_rip = last_rip_;
	into->step_over = step_over_;
	into->function_mode = function_mode_;
	into->marker_rsp = marker_rsp_;
	into->fn_rsp = fn_rsp_;
	into->fn_ret = fn_ret_;
	into->begin_reported = begin_reported_;
	into->pending_sig = pending_sig_;
	into->pending_caught = pending_caught_;
	into->syscall_pending = syscall_pending_;
	into->flush_pending = flush_pending_;
	into->blocked = blocked_;
	into->wake = wake_;
	into->own_stops = own_stops_;
	into->syscall_decided = syscall_decided_;
}

void
Task::unpark(const Parked &from)
{
	pid_ = from.tid;
	thread_ = from.number;
	phase_ = from.phase;
	regs_ = from.regs;
	last_rip_ = from.last_rip;
	step_over_ = from.step_over;
	function_mode_ = from.function_mode;
	marker_rsp_ = from.marker_rsp;
	fn_rsp_ = from.fn_rsp;
	fn_ret_ = from.fn_ret;
	begin_reported_ = from.begin_reported;
	pending_sig_ = from.pending_sig;
	pending_caught_ = from.pending_caught;
	syscall_pending_ = from.syscall_pending;
	flush_pending_ = from.flush_pending;
	blocked_ = from.blocked;
	wake_ = from.wake;
	own_stops_ = from.own_stops;
	syscall_decided_ = from.syscall_decided;
	recorder_.set_thread(thread_);
}

} /* namespace pmfit */
