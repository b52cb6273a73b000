/*
 * stepper.cc -- the region state machine behind Task::resume(): breakpoints
 * at full speed outside regions, single steps inside them, events from the
 * steps
 *
 * Outside a region the tracee runs with PTRACE_CONT (PTRACE_SYSCALL while
 * a fast region left PM protected: fast_region.cc) and int3 breakpoints on
 * the region entries. Inside a region every breakpoint is out of memory and
 * the loop compares rip itself: a region may call a marker or the traced
 * function again, and an int3 met while single-stepping would only have to
 * be stepped over.
 *
 * resume() dispatches on phase_ to one function per phase; each returns true
 * with the Stop to report, or false after moving the machine on.
 */
#include "task.h"

#include <signal.h>
#include <sys/ptrace.h>

#include <cerrno>
#include <string>

#include "quirks.h"
#include "scatter.h"
#include "tracee_memory.h"

namespace pmfit {

namespace {

/* FULL_SPEED_SLICE_NS -- longest wait for a running tracee before `yield`,
 * so that JavaScript serves timeouts and Ctrl-C while a target runs */
constexpr int64_t FULL_SPEED_SLICE_NS = 100 * 1000 * 1000;
/* DECODE_BYTES -- bytes sent with a `decode` stop: the longest x86
 * instruction is 15 */
constexpr size_t DECODE_BYTES = 16;
/* TURNS_PER_CLOCK_LOOK -- turns of resume()'s loop between two looks at
 * the clock (a look costs a vDSO call; a turn that steps costs a syscall) */
constexpr uint64_t TURNS_PER_CLOCK_LOOK = 1024;

} /* namespace */

/* resume -- off the tracee's CPU only while a poll leaves it running */
Stop
Task::resume(const ResumeOptions &options)
{
	if (options.poll && pin_.pinned()) {
		pin_.release();
		repin_ = true;
	}
	Stop stop = run_to_stop(options);
	if (repin_ && stop.kind != StopKind::Yield) {
		repin_ = false;
		pin_.acquire(cpu_);
	}
	return stop;
}

Stop
Task::run_to_stop(const ResumeOptions &options)
{
	check_alive();
	if (in_flight_ == InFlight::Syscall)
		throw TaskError("resume: the system call of stepSyscall is still running");
	const Limits limits = {
		options.stop_at < 0 ? UINT64_MAX : (uint64_t)options.stop_at,
		options.max_steps < 0 ? UINT64_MAX : (uint64_t)options.max_steps,
		options.budget <= 0 ? UINT64_MAX : (uint64_t)options.budget,
		options.record,
		options.record && options.fast,
	};
	uint64_t steps = 0;
	/* poll: the first wait for a running tracee is its last */
	int64_t deadline = options.poll ? now_ns() : 0;
	Stop out;
	/* whatever state the machine is in, resume() returns within about a
	 * slice, so that JavaScript's --timeout and signals always apply: a
	 * turn that moves nothing on (a bug) would otherwise spin here with
	 * the event loop shut out */
	const int64_t slice_end = now_ns() + FULL_SPEED_SLICE_NS;
	uint64_t turns = 0;

	for (;;) {
		if (++turns % TURNS_PER_CLOCK_LOOK == 0 && now_ns() > slice_end)
			return make_stop(StopKind::Yield);
		/* a switch point of the thread schedule (threads.cc), also
		 * at the crash point: the stop is made at the next counted
		 * step, that of the thread the schedule runs, as recorded.
		 * Held back there, it left a thread outside any region (a
		 * main thread in pthread_join while stopAt was 0) resumed
		 * alone until --timeout, and changed the draws of a
		 * replaying recorder */
		if (switch_due_ && in_flight_ == InFlight::None && !syscall_pending_)
			switch_thread(true);
		bool done = false;
		switch (phase_) {
		case Phase::Dead:
			check_alive();
			break;
		case Phase::Stopped:
			done = step_over_ ? pass_breakpoint(limits, &steps, &out) : continue_full_speed(&out);
			break;
		case Phase::Running:
			done = collect_full_speed(&deadline, &out);
			break;
		case Phase::BeginMarker:
		case Phase::EndMarker:
			done = step_marker(limits, &steps, &out);
			break;
		case Phase::Entry:
			if (limits.record && !begin_reported_) {
				begin_reported_ = true;
				return make_stop(StopKind::RegionBegin);
			}
			begin_reported_ = true;
			/* untraced code ran since the last step */
			recorder_.code_may_have_changed();
			if (calls_unseen_ || multi())
				recorder_.mappings_changed();
			hunt_.region_began(!calls_unseen_ && !multi());
			calls_unseen_ = false;
			pm_files_.mappings_changed();
			phase_ = Phase::Region;
			/* fast: the first instruction is stepped, so that a
			 * region has a crash point before anything of it ran
			 * and one after, as in the exact recorder; the window
			 * closes after it (fast_region.cc). A flush that
			 * waits for its fence waits on (flush_pending_): the
			 * fences of untraced code are not in the exact trace
			 * either, and its first fence in a region is */
			fast_refused_ = false;
			break;
		case Phase::Region:
			done = step_region(limits, &steps, &out);
			break;
		case Phase::Fast:
			done = run_fast(&out);
			break;
		case Phase::FastRunning:
			done = collect_fast(&deadline, &out);
			break;
		}
		if (done)
			return out;
	}
}

/* pass_breakpoint -- rip is at a breakpoint that only has to be passed:
 * one step with every int3 out */
bool
Task::pass_breakpoint(const Limits &limits, uint64_t *steps, Stop *out)
{
	if (*steps >= limits.budget) {
		*out = make_stop(StopKind::Yield);
		return true;
	}
	breakpoints_.remove_markers(pid_);
	/* a signal is delivered with PM given back (fast_region.cc) */
	if (pending_sig_ != 0 && fast_full_window(out))
		return true;
	WaitStatus w = step(take_pending_signal());
	++*steps;
	if (w.kind() == WaitStatus::Kind::Trap) {
		step_over_ = false;
		return false;
	}
	return handle_other(w, out);
}

/* continue_full_speed -- breakpoints in, PTRACE_CONT (true when the tracee
 * died, *out) */
bool
Task::continue_full_speed(Stop *out)
{
	/* a signal is delivered with PM given back (fast_region.cc) */
	if (pending_sig_ != 0 && fast_full_window(out))
		return true;
	if (!vfork_pending_)
		breakpoints_.install_markers(pid_);
	/* with other threads, a system call is a switch point; with PM
	 * left protected by a region, it may need PM (fast_region.cc) */
	const bool protected_pm = protection_.active();
	if (protected_pm)
		mark_syscall_stops();
	const auto request = multi() || protected_pm ? PTRACE_SYSCALL : PTRACE_CONT;
	calls_unseen_ = calls_unseen_ || request == PTRACE_CONT;
	if (ptrace(request, pid_, nullptr, (void *)(long)pending_sig_) != 0 && errno != ESRCH)
		throw TaskError(syserr("PTRACE_CONT " + std::to_string(pid_), errno));
	note_running();
	pending_sig_ = 0;
	phase_ = Phase::Running;
	return false;
}

/* collect_full_speed -- the stop of a tracee running at full speed, waited
 * for until *deadline (set at the first wait of this resume()) */
bool
Task::collect_full_speed(int64_t *deadline, Stop *out)
{
	if (*deadline == 0)
		*deadline = now_ns() + FULL_SPEED_SLICE_NS;
	int status;
	if (!wait_polling(pid_, &status, *deadline)) {
		interrupt_if_overdue();
		*out = make_stop(StopKind::Yield);
		return true;
	}
	if (protection_.active() && WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80))
		return lazy_syscall(out);
	if (syscall_stop(status))
		return leader_exits_alone(regs_.entered_syscall_nr(), regs_.ip() - 2, out);
	WaitStatus w = stopped(status);
	if (!w.is_stop())
		return handle_other(w, out);
	phase_ = Phase::Stopped;
	if (w.kind() != WaitStatus::Kind::Trap)
		return handle_other(w, out);
	const Breakpoints::Breakpoint *bp = breakpoints_.find(regs_.ip() - 1);
	if (!bp || !bp->installed) {
		/* a SIGTRAP of the program's own */
		pending_sig_ = SIGTRAP;
		pending_caught_ = quirks::signal_has_handler(pid_, SIGTRAP);
		return false;
	}
	regs_.set_ip(regs_.ip() - 1);
	regs_.store(pid_);
	last_rip_ = regs_.ip();
	const bool enters = bp->kind != BreakpointKind::RegionEnd;
	hit_breakpoint(*bp);
	/* a region's entry is a switch point */
	if (enters && multi() && sched_.coin())
		switch_due_ = true;
	return false;
}

/* hit_breakpoint -- the tracee stopped on bp, rip back on its address */
void
Task::hit_breakpoint(const Breakpoints::Breakpoint &bp)
{
	PMFIT_ASSERT(bp.addr == regs_.ip() && phase_ == Phase::Stopped);
	switch (bp.kind) {
	case BreakpointKind::RegionBegin:
		breakpoints_.remove_markers(pid_);
		marker_rsp_ = regs_.sp();
		phase_ = Phase::BeginMarker;
		break;
	case BreakpointKind::RegionEnd:
		/* an end without a begin: nothing to close */
		step_over_ = true;
		break;
	case BreakpointKind::Function:
		breakpoints_.remove_markers(pid_);
		fn_rsp_ = regs_.sp();
		fn_ret_ = RemotePtr(read_word(pid_, fn_rsp_, "the return address"));
		function_mode_ = true;
		begin_reported_ = false;
		phase_ = Phase::Entry;
		break;
	case BreakpointKind::Flush:
	case BreakpointKind::Frontier:
		/* in memory only inside fast regions (leave_region) */
		step_over_ = true;
		break;
	}
}

/* step_marker -- one uncounted step through a marker function; the
 * marker has returned when rsp is back above its return address */
bool
Task::step_marker(const Limits &limits, uint64_t *steps, Stop *out)
{
	if (*steps >= limits.budget) {
		*out = make_stop(StopKind::Yield);
		return true;
	}
	/* a signal is delivered with PM given back (fast_region.cc) */
	if (pending_sig_ != 0 && fast_full_window(out))
		return true;
	WaitStatus w = step(take_pending_signal());
	++*steps;
	if (w.kind() != WaitStatus::Kind::Trap)
		return handle_other(w, out);
	if (regs_.sp() == marker_rsp_ + 8) {
		if (phase_ == Phase::BeginMarker) {
			function_mode_ = false;
			begin_reported_ = false;
			phase_ = Phase::Entry;
		} else {
			phase_ = Phase::Stopped;
		}
	}
	return false;
}

/*
 * step_region -- counted steps until the region ends or resume() must
 * return. The hot loop: one PTRACE_SINGLESTEP, waitpid and PTRACE_GETREGS
 * per instruction, compares otherwise.
 */
bool
Task::step_region(const Limits &limits, uint64_t *steps, Stop *out)
{
	for (;;) {
		/* another thread's turn, or this one ended (threads.cc) */
		if (switch_due_ || phase_ != Phase::Region)
			return false;
		const RemotePtr at = regs_.ip();
		/* a store the fast recorder makes itself: planned at the
		 * fault, for this instruction and these registers only */
		bool emulate = !emulate_at_.is_null() && emulate_at_ == at;
		emulate_at_ = RemotePtr();
		const InsnInfo *insn = nullptr;
		size_t events_before = 0;
		uint64_t dirty_flushes_before = 0;
		bool emulated = false;
		WaitStatus w;
		if (in_flight_ == InFlight::Resume) {
			/* count and crash modes: a syscall still running; the
			 * registers are still those from before it */
			if (limits.record)
				throw TaskError("resume: record mode while a count-mode step is running");
			if (!finish_step(&w)) {
				interrupt_if_overdue();
				*out = make_stop(StopKind::Blocked);
				return true;
			}
		} else {
			if (multi() && syscall_insn_at(at) && leader_exits_alone(regs_.syscall_nr(), at, out))
				return true;
			if (region_syscall_point(at))
				return false;
			if (prepare_region_step(limits, *steps, &insn, out))
				return true;
			/* a fault at full speed on code then not decoded, whose
			 * registers and memory are as they were: decoded now */
			if (!decode_fault_at_.is_null() && (insn || decode_fault_at_ != at)) {
				if (decode_fault_at_ == at && !emulate) {
					emulate = emulable(decode_fault_);
					emulate_at_ = RemotePtr();
				}
				decode_fault_at_ = RemotePtr();
			}
			if (pending_sig_ != 0 && pending_caught_) {
				if (limits.fast && fast_full_window(out))
					return true;
				/* enter the handler: a step that runs nothing but
				 * the kernel's writing of the signal frame, which
				 * belongs to the handler's first instruction
				 * (`crash` at the count now stops before it) */
				w = step(take_pending_signal());
				++*steps;
				if (w.kind() != WaitStatus::Kind::Trap && handle_other(w, out))
					return true;
				if (limits.record && w.kind() == WaitStatus::Kind::Trap)
					recorder_.signal_frame(pid_, regs_, index_ + 1);
				continue;
			}
			/* fast: an instruction that may write part of its
			 * operand before a fault (a scatter, xsave) meets no
			 * protected PM page, so that it runs in one step */
			if (limits.fast && insn->special && fast_full_window(out))
				return true;
			if (limits.record) {
				events_before = recorder_.event_bytes();
				dirty_flushes_before = recorder_.dirty_flushes();
				recorder_.before(pid_, *insn, regs_);
			}
			const int sig = take_pending_signal();
			if (!limits.record && syscall_insn_at(at)) {
				start_step(sig, InFlight::Resume);
				if (!finish_step(&w)) {
					interrupt_if_overdue();
					*out = make_stop(StopKind::Blocked);
					return true;
				}
			} else if (emulate && sig == 0 && emulate_store(*insn)) {
				emulated = true;
			} else {
				w = step(sig);
			}
		}
		++*steps;
		/* a scatter split by a page fault: its other steps belong to
		 * the same instruction (scatter.h) */
		for (int more = 0; w.kind() == WaitStatus::Kind::Trap && regs_.ip() == at && more < MAX_SCATTER_STEPS &&
				   (insn ? writes_scatter(*insn) : (kernel_entry_at(at) & INSN_SCATTER) != 0);
		     more++) {
			if (limits.record) {
				recorder_.after(pid_, *insn, regs_, at, index_ + 1);
				recorder_.before(pid_, *insn, regs_);
			}
			w = step(0);
			++*steps;
		}
		if (w.kind() != WaitStatus::Kind::Trap) {
			if (limits.fast) {
				/* the fast recorder: a fault on a protected PM
				 * page opens it, and the step is made again */
				bool died = false;
				const bool again = fast_page_fault(w, &died, out);
				if (died)
					return true;
				if (again)
					continue;
			}
			/* not executed: a syscall is asked about again */
			syscall_pending_ = false;
			if (handle_other(w, out))
				return true;
			continue;
		}
		index_++;
		counted_step();
		note_own_sigtrap(at);
		if (limits.record) {
			PMFIT_ASSERT(insn != nullptr);
			syscall_pending_ = false;
			recorder_.after(pid_, *insn, regs_, at, index_);
			if (emulated)
				check_emulated_store(events_before);
		}
		if (region_ended()) {
			/* PM stays protected for the next region */
			if (limits.fast && keep_protected(out))
				return true;
			leave_region();
			if (index_ == limits.stop_at) {
				*out = stop_at_here();
				return true;
			}
			if (limits.record) {
				*out = make_stop(StopKind::RegionEnd);
				return true;
			}
			return false;
		}
		if (limits.fast) {
			if (after_window_step(*insn, events_before, dirty_flushes_before, out))
				return true;
			if (phase_ != Phase::Region)
				return false;
		}
	}
}

/*
 * prepare_region_step -- before a counted step: true with *out set when
 * resume() returns instead (crash point, step limits, event buffer full,
 * an undecoded instruction or a syscall for JavaScript to see); in record
 * mode *insn is the instruction about to run
 */
bool
Task::prepare_region_step(const Limits &limits, uint64_t steps, const InsnInfo **insn, Stop *out)
{
	const RemotePtr at = regs_.ip();
	if (index_ == limits.stop_at) {
		*out = stop_at_here();
		return true;
	}
	if (index_ >= limits.max_steps) {
		*out = make_stop(StopKind::MaxSteps);
		out->address = at;
		return true;
	}
	if (steps >= limits.budget) {
		*out = make_stop(StopKind::Yield);
		return true;
	}
	/* a caught signal is delivered first: no instruction runs with it */
	if (!limits.record || (pending_sig_ != 0 && pending_caught_))
		return false;
	if (recorder_.buffer_full()) {
		*out = make_stop(StopKind::Buffer);
		return true;
	}
	*insn = recorder_.instruction(pid_, at, breakpoints_);
	if (!*insn) {
		*out = make_stop(StopKind::Decode);
		out->address = at;
		out->bytes.assign(DECODE_BYTES, 0);
		read_tracee(pid_, at, out->bytes.data(), DECODE_BYTES);
		breakpoints_.show_original(at, out->bytes.data(), DECODE_BYTES);
		return true;
	}
	if (((*insn)->flags & INSN_SYSCALL) && !syscall_pending_) {
		syscall_pending_ = true;
		*out = make_stop(StopKind::Syscall);
		out->address = at;
		out->nr = regs_.syscall_nr();
		for (int i = 0; i < 6; i++)
			out->args[i] = regs_.syscall_arg(i);
		return true;
	}
	return false;
}

Stop
Task::step_syscall(bool diff, bool untouched)
{
	Stop out;
	WaitStatus w;
	if (in_flight_ == InFlight::None) {
		if (phase_ != Phase::Region || !syscall_pending_)
			throw TaskError("stepSyscall: no syscall is pending");
		/* the kernel meets no protected PM page (fast_region.cc),
		 * and what it writes into PM is recorded by JavaScript,
		 * unseen by the recorder's dirty lines */
		if (diff || !untouched)
			recorder_.forget_dirty_lines();
		/* out before the kernel can unmap or rewrite the code under
		 * them; found again at the next region's start */
		if (breakpoints_.has_traps() && quirks::may_change_code(regs_.syscall_nr()))
			set_flush_sites({}, false);
		if ((diff || !untouched) && fast_full_window(&out))
			return out;
		syscall_insn_ = regs_.ip();
		/* it may map, unmap or resize a PM file */
		pm_files_.mappings_changed();
		if (diff)
			recorder_.snapshot(pid_);
		else
			recorder_.drop_snapshot();
		start_step(take_pending_signal(), InFlight::Syscall);
	} else if (in_flight_ != InFlight::Syscall) {
		throw TaskError("stepSyscall: a step of resume is still running");
	}
	for (;;) {
		if (!finish_step(&w)) {
			interrupt_if_overdue();
			return make_stop(StopKind::Blocked);
		}
		if (w.kind() != WaitStatus::Kind::GroupStop)
			break;
		start_step(0, InFlight::Syscall);
	}
	syscall_pending_ = false;
	if (w.kind() == WaitStatus::Kind::Trap) {
		index_++;
		counted_step();
		note_own_sigtrap(syscall_insn_);
		/* the kernel may have written code (read(), mmap, mprotect) */
		recorder_.code_may_have_changed();
		if (quirks::may_change_code(regs_.entered_syscall_nr()))
			recorder_.mappings_changed();
		hunt_.mappings_changed();
		if (diff)
			recorder_.emit_diff(pid_, syscall_insn_, index_);
		recorder_.drop_snapshot();
		Stop stop = make_stop(StopKind::SyscallDone);
		stop.result = regs_.syscall_result();
		return stop;
	}
	recorder_.drop_snapshot();
	if (handle_other(w, &out))
		return out;
	/* a signal came first: resume() delivers it, then asks again */
	return make_stop(StopKind::Yield);
}

/* region_ended -- after a counted step: rip is where the region ends */
bool
Task::region_ended() const
{
	if (function_mode_)
		return regs_.sp() == fn_rsp_ + 8 && regs_.ip() == fn_ret_;
	return breakpoints_.is_region_end(regs_.ip());
}

/* leave_region -- after the step that ended a region */
void
Task::leave_region()
{
	/* flush traps and the hunt's frontier are in memory only inside
	 * fast regions */
	breakpoints_.remove_traps(pid_);
	breakpoints_.clear_frontier(pid_);
	if (function_mode_) {
		phase_ = Phase::Stopped;
	} else {
		marker_rsp_ = regs_.sp();
		phase_ = Phase::EndMarker;
	}
	/* a region's exit is a switch point */
	if (multi() && sched_.coin())
		switch_due_ = true;
}

} /* namespace pmfit */
