/*
 * task.cc -- one traced process: its life from spawn to death, the single
 * step primitives, and what its stops, signals and ptrace events mean
 *
 * The region state machine that drives these is in stepper.cc.
 */
#include "task.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "quirks.h"
#include "scatter.h"
#include "tracee_memory.h"

namespace pmfit {

namespace {

/* BLOCKED_SLICE_NS -- longest wait for a step over a syscall before
 * `blocked`, so that JavaScript serves timeouts and Ctrl-C meanwhile */
constexpr int64_t BLOCKED_SLICE_NS = 100 * 1000 * 1000;

} /* namespace */

/* Task: start and end */

Task::Task(const SpawnOptions &options, const std::vector<std::string> &guard_paths)
{
	/* One seccomp filter holds every part's rules (seccomp_filter.h). */
	std::vector<SyscallRule> rules;
	if (!guard_paths.empty()) {
		guard_ = std::make_unique<UserFileGuard>(guard_paths);
		rules = UserFileGuard::rules();
	}
	breakpoints_.set_code_bytes([this](pid_t pid, RemotePtr at, uint8_t *out, size_t len) {
		return hunt_.code_bytes(pid, at, len, breakpoints_, out);
	});
	/* the hunt's epochs end at every system call of this thread; with
	 * other threads, a call of theirs may change code unseen */
	recorder_.set_cached_code(
		[this](RemotePtr at, uint8_t *out, size_t len) { return !multi() && hunt_.cached_code(at, out, len); });
	SpawnOptions spawn = options;
	spawn.seccomp = build_seccomp_filter(rules);
	cpu_ = options.cpu;
	pin_.acquire(cpu_);
	Spawned child = spawn_traced(spawn); /* ~CpuPin unpins if it throws */
	pid_ = child.pid;
	if (guard_)
		guard_->start(child.listener);
	tgid_ = pid_;
	phase_ = Phase::Stopped;
	try {
		regs_.fetch(pid_);
	} catch (...) {
		die();
		throw;
	}
	last_rip_ = regs_.ip();
}

Task::~Task()
{
	try {
		die();
	} catch (...) {
		/* a destructor has nobody to tell */
	}
}

void
Task::kill()
{
	die();
}

std::vector<std::string>
Task::guard_refusals() const
{
	return guard_ ? guard_->refusals() : std::vector<std::string>();
}

void
Task::check_alive() const
{
	if (phase_ == Phase::Dead)
		throw TaskError("process " + std::to_string(pid_) + " has ended");
}

/*
 * die -- SIGKILL the tracee and every attached child, and reap them all
 *
 * Children and threads first: a thread group leader is reported dead only
 * after its traced threads have been reaped by the tracer.
 */
void
Task::die()
{
	if (phase_ != Phase::Dead && tgid_ > 0)
		::kill(tgid_, SIGKILL);
	for (pid_t child : extras_)
		::kill(child, SIGKILL);
	for (pid_t child : extras_)
		reap(child);
	extras_.clear();
	for (const Parked &p : parked_) {
		if (p.tid != tgid_)
			reap(p.tid);
	}
	if (phase_ != Phase::Dead && pid_ != tgid_ && pid_ > 0)
		reap(pid_);
	parked_.clear();
	pid_ = tgid_;
	if (phase_ != Phase::Dead && tgid_ > 0)
		reap(tgid_);
	phase_ = Phase::Dead;
	in_flight_ = InFlight::None;
	pin_.release();
}

/* Task: single steps */

/* request_step -- PTRACE_SINGLESTEP, injecting sig */
void
Task::request_step(int sig)
{
	/* the instruction, not an int3 of ours over it (breakpoints.h) */
	breakpoints_.lift(pid_, regs_.ip());
	/* ESRCH: killed from outside since the last stop; waitpid says so */
	if (ptrace(PTRACE_SINGLESTEP, pid_, nullptr, (void *)(long)sig) != 0 && errno != ESRCH)
		throw TaskError(syserr("PTRACE_SINGLESTEP " + std::to_string(pid_), errno));
}

/* stopped -- what a waitpid status means, with regs_ fresh when stopped */
WaitStatus
Task::stopped(int status)
{
	WaitStatus w = WaitStatus::classify(pid_, status);
	if (w.is_stop()) {
		regs_.fetch(pid_);
		last_rip_ = regs_.ip();
		/* a step over a system call (orig_rax is -1 after any other
		 * instruction), or a stop inside one: a call made unseen
		 * when the step was outside a region (a marker's) */
		calls_unseen_ = calls_unseen_ || regs_.entered_syscall_nr() >= 0;
	} else {
		calls_unseen_ = true;
	}
	if (w.kind() == WaitStatus::Kind::Event && w.value() == PTRACE_EVENT_CLONE && phase_ != Phase::Running &&
	    clone_is_thread()) {
		/* a thread created by a stepped syscall: the step goes on */
		adopt_clone();
		request_step(0);
		return stopped(wait_blocking(pid_));
	}
	return w;
}

/* step -- one single step, waited for without a limit */
WaitStatus
Task::step(int sig)
{
	PMFIT_ASSERT(in_flight_ == InFlight::None);
	request_step(sig);
	return stopped(wait_blocking(pid_));
}

/* start_step -- a single step collected by finish_step */
void
Task::start_step(int sig, InFlight by)
{
	PMFIT_ASSERT(in_flight_ == InFlight::None && by != InFlight::None);
	request_step(sig);
	in_flight_ = by;
	note_running();
}

/*
 * finish_step -- wait up to BLOCKED_SLICE_NS for the step in flight; false
 * when it has not finished (the tracee is still inside its syscall)
 */
bool
Task::finish_step(WaitStatus *w)
{
	PMFIT_ASSERT(in_flight_ != InFlight::None);
	int status;
	if (!wait_polling(pid_, &status, now_ns() + BLOCKED_SLICE_NS))
		return false;
	in_flight_ = InFlight::None;
	*w = stopped(status);
	return true;
}

/* take_pending_signal -- the signal the next resume of the tracee injects */
int
Task::take_pending_signal()
{
	int sig = pending_sig_;
	pending_sig_ = 0;
	return sig;
}

/*
 * kernel_entry_at -- does the instruction at AT enter the kernel: syscall
 * (0f 05) or int 0x80 (cd 80) give INSN_SYSCALL | INSN_TRAPS; int3 (cc),
 * int1 (f1) and other int n (cd) give INSN_TRAPS?
 *
 * Count and crash modes decode nothing, so the two bytes are read once per
 * address and remembered in a cache of their own (as flags, in the record
 * loop's kind of table: one probe a step); record mode asks it only about
 * SIGTRAP. Code rewritten in place at a known address keeps its old
 * answer; a wrong one only chooses the other way of waiting, or asks the
 * kernel about a SIGTRAP once more or once less.
 */
uint32_t
Task::kernel_entry_at(RemotePtr at)
{
	const InsnInfo *known = syscall_insns_.find(at);
	if (known)
		return known->flags;
	uint8_t bytes[16] = {0};
	read_tracee(pid_, at, bytes, sizeof(bytes));
	breakpoints_.show_original(at, bytes, sizeof(bytes));
	InsnInfo info;
	if ((bytes[0] == 0x0f && bytes[1] == 0x05) || (bytes[0] == 0xcd && bytes[1] == 0x80))
		info.flags = INSN_SYSCALL | INSN_TRAPS;
	else if (bytes[0] == 0xcc || bytes[0] == 0xf1 || bytes[0] == 0xcd)
		info.flags = INSN_TRAPS;
	else if (scatter_encoding(bytes, sizeof(bytes)))
		info.flags = INSN_SCATTER;
	syscall_insns_.insert(at, info);
	return info.flags;
}

/*
 * note_own_sigtrap -- after a completed step of the instruction at AT: a
 * SIGTRAP that the program raised (raise(SIGTRAP), int3) was merged into
 * the step's trap; it goes in with the next resume, as any signal does
 */
void
Task::note_own_sigtrap(RemotePtr at)
{
	if (!(kernel_entry_at(at) & INSN_TRAPS) || !quirks::sigtrap_is_programs(pid_))
		return;
	pending_sig_ = SIGTRAP;
	pending_caught_ = quirks::signal_has_handler(pid_, SIGTRAP);
}

/* Task: stops, signals and events */

/*
 * handle_other -- a stop that is not a completed step or breakpoint; true
 * with *out set when resume() must return it
 */
bool
Task::handle_other(const WaitStatus &w, Stop *out)
{
	switch (w.kind()) {
	case WaitStatus::Kind::Exited:
		if (pid_ != tgid_)
			return thread_gone(w, out);
		*out = make_final_exit(w.value());
		return true;
	case WaitStatus::Kind::Signaled:
		if (pid_ != tgid_)
			return thread_gone(w, out);
		*out = make_final_signal(w.value());
		return true;
	case WaitStatus::Kind::Signal: {
		if (consume_own_stop(w))
			return false;
		/* a fault on PM a fast region left protected (fast_region.cc) */
		bool died = false;
		if (!in_region() && lazy_fault(w, &died, out))
			return died;
		/* signal-delivery-stop: the signal goes in with the next resume */
		pending_sig_ = w.value();
		pending_caught_ = quirks::signal_has_handler(pid_, w.value());
		return false;
	}
	case WaitStatus::Kind::Event:
		return handle_event(w.value(), out);
	case WaitStatus::Kind::GroupStop:
	case WaitStatus::Kind::Trap:
		return false;
	}
	return false;
}

/*
 * handle_event -- fork, vfork, clone and exec of the tracee
 *
 * Outside a region a forked child is let go: it gets a clean copy of the
 * code (no int3) and runs untraced. A new thread is traced with the others
 * (threads.cc). In a region, or for a clone that is not a thread or an exec
 * at any time, the run cannot be followed and everything is killed.
 */
bool
Task::handle_event(int event, Stop *out)
{
	unsigned long msg = 0;
	if (event == PTRACE_EVENT_CLONE && clone_is_thread()) {
		adopt_clone();
		return false;
	}
	switch (event) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE: {
		forks_++;
		ptrace(PTRACE_GETEVENTMSG, pid_, nullptr, &msg);
		pid_t child = (pid_t)msg;
		if (child > 0)
			extras_.push_back(child);
		const char *what = event == PTRACE_EVENT_FORK	 ? "fork"
				   : event == PTRACE_EVENT_VFORK ? "vfork"
								 : "clone";
		if (in_region() || event == PTRACE_EVENT_CLONE) {
			*out = kill_unsupported(what, quirks::syscall_insn(regs_.ip().as_int()));
			return true;
		}
		if (child <= 0)
			return false;
		/* The new child starts in a stop of its own (SIGSTOP). */
		int status;
		pid_t got;
		while ((got = waitpid(child, &status, __WALL)) < 0 && errno == EINTR)
			;
		if (got == child && WIFSTOPPED(status)) {
			if (event == PTRACE_EVENT_FORK) {
				breakpoints_.remove_from_child(child);
			} else {
				/* vfork shares the memory: out of both until
				 * the child lets go of it (VFORK_DONE) */
				breakpoints_.remove_all(pid_);
				vfork_pending_ = true;
			}
			ptrace(PTRACE_DETACH, child, nullptr, nullptr);
		}
		extras_.erase(std::remove(extras_.begin(), extras_.end(), child), extras_.end());
		return false;
	}
	case PTRACE_EVENT_VFORK_DONE:
		vfork_pending_ = false;
		return false;
	case PTRACE_EVENT_EXEC:
		*out = kill_unsupported("exec", quirks::syscall_insn(regs_.ip().as_int()));
		return true;
	default:
		return false;
	}
}

/* stop_at_here -- the crash point is reached: name the instruction that
 * would have run next, for reports */
Stop
Task::stop_at_here()
{
	Stop stop = make_stop(StopKind::StopAt);
	stop.address = regs_.ip();
	return stop;
}

Stop
Task::make_stop(StopKind kind)
{
	Stop stop;
	stop.kind = kind;
	stop.index = index_;
	stop.in_region = in_region();
	stop.thread = thread_;
	return stop;
}

Stop
Task::make_final_exit(int code)
{
	Stop stop = make_stop(StopKind::Exited);
	stop.code = code;
	phase_ = Phase::Dead; /* reaped by the waitpid that saw it */
	die();
	return stop;
}

Stop
Task::make_final_signal(int sig)
{
	Stop stop = make_stop(StopKind::Signaled);
	stop.signal = sig;
	stop.address = last_rip_;
	phase_ = Phase::Dead;
	die();
	return stop;
}

Stop
Task::kill_unsupported(const char *what, RemotePtr address)
{
	Stop stop = make_stop(StopKind::Unsupported);
	stop.what = what;
	stop.address = address;
	die();
	return stop;
}

/* Task: what JavaScript sets and reads */

void
Task::set_breakpoints(BreakpointKind kind, const std::vector<RemotePtr> &addresses)
{
	check_alive();
	if (phase_ == Phase::Running)
		throw TaskError("cannot change breakpoints while the tracee runs");
	breakpoints_.set(pid_, kind, addresses);
	/* In now, so that a bad address fails here and not at resume. */
	if (phase_ == Phase::Stopped && !vfork_pending_)
		breakpoints_.install_markers(pid_);
}

void
Task::set_flush_sites(const std::vector<RemotePtr> &addresses, bool complete)
{
	check_alive();
	if (phase_ == Phase::Running || phase_ == Phase::FastRunning)
		throw TaskError("cannot change flush traps while the tracee runs");
	if (!complete) {
		breakpoints_.set(pid_, BreakpointKind::Flush, {});
		flush_sites_.clear();
		flush_trapped_ = false;
		return;
	}
	/* the same sites as the last region's: their bytes are checked at
	 * the next install, against those first covered */
	if (flush_trapped_ && addresses == flush_sites_)
		return;
	breakpoints_.set(pid_, BreakpointKind::Flush, addresses);
	flush_sites_ = addresses;
	flush_trapped_ = true;
}

void
Task::set_pm_ranges(std::vector<PmRange> ranges)
{
	recorder_.set_pm_ranges(std::move(ranges));
}

void
Task::set_instruction(RemotePtr address, InsnInfo info)
{
	hunt_.learn(pid_, address, info, breakpoints_);
	recorder_.set_instruction(pid_, address, std::move(info), breakpoints_);
}

void
Task::set_flows(RemotePtr address, std::vector<InsnInfo> infos)
{
	for (InsnInfo &info : infos) {
		const uint32_t length = info.length;
		hunt_.learn(pid_, address, std::move(info), breakpoints_);
		address = address + length;
	}
}

void
Task::know_run(RemotePtr address, std::vector<uint8_t> bytes, std::vector<InsnInfo> infos)
{
	hunt_.know(address, std::move(bytes), std::move(infos));
}

std::vector<uint8_t>
Task::take_events()
{
	return recorder_.take_events();
}

std::vector<uint8_t>
Task::read_memory(RemotePtr address, size_t length)
{
	check_alive();
	std::vector<uint8_t> bytes(length);
	size_t got = read_tracee(pid_, address, bytes.data(), length);
	if (got < length)
		throw TaskError("cannot read " + std::to_string(length) + " bytes at " + hex(address.as_int()) +
				" in process " + std::to_string(pid_) + " (" + std::to_string(got) + " readable)");
	/* show the code as the program has it, not our int3s */
	breakpoints_.show_original(address, bytes.data(), length);
	return bytes;
}

} /* namespace pmfit */
