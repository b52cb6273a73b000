/*
 * task.h -- one traced process (rr's Task): start, breakpoints, the region
 * stepping loop and the event recorder
 *
 * Plain C++ with no Node-API in it, so that the core can be read, reasoned
 * about and benchmarked apart from the binding (binding.cc converts these
 * structs to and from JavaScript). Every method must be called from the
 * thread that constructed the Task: the kernel accepts ptrace requests for a
 * tracee only from the thread that is its tracer.
 *
 * Task owns the kernel-facing pieces, one type each: the spawned process
 * (spawn.h), its wait statuses (wait_status.h), registers (registers.h),
 * int3 breakpoints (breakpoints.h) and the recorder (recorder.h). Its
 * methods live in task.cc (life, stops, events of the process) and
 * stepper.cc (the region state machine behind resume()).
 */
#ifndef PMFIT_TASK_H
#define PMFIT_TASK_H

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "breakpoints.h"
#include "cpu_pin.h"
#include "error.h"
#include "insn.h"
#include "insn_cache.h"
#include "recorder.h"
#include "registers.h"
#include "remote_ptr.h"
#include "spawn.h"
#include "stop.h"
#include "user_file_guard.h"
#include "wait_status.h"

namespace pmfit {

class Task {
public:
	/* guard_paths: the user's files the program may not open for writing
	 * (user_file_guard.h); empty: no guard */
	Task(const SpawnOptions &options, const std::vector<std::string> &guard_paths);
	~Task();
	Task(const Task &) = delete;
	Task &operator=(const Task &) = delete;

	pid_t
	pid() const
	{
		return pid_;
	}

	void set_breakpoints(BreakpointKind kind, const std::vector<RemotePtr> &addresses);
	void set_pm_ranges(std::vector<PmRange> ranges);
	void set_instruction(RemotePtr address, InsnInfo info);
	Stop resume(const ResumeOptions &options);
	Stop step_syscall(bool diff);
	std::vector<uint8_t> take_events();
	std::vector<uint8_t> read_memory(RemotePtr address, size_t length);
	void kill();
	/* the user-file guard's refusals so far (user_file_guard.h) */
	std::vector<std::string> guard_refusals() const;

private:
	/* Phase -- where the tracee is; resume() continues from here */
	enum class Phase {
		Stopped,     /* outside regions, stopped; breakpoints go in at resume */
		Running,     /* outside regions, PTRACE_CONT issued, stop not yet collected */
		BeginMarker, /* stepping uncounted through pmfit_region_begin */
		Entry,	     /* region entered, nothing of it executed yet */
		Region,	     /* stepping counted */
		EndMarker,   /* stepping uncounted through pmfit_region_end */
		Dead,
	};

	/* InFlight -- whose single step is still running (see in_flight_) */
	enum class InFlight {
		None,
		Resume,	 /* count and crash modes: resume() collects it */
		Syscall, /* record mode: step_syscall() collects it */
	};

	/* Limits -- one resume() call's options, in the loop's terms */
	struct Limits {
		uint64_t stop_at;
		uint64_t max_steps;
		uint64_t budget;
		bool record;
	};

	/* stepping primitives (task.cc) */
	void request_step(int sig);
	WaitStatus stopped(int status);
	WaitStatus step(int sig);
	void start_step(int sig, InFlight by);
	bool finish_step(WaitStatus *w);
	uint32_t kernel_entry_at(RemotePtr at);
	bool
	syscall_insn_at(RemotePtr at)
	{
		return kernel_entry_at(at) & INSN_SYSCALL;
	}
	void note_own_sigtrap(RemotePtr at);
	int take_pending_signal();

	/* stops and events of the process (task.cc) */
	bool
	in_region() const
	{
		return phase_ == Phase::Region || phase_ == Phase::Entry;
	}
	void check_alive() const;
	bool handle_other(const WaitStatus &w, Stop *out);
	bool handle_event(int event, Stop *out);
	Stop make_final_exit(int code);
	Stop make_final_signal(int sig);
	Stop make_stop(StopKind kind);
	Stop stop_at_here();
	Stop kill_unsupported(const char *what, RemotePtr address);
	void die();

	/* the region state machine (stepper.cc): each returns true with
	 * *out set when resume() must return */
	bool pass_breakpoint(const Limits &limits, uint64_t *steps, Stop *out);
	bool continue_full_speed();
	bool collect_full_speed(int64_t *deadline, Stop *out);
	void hit_breakpoint(const Breakpoints::Breakpoint &bp);
	bool step_marker(const Limits &limits, uint64_t *steps, Stop *out);
	bool step_region(const Limits &limits, uint64_t *steps, Stop *out);
	bool prepare_region_step(const Limits &limits, uint64_t steps, const InsnInfo **insn, Stop *out);
	bool region_ended() const;
	void leave_region();

	pid_t pid_ = -1;
	Phase phase_ = Phase::Dead;
	Registers regs_;
	RemotePtr last_rip_; /* rip at the last stop: where a fatal signal hit */
	uint64_t index_ = 0;

	Breakpoints breakpoints_;
	bool vfork_pending_ = false; /* breakpoints out until PTRACE_EVENT_VFORK_DONE */
	bool step_over_ = false;     /* rip is at a breakpoint to pass, not to hit */

	bool function_mode_ = false;
	RemotePtr marker_rsp_; /* rsp at marker entry: returned when rsp == this + 8 */
	RemotePtr fn_rsp_;
	RemotePtr fn_ret_;
	bool begin_reported_ = false;

	int pending_sig_ = 0;
	bool pending_caught_ = false;

	/*
	 * A single-step over a syscall instruction lasts as long as the
	 * syscall, which may block for good (sleep, a pipe nobody writes).
	 * Such steps are waited for in slices, returning `blocked` in between
	 * so that JavaScript can serve --timeout and Ctrl-C; the step stays
	 * in flight until a later call collects it. Other instructions are
	 * stepped with a blocking waitpid, the fast path.
	 */
	InFlight in_flight_ = InFlight::None;
	InsnCache syscall_insns_; /* kernel_entry_at: INSN_SYSCALL, INSN_TRAPS or 0 */
	RemotePtr syscall_insn_;  /* step_syscall: its address */

	std::vector<pid_t> extras_; /* auto-attached children not yet detached */

	/* record mode */
	Recorder recorder_;
	bool syscall_pending_ = false;

	CpuPin pin_;

	/* serves the filter's notifications, also after the tracee is gone
	 * (its forked children are still under the filter) */
	std::unique_ptr<UserFileGuard> guard_;
};

} /* namespace pmfit */

#endif /* PMFIT_TASK_H */
