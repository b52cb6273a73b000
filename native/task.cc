/*
 * task.cc -- one traced process: start under ptrace, breakpoints at full
 * speed outside regions, single steps inside them, events from the steps
 *
 * Outside a region the tracee runs with PTRACE_CONT and int3 breakpoints on
 * the region entries. Inside a region every breakpoint is out of memory and
 * the loop compares rip itself: a region may call a marker or the traced
 * function again, and an int3 met while single-stepping would only have to
 * be stepped over.
 */
#include "task.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "quirks.h"

namespace pmfit {

namespace {

/* EVENT_BUFFER_LIMIT -- resume() returns `buffer` past this many bytes */
constexpr size_t EVENT_BUFFER_LIMIT = 8u << 20;

/* FULL_SPEED_SLICE_NS -- longest wait for a running tracee before `yield`,
 * so that JavaScript serves timeouts and Ctrl-C while a target runs */
constexpr int64_t FULL_SPEED_SLICE_NS = 100 * 1000 * 1000;
/* BLOCKED_SLICE_NS -- longest wait for a step over a syscall before
 * `blocked`, for the same reason */
constexpr int64_t BLOCKED_SLICE_NS = 100 * 1000 * 1000;
constexpr long POLL_MIN_NS = 20 * 1000;
constexpr long POLL_MAX_NS = 1000 * 1000;

constexpr size_t RECORD_HEADER = 32;
constexpr uint64_t LINE = 64;
constexpr size_t DECODE_BYTES = 16;
/* DIFF_CHUNK -- bytes of a PM range compared at a time after a syscall */
constexpr size_t DIFF_CHUNK = 1u << 20;

constexpr uint64_t EFLAGS_DF = 1u << 10;

std::string
hex(uint64_t value)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)value);
	return buf;
}

std::string
syserr(const std::string &what, int err)
{
	return what + ": " + strerror(err);
}

int64_t
now_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* REG_OFFSET -- native.ts Reg numbers to user_regs_struct fields */
const size_t REG_OFFSET[REG_COUNT] = {
	0,
	offsetof(struct user_regs_struct, rax),
	offsetof(struct user_regs_struct, rcx),
	offsetof(struct user_regs_struct, rdx),
	offsetof(struct user_regs_struct, rbx),
	offsetof(struct user_regs_struct, rsp),
	offsetof(struct user_regs_struct, rbp),
	offsetof(struct user_regs_struct, rsi),
	offsetof(struct user_regs_struct, rdi),
	offsetof(struct user_regs_struct, r8),
	offsetof(struct user_regs_struct, r9),
	offsetof(struct user_regs_struct, r10),
	offsetof(struct user_regs_struct, r11),
	offsetof(struct user_regs_struct, r12),
	offsetof(struct user_regs_struct, r13),
	offsetof(struct user_regs_struct, r14),
	offsetof(struct user_regs_struct, r15),
};

uint64_t
reg_value(const struct user_regs_struct &regs, uint8_t reg)
{
	unsigned n = reg & 31u;
	if (n == 0 || n >= REG_COUNT)
		return 0;
	uint64_t value;
	memcpy(&value, reinterpret_cast<const char *>(&regs) + REG_OFFSET[n], sizeof(value));
	return (reg & REG_32) ? (uint32_t)value : value;
}

bool
carries_data(uint8_t kind)
{
	return kind == EV_STORE || kind == EV_NT_STORE || kind == EV_WRITE;
}

/*
 * Thread pinning -- tracer and tracee share one CPU: a single step costs
 * ~19 us then, ~60 us with the two on different CPUs (DESIGN.md). The
 * calling thread's own affinity is saved by the first live Task of the
 * thread and given back by the last one.
 */
thread_local int pin_count;
thread_local cpu_set_t pin_saved;

bool
pin_thread(int cpu)
{
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
	return true;
}

void
unpin_thread()
{
	if (pin_count > 0 && --pin_count == 0)
		sched_setaffinity(0, sizeof(pin_saved), &pin_saved);
}

/* Start-up failures of the child, sent through a close-on-exec pipe. */
enum ChildStage : int { STAGE_FDS = 1, STAGE_CHDIR, STAGE_TRACEME, STAGE_EXEC };

struct ChildFailure {
	int stage;
	int err;
};

[[noreturn]] void
child_fail(int report_fd, int stage)
{
	ChildFailure failure = {stage, errno};
	ssize_t ignored = write(report_fd, &failure, sizeof(failure));
	(void)ignored;
	_exit(127);
}

/*
 * run_child -- the forked child up to execve; async-signal-safe calls only,
 * since the parent (Node) is multithreaded
 */
[[noreturn]] void
run_child(const SpawnOptions &options, char *const argv[], char *const envp[], int report_fd)
{
	/* Node ignores SIGPIPE and installs handlers; the target starts with
	 * default dispositions and nothing blocked, as uv_spawn's children do. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, nullptr);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, nullptr);

	/* Own process group: Ctrl-C at the terminal reaches the harness,
	 * which kills the tracee, never the tracee directly. */
	setpgid(0, 0);

	int persona = personality(0xffffffff);
	if (persona != -1)
		personality((unsigned long)persona | ADDR_NO_RANDOMIZE);

	if (options.cpu >= 0 && options.cpu < CPU_SETSIZE) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(options.cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}

	/* Through copies above 2 so that a source fd that is itself 0, 1
	 * or 2 is not overwritten before it is used. */
	int from[3] = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
	int copy[3];
	for (int i = 0; i < 3; i++) {
		copy[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 3);
		if (copy[i] < 0)
			child_fail(report_fd, STAGE_FDS);
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(copy[i], i) < 0)
			child_fail(report_fd, STAGE_FDS);
	}

	if (chdir(options.cwd.c_str()) != 0)
		child_fail(report_fd, STAGE_CHDIR);
	if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0)
		child_fail(report_fd, STAGE_TRACEME);
	raise(SIGSTOP);
	execve(options.file.c_str(), argv, envp);
	child_fail(report_fd, STAGE_EXEC);
}

} /* namespace */

/* InsnCache */

InsnCache::InsnCache() : keys_(1024, 0), values_(1024, 0), shift_(64 - 10) {}

size_t
InsnCache::slot(uint64_t addr) const
{
	return (size_t)((addr * 0x9E3779B97F4A7C15ull) >> shift_);
}

const InsnInfo *
InsnCache::find(uint64_t addr) const
{
	size_t mask = keys_.size() - 1;
	for (size_t i = slot(addr);; i = (i + 1) & mask) {
		uint64_t key = keys_[i];
		if (key == addr)
			return &infos_[values_[i]];
		if (key == 0)
			return nullptr;
	}
}

void
InsnCache::insert(uint64_t addr, InsnInfo info)
{
	if (addr == 0)
		return;
	size_t mask = keys_.size() - 1;
	for (size_t i = slot(addr);; i = (i + 1) & mask) {
		if (keys_[i] == addr) {
			infos_[values_[i]] = std::move(info);
			return;
		}
		if (keys_[i] == 0)
			break;
	}
	if ((infos_.size() + 1) * 2 > keys_.size())
		grow();
	mask = keys_.size() - 1;
	size_t i = slot(addr);
	while (keys_[i] != 0)
		i = (i + 1) & mask;
	keys_[i] = addr;
	values_[i] = (uint32_t)infos_.size();
	infos_.push_back(std::move(info));
}

void
InsnCache::grow()
{
	std::vector<uint64_t> old_keys(keys_.size() * 2, 0);
	std::vector<uint32_t> old_values(values_.size() * 2, 0);
	old_keys.swap(keys_);
	old_values.swap(values_);
	shift_--;
	size_t mask = keys_.size() - 1;
	for (size_t j = 0; j < old_keys.size(); j++) {
		if (old_keys[j] == 0)
			continue;
		size_t i = slot(old_keys[j]);
		while (keys_[i] != 0)
			i = (i + 1) & mask;
		keys_[i] = old_keys[j];
		values_[i] = old_values[j];
	}
}

/* Task: start and end */

Task::Task(const SpawnOptions &options)
{
	spawn(options);
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
Task::spawn(const SpawnOptions &options)
{
	if (options.argv.empty())
		throw TaskError("argv must not be empty");
	std::vector<char *> argv;
	for (const std::string &arg : options.argv)
		argv.push_back(const_cast<char *>(arg.c_str()));
	argv.push_back(nullptr);
	std::vector<char *> envp;
	for (const std::string &var : options.env)
		envp.push_back(const_cast<char *>(var.c_str()));
	envp.push_back(nullptr);

	int report[2];
	if (pipe2(report, O_CLOEXEC) != 0)
		throw TaskError(syserr("pipe", errno));

	pinned_ = pin_thread(options.cpu);
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(report[0]);
		close(report[1]);
		release_cpu();
		throw TaskError(syserr("fork", err));
	}
	if (pid == 0)
		run_child(options, argv.data(), envp.data(), report[1]);
	close(report[1]);
	pid_ = pid;
	phase_ = Phase::Stopped;

	/* why -- the child's own account of an early death */
	auto why = [&](int status) -> std::string {
		ChildFailure failure;
		ssize_t got;
		do
			got = read(report[0], &failure, sizeof(failure));
		while (got < 0 && errno == EINTR);
		if (got == (ssize_t)sizeof(failure)) {
			switch (failure.stage) {
			case STAGE_EXEC:
				return syserr("exec " + options.file + " failed", failure.err);
			case STAGE_CHDIR:
				return syserr("chdir " + options.cwd + " failed", failure.err);
			case STAGE_TRACEME:
				return syserr("PTRACE_TRACEME failed", failure.err);
			default:
				return syserr("cannot set up stdin/stdout/stderr for " + options.file, failure.err);
			}
		}
		if (WIFSIGNALED(status))
			return options.file + " was killed by signal " + std::to_string(WTERMSIG(status)) + " before exec";
		return options.file + " exited before exec";
	};
	try {
		int status = wait_blocking();
		if (!WIFSTOPPED(status)) {
			phase_ = Phase::Dead;
			throw TaskError(why(status));
		}
		long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
			PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACECLONE;
		if (ptrace(PTRACE_SETOPTIONS, pid_, nullptr, (void *)opts) != 0)
			throw TaskError(syserr("PTRACE_SETOPTIONS", errno));
		int sig = 0;
		for (;;) {
			if (ptrace(PTRACE_CONT, pid_, nullptr, (void *)(long)sig) != 0)
				throw TaskError(syserr("PTRACE_CONT", errno));
			status = wait_blocking();
			if (WIFEXITED(status) || WIFSIGNALED(status)) {
				phase_ = Phase::Dead;
				throw TaskError(why(status));
			}
			if ((status >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
				break;
			/* a signal sent to the new process before it ran: pass it on */
			sig = WSTOPSIG(status) == SIGTRAP || (status >> 16) != 0 ? 0 : WSTOPSIG(status);
			if (quirks::is_group_stop(pid_, sig))
				sig = 0;
		}
		get_regs();
	} catch (...) {
		close(report[0]);
		die();
		throw;
	}
	close(report[0]);
}

void
Task::kill()
{
	die();
}

/*
 * die -- SIGKILL the tracee and every attached child, and reap them all
 *
 * Children first: a thread group leader is reported dead only after its
 * traced threads have been reaped by the tracer.
 */
void
Task::die()
{
	if (phase_ != Phase::Dead && pid_ > 0)
		::kill(pid_, SIGKILL);
	for (pid_t child : extras_)
		::kill(child, SIGKILL);
	for (pid_t child : extras_)
		reap(child);
	extras_.clear();
	if (phase_ != Phase::Dead && pid_ > 0)
		reap(pid_);
	phase_ = Phase::Dead;
	release_cpu();
}

void
Task::reap(pid_t pid)
{
	for (;;) {
		int status;
		pid_t got = waitpid(pid, &status, __WALL);
		if (got == pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			return;
		if (got < 0 && errno != EINTR)
			return;
	}
}

void
Task::release_cpu()
{
	if (pinned_) {
		unpin_thread();
		pinned_ = false;
	}
}

/* Task: waiting and stepping */

int
Task::wait_blocking()
{
	for (;;) {
		int status;
		pid_t got = waitpid(pid_, &status, __WALL);
		if (got == pid_)
			return status;
		if (got < 0 && errno != EINTR)
			throw TaskError(syserr("waitpid " + std::to_string(pid_), errno));
	}
}

/*
 * wait_polling -- wait for a tracee running at full speed, at most until
 * deadline_ns; false when it is still running
 *
 * waitpid has no timeout and a SIGCHLD handler or signalfd would fight
 * Node's own; a WNOHANG poll with a sleep doubling up to 1 ms costs
 * nothing measurable here because the tracee runs while we sleep.
 */
bool
Task::wait_polling(int *status, int64_t deadline_ns)
{
	long sleep_ns = POLL_MIN_NS;
	for (;;) {
		pid_t got = waitpid(pid_, status, __WALL | WNOHANG);
		if (got == pid_)
			return true;
		if (got < 0 && errno != EINTR)
			throw TaskError(syserr("waitpid " + std::to_string(pid_), errno));
		if (now_ns() >= deadline_ns)
			return false;
		struct timespec ts = {0, sleep_ns};
		nanosleep(&ts, nullptr);
		sleep_ns = std::min(sleep_ns * 2, POLL_MAX_NS);
	}
}

void
Task::get_regs()
{
	if (ptrace(PTRACE_GETREGS, pid_, nullptr, &regs_) != 0)
		throw TaskError(syserr("PTRACE_GETREGS " + std::to_string(pid_), errno));
	last_rip_ = RemotePtr(regs_.rip);
}

Task::WaitResult
Task::classify(int status)
{
	if (WIFEXITED(status))
		return {WaitKind::Exited, WEXITSTATUS(status)};
	if (WIFSIGNALED(status))
		return {WaitKind::Signaled, WTERMSIG(status)};
	int event = (status >> 16) & 0xff;
	if (event != 0)
		return {WaitKind::Event, event};
	int sig = WSTOPSIG(status);
	if (sig == SIGTRAP)
		return {WaitKind::Trap, sig};
	if (quirks::is_group_stop(pid_, sig))
		return {WaitKind::GroupStop, sig};
	return {WaitKind::Signal, sig};
}

/* request_step -- PTRACE_SINGLESTEP, injecting sig */
void
Task::request_step(int sig)
{
	/* ESRCH: killed from outside since the last stop; waitpid says so */
	if (ptrace(PTRACE_SINGLESTEP, pid_, nullptr, (void *)(long)sig) != 0 && errno != ESRCH)
		throw TaskError(syserr("PTRACE_SINGLESTEP " + std::to_string(pid_), errno));
}

/* stopped -- what a waitpid status means, with regs_ fresh when stopped */
Task::WaitResult
Task::stopped(int status)
{
	WaitResult w = classify(status);
	if (w.kind != WaitKind::Exited && w.kind != WaitKind::Signaled)
		get_regs();
	return w;
}

/* step -- one single step, waited for without a limit */
Task::WaitResult
Task::step(int sig)
{
	request_step(sig);
	return stopped(wait_blocking());
}

/* start_step -- a single step collected by finish_step */
void
Task::start_step(int sig)
{
	request_step(sig);
	step_in_flight_ = true;
}

/*
 * finish_step -- wait up to BLOCKED_SLICE_NS for the step in flight; false
 * when it has not finished (the tracee is still inside its syscall)
 */
bool
Task::finish_step(WaitResult *w)
{
	int status;
	if (!wait_polling(&status, now_ns() + BLOCKED_SLICE_NS))
		return false;
	step_in_flight_ = false;
	*w = stopped(status);
	return true;
}

/*
 * syscall_insn_at -- does the instruction at AT enter the kernel (syscall,
 * 0f 05, or int 0x80, cd 80)?
 *
 * Count and crash modes decode nothing, so the two bytes are read once per
 * address and remembered in a cache of their own (as INSN_SYSCALL, in the
 * record loop's kind of table: one probe a step). Code rewritten in place at
 * a known address keeps its old answer; a wrong one only chooses the other
 * way of waiting.
 */
bool
Task::syscall_insn_at(RemotePtr at)
{
	const InsnInfo *known = syscall_insns_.find(at.as_int());
	if (known)
		return known->flags & INSN_SYSCALL;
	uint8_t bytes[2] = {0, 0};
	read_raw(at, bytes, sizeof(bytes));
	InsnInfo info;
	if ((bytes[0] == 0x0f && bytes[1] == 0x05) || (bytes[0] == 0xcd && bytes[1] == 0x80))
		info.flags = INSN_SYSCALL;
	syscall_insns_.insert(at.as_int(), info);
	return info.flags & INSN_SYSCALL;
}

/*
 * handle_other -- a stop that is not a completed step or breakpoint; true
 * with *out set when resume() must return it
 */
bool
Task::handle_other(const WaitResult &w, Stop *out)
{
	switch (w.kind) {
	case WaitKind::Exited:
		*out = make_final_exit(w.value);
		return true;
	case WaitKind::Signaled:
		*out = make_final_signal(w.value);
		return true;
	case WaitKind::Signal:
		/* signal-delivery-stop: the signal goes in with the next resume */
		pending_sig_ = w.value;
		pending_caught_ = quirks::signal_has_handler(pid_, w.value);
		return false;
	case WaitKind::Event:
		return handle_event(w.value, out);
	case WaitKind::GroupStop:
	case WaitKind::Trap:
		return false;
	}
	return false;
}

/*
 * handle_event -- fork, vfork, clone and exec of the tracee
 *
 * Outside a region a forked child is let go: it gets a clean copy of the
 * code (no int3) and runs untraced. In a region, or for a thread or an exec
 * at any time, the run cannot be followed and everything is killed.
 */
bool
Task::handle_event(int event, Stop *out)
{
	unsigned long msg = 0;
	switch (event) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE: {
		ptrace(PTRACE_GETEVENTMSG, pid_, nullptr, &msg);
		pid_t child = (pid_t)msg;
		if (child > 0)
			extras_.push_back(child);
		const char *what = event == PTRACE_EVENT_FORK ? "fork" : event == PTRACE_EVENT_VFORK ? "vfork" : "clone";
		if (in_region() || event == PTRACE_EVENT_CLONE) {
			*out = kill_unsupported(what, quirks::syscall_insn(regs_.rip));
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
				remove_from_child(child);
			} else {
				/* vfork shares the memory: out of both until
				 * the child lets go of it (VFORK_DONE) */
				remove_all();
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
		*out = kill_unsupported("exec", quirks::syscall_insn(regs_.rip));
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
	stop.address = RemotePtr(regs_.rip);
	return stop;
}

Stop
Task::make_stop(StopKind kind)
{
	Stop stop;
	stop.kind = kind;
	stop.index = index_;
	stop.in_region = in_region();
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

/* Task: breakpoints */

void
Task::ptrace_or_throw(int request, pid_t pid, uint64_t addr, uint64_t data, const char *what)
{
	if (ptrace((enum __ptrace_request)request, pid, (void *)addr, (void *)data) != 0)
		throw TaskError(syserr(std::string(what) + " at " + hex(addr), errno));
}

/* poke_byte -- replace one byte of code, through the aligned word around it */
void
Task::poke_byte(pid_t pid, RemotePtr addr, uint8_t byte, uint8_t *old)
{
	uint64_t aligned = addr.as_int() & ~7ull;
	unsigned shift = (unsigned)(addr.as_int() - aligned) * 8;
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)aligned, nullptr);
	if (errno != 0)
		throw TaskError(syserr("cannot read code at " + hex(addr.as_int()), errno));
	if (old)
		*old = (uint8_t)((unsigned long)word >> shift);
	unsigned long patched = ((unsigned long)word & ~(0xfful << shift)) | ((unsigned long)byte << shift);
	ptrace_or_throw(PTRACE_POKETEXT, pid, aligned, patched, "cannot patch code");
}

Task::Breakpoint *
Task::find_breakpoint(RemotePtr addr)
{
	for (Breakpoint &bp : breakpoints_) {
		if (bp.addr == addr)
			return &bp;
	}
	return nullptr;
}

void
Task::install_all()
{
	for (Breakpoint &bp : breakpoints_) {
		if (!bp.installed) {
			poke_byte(pid_, bp.addr, 0xCC, &bp.orig);
			bp.installed = true;
		}
	}
}

void
Task::remove_all()
{
	for (Breakpoint &bp : breakpoints_) {
		if (bp.installed) {
			poke_byte(pid_, bp.addr, bp.orig, nullptr);
			bp.installed = false;
		}
	}
}

/* remove_from_child -- a forked child has our int3s in its copy of the code */
void
Task::remove_from_child(pid_t child)
{
	for (const Breakpoint &bp : breakpoints_) {
		if (!bp.installed)
			continue;
		try {
			poke_byte(child, bp.addr, bp.orig, nullptr);
		} catch (const TaskError &) {
			/* unmapped in the child: nothing to hit there */
		}
	}
}

void
Task::set_breakpoints(BreakpointKind kind, const std::vector<RemotePtr> &addresses)
{
	if (phase_ == Phase::Dead)
		throw TaskError("process " + std::to_string(pid_) + " has ended");
	if (phase_ == Phase::Running)
		throw TaskError("cannot change breakpoints while the tracee runs");
	for (RemotePtr addr : addresses) {
		Breakpoint *bp = find_breakpoint(addr);
		if (bp && bp->kind != kind)
			throw TaskError("breakpoint at " + hex(addr.as_int()) + " has another role");
	}
	for (Breakpoint &bp : breakpoints_) {
		if (bp.kind == kind && bp.installed) {
			poke_byte(pid_, bp.addr, bp.orig, nullptr);
			bp.installed = false;
		}
	}
	breakpoints_.erase(std::remove_if(breakpoints_.begin(), breakpoints_.end(),
					  [kind](const Breakpoint &bp) { return bp.kind == kind; }),
			   breakpoints_.end());
	for (RemotePtr addr : addresses) {
		if (!find_breakpoint(addr))
			breakpoints_.push_back({addr, kind, 0, false});
	}
	end_addrs_.clear();
	for (const Breakpoint &bp : breakpoints_) {
		if (bp.kind == BreakpointKind::RegionEnd)
			end_addrs_.push_back(bp.addr.as_int());
	}
	/* In now, so that a bad address fails here and not at resume. */
	if (phase_ == Phase::Stopped && !vfork_pending_)
		install_all();
}

/* Task: regions */

bool
Task::region_ended() const
{
	if (function_mode_)
		return regs_.rsp == fn_rsp_ + 8 && regs_.rip == fn_ret_;
	for (uint64_t addr : end_addrs_) {
		if (regs_.rip == addr)
			return true;
	}
	return false;
}

/* leave_region -- after the step that ended a region */
void
Task::leave_region()
{
	if (function_mode_) {
		phase_ = Phase::Stopped;
	} else {
		marker_rsp_ = regs_.rsp;
		phase_ = Phase::EndMarker;
	}
}

Stop
Task::resume(const ResumeOptions &options)
{
	if (phase_ == Phase::Dead)
		throw TaskError("process " + std::to_string(pid_) + " has ended");
	const uint64_t stop_at = options.stop_at < 0 ? UINT64_MAX : (uint64_t)options.stop_at;
	const uint64_t max_steps = options.max_steps < 0 ? UINT64_MAX : (uint64_t)options.max_steps;
	const uint64_t budget = options.budget <= 0 ? UINT64_MAX : (uint64_t)options.budget;
	const bool record = options.record;
	uint64_t steps = 0;
	int64_t deadline = 0;
	Stop out;

	for (;;) {
		switch (phase_) {
		case Phase::Dead:
			throw TaskError("process " + std::to_string(pid_) + " has ended");

		case Phase::Stopped:
			if (step_over_) {
				/* at a breakpoint that only has to be passed */
				if (steps >= budget)
					return make_stop(StopKind::Yield);
				remove_all();
				int sig = pending_sig_;
				pending_sig_ = 0;
				WaitResult w = step(sig);
				steps++;
				if (w.kind == WaitKind::Trap)
					step_over_ = false;
				else if (handle_other(w, &out))
					return out;
				break;
			}
			if (!vfork_pending_)
				install_all();
			if (ptrace(PTRACE_CONT, pid_, nullptr, (void *)(long)pending_sig_) != 0 && errno != ESRCH)
				throw TaskError(syserr("PTRACE_CONT " + std::to_string(pid_), errno));
			pending_sig_ = 0;
			phase_ = Phase::Running;
			break;

		case Phase::Running: {
			if (deadline == 0)
				deadline = now_ns() + FULL_SPEED_SLICE_NS;
			int status;
			if (!wait_polling(&status, deadline))
				return make_stop(StopKind::Yield);
			WaitResult w = classify(status);
			if (w.kind == WaitKind::Exited || w.kind == WaitKind::Signaled) {
				handle_other(w, &out);
				return out;
			}
			get_regs();
			phase_ = Phase::Stopped;
			if (w.kind != WaitKind::Trap) {
				if (handle_other(w, &out))
					return out;
				break;
			}
			Breakpoint *bp = find_breakpoint(RemotePtr(regs_.rip - 1));
			if (!bp || !bp->installed) {
				/* a SIGTRAP of the program's own */
				pending_sig_ = SIGTRAP;
				pending_caught_ = quirks::signal_has_handler(pid_, SIGTRAP);
				break;
			}
			regs_.rip -= 1;
			ptrace_or_throw(PTRACE_SETREGS, pid_, 0, (uint64_t)&regs_, "PTRACE_SETREGS");
			last_rip_ = RemotePtr(regs_.rip);
			switch (bp->kind) {
			case BreakpointKind::RegionBegin:
				remove_all();
				marker_rsp_ = regs_.rsp;
				phase_ = Phase::BeginMarker;
				break;
			case BreakpointKind::RegionEnd:
				/* an end without a begin: nothing to close */
				step_over_ = true;
				break;
			case BreakpointKind::Function: {
				remove_all();
				errno = 0;
				long ret = ptrace(PTRACE_PEEKDATA, pid_, (void *)regs_.rsp, nullptr);
				if (errno != 0)
					throw TaskError(syserr("cannot read the return address at " + hex(regs_.rsp), errno));
				fn_rsp_ = regs_.rsp;
				fn_ret_ = (uint64_t)ret;
				function_mode_ = true;
				begin_reported_ = false;
				phase_ = Phase::Entry;
				break;
			}
			}
			break;
		}

		case Phase::BeginMarker:
		case Phase::EndMarker: {
			if (steps >= budget)
				return make_stop(StopKind::Yield);
			int sig = pending_sig_;
			pending_sig_ = 0;
			WaitResult w = step(sig);
			steps++;
			if (w.kind != WaitKind::Trap) {
				if (handle_other(w, &out))
					return out;
				break;
			}
			if (regs_.rsp == marker_rsp_ + 8) {
				if (phase_ == Phase::BeginMarker) {
					function_mode_ = false;
					begin_reported_ = false;
					phase_ = Phase::Entry;
				} else {
					phase_ = Phase::Stopped;
				}
			}
			break;
		}

		case Phase::Entry:
			if (record && !begin_reported_) {
				begin_reported_ = true;
				return make_stop(StopKind::RegionBegin);
			}
			begin_reported_ = true;
			phase_ = Phase::Region;
			break;

		case Phase::Region:
			/* The hot loop: one PTRACE_SINGLESTEP, waitpid and
			 * PTRACE_GETREGS per instruction, compares otherwise. */
			for (;;) {
				WaitResult w;
				RemotePtr at(regs_.rip);
				const InsnInfo *insn = nullptr;
				if (step_in_flight_) {
					/* count and crash modes: a syscall still running */
					if (!finish_step(&w))
						return make_stop(StopKind::Blocked);
					goto stepped;
				}
				if (index_ == stop_at)
					return stop_at_here();
				if (index_ >= max_steps) {
					Stop stop = make_stop(StopKind::MaxSteps);
					stop.address = RemotePtr(regs_.rip);
					return stop;
				}
				if (steps >= budget)
					return make_stop(StopKind::Yield);
				if (pending_sig_ != 0 && pending_caught_) {
					/* enter the handler: a step that runs nothing */
					int sig = pending_sig_;
					pending_sig_ = 0;
					w = step(sig);
					steps++;
					if (w.kind != WaitKind::Trap && handle_other(w, &out))
						return out;
					continue;
				}
				if (record) {
					if (events_.size() > EVENT_BUFFER_LIMIT)
						return make_stop(StopKind::Buffer);
					insn = insns_.find(at.as_int());
					if (!insn) {
						Stop stop = make_stop(StopKind::Decode);
						stop.address = at;
						stop.bytes.assign(DECODE_BYTES, 0);
						read_raw(at, stop.bytes.data(), DECODE_BYTES);
						return stop;
					}
					if ((insn->flags & INSN_SYSCALL) && !syscall_pending_) {
						syscall_pending_ = true;
						Stop stop = make_stop(StopKind::Syscall);
						stop.address = at;
						stop.nr = (int64_t)regs_.rax;
						stop.args[0] = (int64_t)regs_.rdi;
						stop.args[1] = (int64_t)regs_.rsi;
						stop.args[2] = (int64_t)regs_.rdx;
						stop.args[3] = (int64_t)regs_.r10;
						stop.args[4] = (int64_t)regs_.r8;
						stop.args[5] = (int64_t)regs_.r9;
						return stop;
					}
					record_before(*insn);
				}
				{
					int sig = pending_sig_;
					pending_sig_ = 0;
					if (!record && syscall_insn_at(at)) {
						start_step(sig);
						if (!finish_step(&w))
							return make_stop(StopKind::Blocked);
					} else {
						w = step(sig);
					}
				}
			stepped:
				steps++;
				if (w.kind != WaitKind::Trap) {
					/* not executed: a syscall is asked about again */
					syscall_pending_ = false;
					if (handle_other(w, &out))
						return out;
					continue;
				}
				index_++;
				if (record) {
					syscall_pending_ = false;
					record_after(*insn, at);
				}
				if (region_ended()) {
					leave_region();
					if (index_ == stop_at)
						return stop_at_here();
					if (record)
						return make_stop(StopKind::RegionEnd);
					break;
				}
			}
			break;
		}
	}
}

Stop
Task::step_syscall(bool diff)
{
	Stop out;
	WaitResult w;
	if (!step_in_flight_) {
		if (phase_ != Phase::Region || !syscall_pending_)
			throw TaskError("stepSyscall: no syscall is pending");
		syscall_insn_ = RemotePtr(regs_.rip);
		syscall_before_.clear();
		if (diff) {
			for (const PmRange &range : ranges_) {
				std::vector<uint8_t> bytes(range.end - range.start);
				bytes.resize(read_raw(range.start, bytes.data(), bytes.size()));
				syscall_before_.push_back(std::move(bytes));
			}
		}
		start_step(pending_sig_);
		pending_sig_ = 0;
	}
	for (;;) {
		if (!finish_step(&w))
			return make_stop(StopKind::Blocked);
		if (w.kind != WaitKind::GroupStop)
			break;
		start_step(0);
	}
	syscall_pending_ = false;
	if (w.kind == WaitKind::Trap) {
		index_++;
		if (diff)
			emit_diff(syscall_before_, syscall_insn_);
		syscall_before_.clear();
		Stop stop = make_stop(StopKind::SyscallDone);
		stop.result = (int64_t)regs_.rax;
		return stop;
	}
	syscall_before_.clear();
	if (handle_other(w, &out))
		return out;
	/* a signal came first: resume() delivers it, then asks again */
	return make_stop(StopKind::Yield);
}

/* Task: recording */

void
Task::set_pm_ranges(std::vector<PmRange> ranges)
{
	for (const PmRange &range : ranges) {
		if (range.end < range.start)
			throw TaskError("PM range ends before it starts: " + hex(range.start.as_int()));
		if (range.file_id >= NO_FILE)
			throw TaskError("PM file id " + std::to_string(range.file_id) + " out of range");
	}
	ranges_ = std::move(ranges);
}

void
Task::set_instruction(RemotePtr address, InsnInfo info)
{
	if (info.writes.size() > Task::MAX_WRITES)
		info.writes.resize(Task::MAX_WRITES);
	insns_.insert(address.as_int(), std::move(info));
}

std::vector<uint8_t>
Task::take_events()
{
	std::vector<uint8_t> taken;
	taken.swap(events_);
	return taken;
}

/*
 * read_raw -- bytes of the tracee; how many could be read from the start
 *
 * process_vm_readv is one call for any length but refuses pages the tracee
 * itself may not read (for example execute-only code); PTRACE_PEEKDATA reads
 * those word by word.
 */
size_t
Task::read_raw(RemotePtr addr, uint8_t *buf, size_t len)
{
	if (len == 0)
		return 0;
	struct iovec local = {buf, len};
	struct iovec remote = {reinterpret_cast<void *>(addr.as_int()), len};
	ssize_t got = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
	size_t done = got > 0 ? (size_t)got : 0;
	while (done < len) {
		uint64_t at = addr.as_int() + done;
		uint64_t aligned = at & ~7ull;
		errno = 0;
		long word = ptrace(PTRACE_PEEKDATA, pid_, (void *)aligned, nullptr);
		if (errno != 0)
			break;
		size_t skip = at - aligned;
		size_t take = std::min(sizeof(word) - skip, len - done);
		memcpy(buf + done, reinterpret_cast<char *>(&word) + skip, take);
		done += take;
	}
	return done;
}

std::vector<uint8_t>
Task::read_memory(RemotePtr address, size_t length)
{
	if (phase_ == Phase::Dead)
		throw TaskError("process " + std::to_string(pid_) + " has ended");
	std::vector<uint8_t> bytes(length);
	size_t got = read_raw(address, bytes.data(), length);
	if (got < length)
		throw TaskError("cannot read " + std::to_string(length) + " bytes at " + hex(address.as_int()) +
				" in process " + std::to_string(pid_) + " (" + std::to_string(got) + " readable)");
	/* show the code as the program has it, not our int3s */
	for (const Breakpoint &bp : breakpoints_) {
		if (bp.installed && bp.addr >= address && bp.addr - address < length)
			bytes[bp.addr - address] = bp.orig;
	}
	return bytes;
}

uint64_t
Task::effective_address(const MemOperand &op) const
{
	uint64_t addr = (uint64_t)op.disp;
	if (op.base != REG_NONE)
		addr += reg_value(regs_, op.base);
	if (op.index != REG_NONE)
		addr += reg_value(regs_, op.index) * op.scale;
	if (op.seg == SEG_FS)
		addr += regs_.fs_base;
	else if (op.seg == SEG_GS)
		addr += regs_.gs_base;
	return addr;
}

/* record_before -- what the instruction will write, from the registers it
 * reads, before it changes them */
void
Task::record_before(const InsnInfo &insn)
{
	size_t n = insn.writes.size();
	for (size_t i = 0; i < n; i++)
		write_addrs_[i] = effective_address(insn.writes[i]);
	rdi_before_ = regs_.rdi;
	df_before_ = (regs_.eflags & EFLAGS_DF) != 0;
}

/* record_after -- the events of the instruction just stepped */
void
Task::record_after(const InsnInfo &insn, RemotePtr insn_addr)
{
	const uint32_t flags = insn.flags;
	const size_t n = insn.writes.size();
	if (n != 0) {
		const uint8_t store_kind = (flags & INSN_NT_STORE) ? EV_NT_STORE : EV_STORE;
		if (flags & INSN_REP_STRING) {
			/* One iteration per step; its element is where rdi
			 * moved over, whatever the operand says. */
			uint64_t elem = insn.writes[0].size;
			uint64_t lo, hi;
			if (!df_before_) {
				lo = rdi_before_;
				hi = regs_.rdi;
			} else {
				lo = regs_.rdi + elem;
				hi = rdi_before_ + elem;
			}
			if (hi > lo)
				emit_store(store_kind, lo, hi - lo, insn_addr);
		} else if (flags & (INSN_CLFLUSH | INSN_CLFLUSHOPT | INSN_CLWB)) {
			const uint8_t kind = (flags & INSN_CLFLUSH) ? EV_CLFLUSH
				: (flags & INSN_CLFLUSHOPT)          ? EV_CLFLUSHOPT
								     : EV_CLWB;
			for (size_t i = 0; i < n; i++)
				emit_flush(kind, write_addrs_[i], insn_addr);
		} else {
			for (size_t i = 0; i < n; i++)
				emit_store(store_kind, write_addrs_[i], insn.writes[i].size, insn_addr);
		}
	}
	if (flags & (INSN_FENCE | INSN_LOCKED))
		append_record(EV_FENCE, NO_FILE, 0, 0, insn_addr, nullptr);
}

/* emit_store -- the written bytes, one record per PM range they touch */
void
Task::emit_store(uint8_t kind, uint64_t addr, uint64_t len, RemotePtr insn_addr)
{
	uint64_t end = addr + len < addr ? UINT64_MAX : addr + len;
	for (const PmRange &range : ranges_) {
		uint64_t lo = std::max(addr, range.start.as_int());
		uint64_t hi = std::min(end, range.end.as_int());
		if (lo >= hi)
			continue;
		uint64_t offset = range.file_offset + (lo - range.start.as_int());
		size_t pos = events_.size();
		append_record(kind, (uint8_t)range.file_id, (uint32_t)(hi - lo), offset, insn_addr, nullptr);
		read_raw(RemotePtr(lo), events_.data() + pos + RECORD_HEADER, hi - lo);
	}
}

/* emit_flush -- a flush names its whole line, by file offset */
void
Task::emit_flush(uint8_t kind, uint64_t addr, RemotePtr insn_addr)
{
	for (const PmRange &range : ranges_) {
		if (addr < range.start.as_int() || addr >= range.end.as_int())
			continue;
		uint64_t offset = (range.file_offset + (addr - range.start.as_int())) & ~(LINE - 1);
		append_record(kind, (uint8_t)range.file_id, (uint32_t)LINE, offset, insn_addr, nullptr);
		return;
	}
}

/* append_record -- trace/format.ts layout; data (if any) copied or left zero */
void
Task::append_record(uint8_t kind, uint8_t file_id, uint32_t length, uint64_t offset, RemotePtr insn_addr,
		    const uint8_t *data)
{
	size_t data_len = carries_data(kind) ? length : 0;
	size_t padded = (data_len + 7) & ~(size_t)7;
	size_t pos = events_.size();
	events_.resize(pos + RECORD_HEADER + padded, 0);
	uint8_t *rec = events_.data() + pos;
	uint64_t index = index_;
	uint64_t address = insn_addr.as_int();
	rec[0] = kind;
	rec[1] = file_id;
	rec[2] = 0;
	rec[3] = 0;
	memcpy(rec + 4, &length, 4); /* x86: already little endian */
	memcpy(rec + 8, &index, 8);
	memcpy(rec + 16, &address, 8);
	memcpy(rec + 24, &offset, 8);
	if (data && data_len)
		memcpy(rec + RECORD_HEADER, data, data_len);
}

/* emit_diff -- changed byte runs of every PM range, as stores */
void
Task::emit_diff(const std::vector<std::vector<uint8_t>> &before, RemotePtr insn_addr)
{
	/* the state after is read a chunk at a time: a second whole copy of
	 * a large mapping would double the peak memory of the recorder */
	std::vector<uint8_t> now(DIFF_CHUNK);
	for (size_t r = 0; r < ranges_.size() && r < before.size(); r++) {
		const PmRange &range = ranges_[r];
		const std::vector<uint8_t> &old = before[r];
		for (size_t base = 0; base < old.size(); base += DIFF_CHUNK) {
			size_t len = std::min(DIFF_CHUNK, old.size() - base);
			len = read_raw(range.start + base, now.data(), len);
			const uint8_t *was = old.data() + base;
			size_t i = 0;
			while (i < len) {
				if (now[i] == was[i]) {
					i++;
					continue;
				}
				size_t j = i;
				while (j < len && now[j] != was[j])
					j++;
				append_record(EV_STORE, (uint8_t)range.file_id, (uint32_t)(j - i),
					      range.file_offset + base + i, insn_addr, now.data() + i);
				i = j;
			}
		}
	}
}

} /* namespace pmfit */
