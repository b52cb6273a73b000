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
#include "fast_stops.h"
#include "fence_hunt.h"
#include "insn.h"
#include "insn_cache.h"
#include "pm_protection.h"
#include "recorder.h"
#include "registers.h"
#include "remote_ptr.h"
#include "scheduler.h"
#include "spawn.h"
#include "stop.h"
#include "store_emulation.h"
#include "unwinder.h"
#include "user_file_guard.h"
#include "wait_status.h"
#include "written_pages.h"

namespace pmfit {

class Task {
public:
	/* guard_paths: the user's files the program may not open for writing
	 * (user_file_guard.h); empty: no guard */
	Task(const SpawnOptions &options, const std::vector<std::string> &guard_paths);
	~Task();
	Task(const Task &) = delete;
	Task &operator=(const Task &) = delete;

	/* pid -- the process (its thread group leader), whichever thread runs */
	pid_t
	pid() const
	{
		return tgid_;
	}

	void set_breakpoints(BreakpointKind kind, const std::vector<RemotePtr> &addresses);
	/* set_flush_sites -- the start of every clflush, clflushopt and clwb
	 * of the executable code, for the fast recorder's flush traps;
	 * complete false (not every one proven): no traps, and pages with
	 * unflushed lines are made inaccessible instead (fast_region.cc) */
	void set_flush_sites(const std::vector<RemotePtr> &addresses, bool complete);
	void set_pm_ranges(std::vector<PmRange> ranges);
	void set_instruction(RemotePtr address, InsnInfo info);
	/* set_flows -- the decodings of code the fast recorder's fence hunt
	 * looks ahead at (a `decode` stop with `ahead`), one instruction
	 * after the other from address: not run yet, so neither recorded
	 * nor refused (fence_hunt.h) */
	void set_flows(RemotePtr address, std::vector<InsnInfo> infos);
	/* know_run -- such decodings made from `bytes` before (FenceHunt::know) */
	void know_run(RemotePtr address, std::vector<uint8_t> bytes, std::vector<InsnInfo> infos);
	Stop resume(const ResumeOptions &options);
	/* step_syscall -- untouched: the call reads and writes no memory of
	 * the tracee (a sync), so the fast recorder keeps PM protected */
	Stop step_syscall(bool diff, bool untouched = false);
	std::vector<uint8_t> take_events();
	std::vector<uint8_t> read_memory(RemotePtr address, size_t length);
	/* written pages of the PM mappings (task_written_pages.cc): watch
	 * [start, end) pairs, false when the kernel cannot; take and re-arm */
	bool watch_writes(const std::vector<RemotePtr> &bounds);
	std::vector<RemotePtr> take_written_pages(RemotePtr start, RemotePtr end);
	/* stack -- the running thread's call stack where it is stopped, at
	 * most max frames (task_stack.cc, unwinder.h) */
	std::vector<UnwoundFrame> stack(size_t max);
	void kill();
	/* the user-file guard's refusals so far (user_file_guard.h) */
	std::vector<std::string> guard_refusals() const;
	/* set_schedule_seed -- the seed of the thread schedule (threads.cc) */
	void set_schedule_seed(uint64_t seed);
	/* fast_stops -- the fast recorder's stops so far, by cause */
	FastStops fast_stops() const;
	/* forks -- the processes the program has created so far (fork and
	 * vfork events of any of its threads, seen at its start on): none
	 * since a look at pmfit's descendants found none of the program's
	 * means there is still none (record.ts, otherProcesses) */
	uint64_t
	forks() const
	{
		return forks_;
	}

private:
	/* Phase -- where the tracee is; resume() continues from here */
	enum class Phase {
		Stopped,     /* outside regions, stopped; breakpoints go in at resume */
		Running,     /* outside regions, PTRACE_CONT (or _SYSCALL) issued, stop not yet collected */
		BeginMarker, /* stepping uncounted through pmfit_region_begin */
		Entry,	     /* region entered, nothing of it executed yet */
		Region,	     /* stepping counted */
		EndMarker,   /* stepping uncounted through pmfit_region_end */
		Fast,	     /* in a region, PM protected, stopped (fast_region.cc) */
		FastRunning, /* in a region, PM protected, PTRACE_SYSCALL issued */
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
		bool fast;
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
		return phase_ == Phase::Region || phase_ == Phase::Entry || phase_ == Phase::Fast ||
		       phase_ == Phase::FastRunning;
	}
	void check_alive() const;
	bool handle_other(const WaitStatus &w, Stop *out);
	bool handle_event(int event, Stop *out);
	Stop make_final_exit(int code);
	Stop make_final_signal(int sig);
	Stop make_stop(StopKind kind);
	/* run_to_stop -- resume() but for the tracer thread's CPU */
	Stop run_to_stop(const ResumeOptions &options);
	Stop stop_at_here();
	Stop kill_unsupported(const char *what, RemotePtr address);
	void die();

	/* the region state machine (stepper.cc): each returns true with
	 * *out set when resume() must return */
	bool pass_breakpoint(const Limits &limits, uint64_t *steps, Stop *out);
	bool continue_full_speed(Stop *out);
	bool collect_full_speed(int64_t *deadline, Stop *out);
	void hit_breakpoint(const Breakpoints::Breakpoint &bp);
	bool step_marker(const Limits &limits, uint64_t *steps, Stop *out);
	bool step_region(const Limits &limits, uint64_t *steps, Stop *out);
	bool prepare_region_step(const Limits &limits, uint64_t steps, const InsnInfo **insn, Stop *out);
	bool region_ended() const;
	void leave_region();

	/*
	 * Parked -- a thread other than the running one, held in a ptrace
	 * stop with its share of the fields below saved (threads.cc). The
	 * running thread's are the fields themselves, so that the stepping
	 * loops read them as they always have.
	 */
	struct Parked {
		pid_t tid;
		uint32_t number;
		Phase phase;
		Registers regs;
		RemotePtr last_rip;
		bool step_over;
		bool function_mode;
		RemotePtr marker_rsp;
		RemotePtr fn_rsp;
		RemotePtr fn_ret;
		bool begin_reported;
		int pending_sig;
		bool pending_caught;
		bool syscall_pending;
		bool flush_pending;
		bool blocked;
		Wake wake; /* when blocked: what may end its wait */
		int own_stops;
		bool syscall_decided;
	};

	/* threads of the process (threads.cc) */
	bool
	multi() const
	{
		return !parked_.empty();
	}
	void adopt_clone();
	bool consume_own_stop(const WaitStatus &w);
	bool clone_is_thread();
	bool thread_gone(const WaitStatus &w, Stop *out);
	bool syscall_stop(int status);
	bool leader_exits_alone(int64_t nr, RemotePtr at, Stop *out);
	bool region_syscall_point(RemotePtr at);
	void wake_parked(Wake event);
	void counted_step();
	void note_running();
	void interrupt_if_overdue();
	void switch_thread(bool current_alive);
	void park(Parked *into) const;
	void unpark(const Parked &from);

	pid_t tgid_ = -1; /* the process; pid_ is the running thread */

	/* the fast recorder (fast_region.cc) */
	CleanPage clean_page() const;
	bool enter_fast(Stop *out);
	bool run_fast(Stop *out);
	bool hunt_fence(Stop *out);
	bool unwatch(RemotePtr addr, Stop *out);
	bool collect_fast(int64_t *deadline, Stop *out);
	bool enter_exact_window(Stop *out);
	bool after_window_step(const InsnInfo &insn, size_t events_before, uint64_t dirty_flushes_before, Stop *out);
	bool next_stores_pm();
	bool requeue(std::vector<int> *deferred);
	bool fast_full_window(Stop *out);
	bool fast_page_fault(const WaitStatus &w, bool *died, Stop *out);
	bool install_flush_traps();
	void mark_syscall_stops();
	bool keep_protected(Stop *out);
	bool lazy_fault(const WaitStatus &w, bool *died, Stop *out);
	bool lazy_syscall(Stop *out);
	bool take_back(std::vector<int> *deferred, bool *done, Stop *out);
	bool emulable(RemotePtr fault);
	bool emulate_store(const InsnInfo &insn);
	void check_emulated_store(size_t events_before) const;

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
	uint64_t forks_ = 0;	    /* fork, vfork and clone events (forks()) */

	/* record mode */
	Recorder recorder_;
	bool syscall_pending_ = false;

	/* fast record mode: PM protected while the region runs at full
	 * speed; after a fault, single steps while the next instruction
	 * stores to PM */
	PmProtection protection_{breakpoints_};
	FastStops stops_; /* but stops_.mprotects: protection_.calls() */
	/* a clflushopt/clwb/nt store of PM the running thread has not fenced
	 * yet (another thread's fence orders nothing of it: docs/models.md,
	 * "Threads") */
	bool flush_pending_ = false;
	bool fast_refused_ = false; /* protection failed: this region stays exact */
	/* the protection was made while every flush trapped: the pages of
	 * unflushed lines are readable */
	bool protected_trapped_ = false;
	/* calls let through with PM protected since the last region's end
	 * (fast_region.cc, "Between regions") */
	uint64_t lazy_syscalls_ = 0;
	/* while a flush waits for its fence: run to int3s on the code ahead
	 * instead of single steps (fence_hunt.h) */
	FenceHunt hunt_;
	/* the tracee may have made a system call the tracer did not see
	 * since the last region began (it ran with PTRACE_CONT, or a stop
	 * showed a call): the hunt's copies of code pages are dropped at
	 * the next (FenceHunt::region_began) */
	bool calls_unseen_ = true;
	/* every flush of the code is under a trap while a fast region runs:
	 * pages with unflushed lines stay readable */
	bool flush_trapped_ = false;
	std::vector<RemotePtr> flush_sites_; /* as last set */
	/* a store to protected PM the tracer makes itself instead of the
	 * next step (store_emulation.h): at emulate_at_ (null: none), of
	 * emulate_src_ at emulate_addr_ (a read-modify-write over the bytes
	 * emulate_old_ read there), to emulate_fd_ at emulate_offset_; the
	 * bytes written, emulated_, until the step's record shows them */
	PmFileWriter pm_files_;
	RemotePtr emulate_at_;
	StoreSource emulate_src_;
	RemotePtr emulate_addr_;
	int emulate_fd_ = -1;
	uint64_t emulate_offset_ = 0;
	uint8_t emulate_old_[8] = {};
	/* a fault at full speed at decode_fault_at_ (null: none) on
	 * decode_fault_, its instruction not decoded yet (fast_region.cc) */
	RemotePtr decode_fault_at_;
	RemotePtr decode_fault_;
	std::vector<uint8_t> emulated_;
	VectorRegs vregs_;

	CpuPin pin_;
	int cpu_ = -1;
	/* unpinned by a resume with poll, pinned again at the first stop */
	bool repin_ = false;

	/* serves the filter's notifications, also after the tracee is gone
	 * (its forked children are still under the filter) */
	std::unique_ptr<UserFileGuard> guard_;

	/* threads: the running one's extra state, and the others parked */
	std::vector<Parked> parked_;
	Scheduler sched_;
	uint32_t thread_ = 0;	       /* the running thread's number: 0 is the leader */
	uint32_t next_number_ = 1;     /* numbers in order of creation */
	bool switch_due_ = false;      /* give way at the next switch point */
	bool blocked_ = false;	       /* was interrupted waiting for a parked thread */
	Wake wake_ = Wake::AnyRun;     /* ... and what may end that wait */
	int own_stops_ = 0;	       /* SIGSTOPs of ours not yet seen */
	bool syscall_decided_ = false; /* the switch at this syscall was drawn */
	int64_t running_since_ = 0;    /* when the running thread was last resumed */
	bool sysgood_ = false;	       /* PTRACE_O_TRACESYSGOOD is set */
	RemotePtr death_rip_;	       /* a thread killed by a signal: where */
	bool death_in_region_ = false;
	WrittenPages written_pages_;
	bool written_pages_tried_ = false;
};

} /* namespace pmfit */

#endif /* PMFIT_TASK_H */
