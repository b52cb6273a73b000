/*
 * fast_region.cc -- the fast recorder: a region runs at full speed with its
 * PM pages inaccessible, and is single-stepped only around PM accesses
 * (docs/recording.md, "The fast recorder")
 *
 * After the region's first instruction every PM page is made read-only, or
 * PROT_NONE where a line waits for a flush (pm_protection.h), and the tracee
 * runs with PTRACE_SYSCALL. It stops where PM can change or become durable,
 * and each such stop opens a window in which the ordinary record loop
 * (stepper.cc) single-steps and records exactly as the exact recorder does:
 *
 * - a store of PM faults, and so does a load or flush of a page with a
 *   line stored since its last flush (SIGSEGV, the instruction not run):
 *   the signal is dropped, the faulting page alone is opened and the
 *   instruction runs again under single step (a page window; a step that
 *   faults on another protected page opens that one and is made again);
 *   a plain store is instead made by the tracer itself, its page left
 *   protected, and counted as a step (store_emulation.h, emulable());
 * - a system call is taken back at its entry and runs again under single
 *   step, where the recorder classifies it; every PM page is opened before
 *   it runs unless it touches no memory (a sync), so the kernel never meets
 *   a protected page and mmap/munmap/mprotect of PM are seen;
 * - a signal is delivered under single step with every PM page open (its
 *   frame may land in PM);
 * - the region's end breakpoint ends the region.
 *
 * The window closes after a step unless the next instruction is known to
 * store to PM (Task::next_stores_pm).
 * While a clflushopt, clwb or non-temporal store of PM waits for a fence
 * the tracee runs to the int3 frontier of the fence hunt
 * (fence_hunt.h), and the instruction it stops at is stepped: a fence
 * orders something only then, so the fences that run at full speed change
 * no crash state of any model. Instruction indices count the single steps,
 * so crash points are numbered by the PM accesses around them.
 *
 * Between regions: PM stays protected after a region's end, and the next
 * region begins without protecting it again (two mprotect calls of the
 * whole pool a region, ~450 us each on txmap's 16 MiB, when the program
 * does nothing with PM in between). It is given back, whole or a page,
 * only where something outside the regions needs it, which is never
 * recorded (nothing is, outside regions; the cross-check sees what
 * changed):
 *
 * - a fault on a protected page: the page opens, or every page after
 *   LAZY_OPEN_MAX of them, and the instruction runs again (a store to a
 *   watched page gives that page back for good);
 * - a system call: the tracee runs with PTRACE_SYSCALL instead of
 *   PTRACE_CONT, and every call but a few that read and write no memory
 *   and change no mapping or process (touches_no_memory) is taken back
 *   at its entry, PM given back and the call made again at full speed:
 *   so fork, vfork, clone and exec leave no child with protected PM, a
 *   thread is never created with it, read() into PM and the program's
 *   own mprotect and munmap of PM meet its own protection, and the
 *   kernel's writes at exit (robust futexes) find it;
 * - a signal, before it is delivered (its handler may touch PM);
 * - a region whose flush traps are gone (its pages of unflushed lines
 *   were left readable), or a --function region.
 */
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "injected_syscall.h"
#include "quirks.h"
#include "store_emulation.h"
#include "task.h"
#include "tracee_memory.h"

namespace pmfit {

namespace {

/* FAST_SLICE_NS -- longest wait for the running tracee before `yield` */
constexpr int64_t FAST_SLICE_NS = 100 * 1000 * 1000;
/* LAZY_OPEN_MAX -- PM pages opened one by one for faults between two
 * regions, before every page is given back instead (a program that
 * writes much PM there would otherwise stop at each page) */
constexpr size_t LAZY_OPEN_MAX = 8;
/* LAZY_SYSCALLS_MAX -- calls that touch no memory let through between
 * two regions with PM protected, each with two syscall-stops, before PM
 * is given back and the rest run without stops */
constexpr uint64_t LAZY_SYSCALLS_MAX = 16;

/* touches_no_memory -- system call nr reads and writes no memory of the
 * caller, changes no mapping, process or signal, and never restarts: it
 * may run with PM protected between regions */
bool
touches_no_memory(int64_t nr)
{
	switch (nr) {
	case SYS_close:
	case SYS_lseek:
	case SYS_msync:
	case SYS_fsync:
	case SYS_fdatasync:
	case SYS_sync:
	case SYS_syncfs:
	case SYS_sched_yield:
	case SYS_getpid:
	case SYS_gettid:
	case SYS_getppid:
		return true;
	default:
		return false;
	}
}

/* pm_fault_at -- a SIGSEGV the CPU raised for the instruction at rip, which
 * raises it again when that instruction runs again (kill() and sigqueue()
 * give si_code <= 0): true with the address it faulted on */
bool
pm_fault_at(pid_t pid, RemotePtr *addr)
{
	siginfo_t info;
	if (ptrace(PTRACE_GETSIGINFO, pid, nullptr, &info) != 0 || info.si_signo != SIGSEGV || info.si_code <= 0)
		return false;
	*addr = RemotePtr((uint64_t)(uintptr_t)info.si_addr);
	return true;
}

} /* namespace */

/* requeue -- signals stopped while the tracer ran calls in the tracee: the
 * first becomes the pending one, the others are sent again */
bool
Task::requeue(std::vector<int> *deferred)
{
	for (int sig : *deferred) {
		if (pending_sig_ == 0) {
			pending_sig_ = sig;
			pending_caught_ = quirks::signal_has_handler(pid_, sig);
		} else {
			syscall(SYS_tgkill, pid_, pid_, sig);
		}
	}
	const bool any = !deferred->empty();
	deferred->clear();
	return any;
}

/* clean_page -- a PM page the protection may leave readable: any, when
 * every flush traps (a flush of it stops there, not at a fault), else one
 * with no line waiting for a flush */
CleanPage
Task::clean_page() const
{
	if (flush_trapped_)
		return [](uint64_t) { return true; };
	return [this](uint64_t page) { return recorder_.page_clean(RemotePtr(page)); };
}

/* install_flush_traps -- the traps in memory, before the tracee runs at
 * full speed; false when the code under one changed since it first went
 * in: its sites are stale, the traps are dropped (until the next region's
 * sites) and the caller must protect PM again without them */
bool
Task::install_flush_traps()
{
	if (!flush_trapped_ || multi() || breakpoints_.install_traps(pid_))
		return true;
	set_flush_sites({}, false);
	return false;
}

/* enter_fast -- in a region, stopped, nothing pending: protect PM and go
 * on at full speed, or stay single-stepped where that cannot be done */
bool
Task::enter_fast(Stop *out)
{
	phase_ = Phase::Region;
	/* --function regions end at a return, which no breakpoint marks;
	 * several threads are stepped one at a time (threads.cc): PM left
	 * protected by an earlier region is given back */
	if ((function_mode_ || multi()) && fast_full_window(out))
		return true;
	if (fast_refused_ || function_mode_ || multi() || pending_sig_ != 0 || syscall_pending_)
		return false;
	std::vector<int> deferred;
	int status = 0;
	/* traps first: whether the pages of unflushed lines may stay
	 * readable depends on them */
	if (!install_flush_traps() && protection_.active())
		return enter_exact_window(out);
	if (protection_.active() && protected_trapped_ && !flush_trapped_) {
		/* protected in an earlier region, whose traps left the pages
		 * of unflushed lines readable: protected again without */
		if (fast_full_window(out))
			return true;
		if (pending_sig_ != 0)
			return false;
	}
	if (protection_.active()) {
		/* the end of a page window, or the start of a region after
		 * one that left PM protected: pages opened closed again */
		if (!protection_.close_pages(pid_, regs_, clean_page(), &deferred, &status))
			return handle_other(stopped(status), out);
		if (requeue(&deferred))
			return enter_exact_window(out);
		phase_ = Phase::Fast;
		return false;
	}
	switch (protection_.protect(pid_, regs_, recorder_.pm_ranges(), clean_page(), &deferred, &status)) {
	case PmProtection::Outcome::Died:
		return handle_other(stopped(status), out);
	case PmProtection::Outcome::Refused:
		fast_refused_ = true;
		requeue(&deferred);
		return false;
	case PmProtection::Outcome::Protected:
		protected_trapped_ = flush_trapped_;
		break;
	}
	if (requeue(&deferred))
		return enter_exact_window(out);
	phase_ = Phase::Fast;
	return false;
}

/* run_fast -- breakpoints in, PTRACE_SYSCALL; while a flush waits for
 * its fence, with the fence hunt's breakpoints too */
bool
Task::run_fast(Stop *out)
{
	PMFIT_ASSERT(pending_sig_ == 0);
	emulate_at_ = RemotePtr();
	decode_fault_at_ = RemotePtr();
	if (flush_pending_ && hunt_fence(out))
		return true;
	if (phase_ != Phase::Fast)
		return false; /* the hunt steps the instruction at rip */
	mark_syscall_stops();
	breakpoints_.install_markers(pid_);
	/* a trap lifted for a step goes back in; if the code under it
	 * changed, PM is protected again without traps first */
	if (!install_flush_traps())
		return enter_exact_window(out);
	if (ptrace(PTRACE_SYSCALL, pid_, nullptr, nullptr) != 0 && errno != ESRCH)
		throw TaskError(syserr("PTRACE_SYSCALL " + std::to_string(pid_), errno));
	phase_ = Phase::FastRunning;
	return false;
}

/* mark_syscall_stops -- syscall-stops say so in their status
 * (PTRACE_O_TRACESYSGOOD), before the first PTRACE_SYSCALL */
void
Task::mark_syscall_stops()
{
	if (sysgood_)
		return;
	if (ptrace(PTRACE_SETOPTIONS, pid_, nullptr, (void *)ptrace_options(true)) != 0)
		throw TaskError(syserr("PTRACE_SETOPTIONS " + std::to_string(pid_), errno));
	sysgood_ = true;
}

/* hunt_fence -- a flush waits for its fence: int3s on the frontier of the
 * code ahead (fence_hunt.h), or a decoding of it asked for (true, *out),
 * or the instruction at rip single-stepped (phase_ Region) */
bool
Task::hunt_fence(Stop *out)
{
	const FenceHunt::WriteProtected write_protected = [this](RemotePtr at) { return protection_.covers(at); };
	FenceHunt::Plan plan = hunt_.plan(pid_, regs_, breakpoints_, write_protected);
	if (!plan.watch.is_null() && protection_.active()) {
		/* a pointer in private memory: watched, it is followed */
		std::vector<int> deferred;
		int status = 0;
		bool watched = false;
		if (!protection_.watch(pid_, regs_, plan.watch, plan.watch_prot, &watched, &deferred, &status))
			return handle_other(stopped(status), out);
		if (requeue(&deferred))
			return enter_exact_window(out);
		if (watched)
			plan = hunt_.plan(pid_, regs_, breakpoints_, write_protected);
	}
	if (plan.kind == FenceHunt::Plan::Kind::Decode) {
		*out = make_stop(StopKind::Decode);
		out->address = plan.at;
		out->ahead = true;
		out->bytes.assign(FenceHunt::AHEAD_BYTES, 0);
		/* as much as is readable: what is not ends the line */
		out->bytes.resize(read_tracee(pid_, plan.at, out->bytes.data(), FenceHunt::AHEAD_BYTES));
		breakpoints_.show_original(plan.at, out->bytes.data(), out->bytes.size());
		return true;
	}
	if (plan.kind == FenceHunt::Plan::Kind::Run) {
		/* each node's page was read by the plan in this epoch: 2,620
		 * reads of one byte on txmap with 20 inserts before */
		uint8_t code[FenceHunt::FRONTIER];
		for (size_t i = 0; i < plan.count; i++) {
			if (!hunt_.code_bytes(pid_, plan.addrs[i], 1, breakpoints_, &code[i]))
				throw TaskError("cannot read code at " + hex(plan.addrs[i].as_int()));
		}
		/* a node of an earlier plan where the tracee stands would
		 * stop it before it ran anything */
		breakpoints_.add_frontier(pid_, plan.addrs, code, plan.count, regs_.ip());
		return false;
	}
	/* a single step in a page window, PM still protected */
	recorder_.code_may_have_changed();
	phase_ = Phase::Region;
	return false;
}

/* enter_exact_window -- stopped in a fast region: PM accessible again,
 * breakpoints out, single steps from here */
bool
Task::enter_exact_window(Stop *out)
{
	breakpoints_.clear_frontier(pid_);
	breakpoints_.remove_markers(pid_);
	std::vector<int> deferred;
	int status = 0;
	if (!protection_.restore(pid_, regs_, &deferred, &status))
		return handle_other(stopped(status), out);
	requeue(&deferred);
	/* untraced code ran since the last step */
	recorder_.code_may_have_changed();
	phase_ = Phase::Region;
	return false;
}

/* collect_fast -- the stop of a fast region running at full speed */
bool
Task::collect_fast(int64_t *deadline, Stop *out)
{
	if (*deadline == 0)
		*deadline = now_ns() + FAST_SLICE_NS;
	int status;
	if (!wait_polling(pid_, &status, *deadline)) {
		*out = make_stop(StopKind::Yield);
		return true;
	}
	if (WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80)) {
		breakpoints_.clear_frontier(pid_);
		phase_ = Phase::Fast;
		std::vector<int> deferred;
		bool done = false;
		if (!take_back(&deferred, &done, out))
			return done;
		/* a page window: step_syscall opens PM whole unless the call
		 * touches no memory (a sync), and takes the flush traps out
		 * before a call that may change code */
		breakpoints_.remove_markers(pid_);
		recorder_.code_may_have_changed();
		phase_ = Phase::Region;
		if (requeue(&deferred))
			return fast_full_window(out);
		return false;
	}
	WaitStatus w = stopped(status);
	if (!w.is_stop())
		return handle_other(w, out);
	phase_ = Phase::Fast;
	if (w.kind() == WaitStatus::Kind::Trap && breakpoints_.frontier_at(regs_.ip() - 1) &&
	    quirks::sigtrap_from_int3(pid_)) {
		/* the fence hunt's frontier reached: plan again from there.
		 * The node stays in until the plan's own write, which takes
		 * it out with the new nodes (one pwrite where they share a
		 * page), or the step of the instruction under it lifts it
		 * (Task::request_step) */
		stops_.frontier++;
		regs_.set_ip(regs_.ip() - 1);
		regs_.store(pid_);
		last_rip_ = regs_.ip();
		return false;
	}
	switch (w.kind()) {
	case WaitStatus::Kind::Trap: {
		const Breakpoints::Breakpoint *bp = breakpoints_.find(regs_.ip() - 1);
		if (!bp || !bp->installed) {
			pending_sig_ = SIGTRAP;
			pending_caught_ = quirks::signal_has_handler(pid_, SIGTRAP);
			return enter_exact_window(out);
		}
		const BreakpointKind kind = bp->kind;
		regs_.set_ip(regs_.ip() - 1);
		regs_.store(pid_);
		last_rip_ = regs_.ip();
		if (kind == BreakpointKind::Flush) {
			/* a flush: stepped and recorded in a window of its
			 * own, PM protected as it is */
			stops_.flush_traps++;
			recorder_.code_may_have_changed();
			phase_ = Phase::Region;
			return false;
		}
		if (kind != BreakpointKind::RegionEnd) {
			/* a marker called inside the region: stepped */
			return enter_exact_window(out);
		}
		breakpoints_.clear_frontier(pid_);
		breakpoints_.remove_markers(pid_);
		recorder_.code_may_have_changed();
		if (keep_protected(out))
			return true;
		leave_region();
		*out = make_stop(StopKind::RegionEnd);
		return true;
	}
	case WaitStatus::Kind::Signal: {
		/* a fault on protected PM: its page opens and the instruction
		 * runs again single-stepped (a page window); any other fault
		 * comes again in a full window, where other signals are
		 * delivered */
		RemotePtr addr;
		if (w.value() != SIGSEGV || !pm_fault_at(pid_, &addr)) {
			pending_sig_ = w.value();
			pending_caught_ = quirks::signal_has_handler(pid_, w.value());
			return enter_exact_window(out);
		}
		if (!protection_.covers(addr))
			return enter_exact_window(out);
		std::vector<int> deferred;
		int status = 0;
		if (protection_.watching(addr))
			return unwatch(addr, out);
		stops_.faults++;
		/* untraced code ran since the last step */
		recorder_.code_may_have_changed();
		phase_ = Phase::Region;
		if (emulable(addr))
			return false;
		/* code not decoded yet is decoded first (a `decode` stop),
		 * then emulated from this fault (step_region), or stepped:
		 * its step faults again and opens the page (fast_page_fault) */
		if (!recorder_.instruction(pid_, regs_.ip(), breakpoints_)) {
			decode_fault_at_ = regs_.ip();
			decode_fault_ = addr;
			return false;
		}
		if (!protection_.open_page(pid_, regs_, addr, &deferred, &status))
			return handle_other(stopped(status), out);
		if (requeue(&deferred))
			return fast_full_window(out);
		return false;
	}
	case WaitStatus::Kind::Event:
		if (handle_event(w.value(), out))
			return true;
		return enter_exact_window(out);
	case WaitStatus::Kind::GroupStop:
	default:
		return false;
	}
}

FastStops
Task::fast_stops() const
{
	FastStops stops = stops_;
	stops.mprotects = protection_.calls();
	return stops;
}

/* unwatch -- the program stores to a page the fence hunt watched: the page
 * gets its own protection back for good, and the store runs (its fault
 * dropped); at full speed the hunt plans again from rip first, without
 * the pointers there (true when the tracee died, *out) */
bool
Task::unwatch(RemotePtr addr, Stop *out)
{
	stops_.watch_faults++;
	std::vector<int> deferred;
	int status = 0;
	if (!protection_.unwatch(pid_, regs_, addr, &deferred, &status))
		return handle_other(stopped(status), out);
	/* the hunt's maps, read while the page was watched, show it
	 * read-only: memory the program cannot write */
	hunt_.mappings_changed();
	if (requeue(&deferred))
		return phase_ == Phase::Fast ? enter_exact_window(out) : fast_full_window(out);
	return false;
}

/* fast_full_window -- in a page window or between regions: every PM page
 * accessible again, before what needs all of them (a system call, a
 * signal); the fast loop protects them all again at the window's end, or
 * at the next region's first */
bool
Task::fast_full_window(Stop *out)
{
	if (!protection_.active())
		return false;
	std::vector<int> deferred;
	int status = 0;
	if (!protection_.restore(pid_, regs_, &deferred, &status))
		return handle_other(stopped(status), out);
	requeue(&deferred);
	return false;
}

/* keep_protected -- a fast region ends: PM stays protected for the next
 * one (the pages of a page window closed again) until something between
 * them needs it (true when the tracee died, *out) */
bool
Task::keep_protected(Stop *out)
{
	lazy_syscalls_ = 0;
	if (!protection_.active() || protection_.opened() == 0)
		return false;
	std::vector<int> deferred;
	int status = 0;
	if (!protection_.close_pages(pid_, regs_, clean_page(), &deferred, &status))
		return handle_other(stopped(status), out);
	requeue(&deferred);
	return false;
}

/* lazy_fault -- outside regions, a stop with signal w: true when it was a
 * fault on PM pages left protected (or a watched page), which is given
 * back for the instruction to run again, the signal dropped; *died when
 * the tracee died meanwhile (*out) */
bool
Task::lazy_fault(const WaitStatus &w, bool *died, Stop *out)
{
	*died = false;
	RemotePtr addr;
	if (w.value() != SIGSEGV || !protection_.active() || !pm_fault_at(pid_, &addr) || !protection_.covers(addr))
		return false;
	std::vector<int> deferred;
	int status = 0;
	bool alive;
	if (protection_.watching(addr)) {
		stops_.watch_faults++;
		alive = protection_.unwatch(pid_, regs_, addr, &deferred, &status);
	} else if (protection_.opened() < LAZY_OPEN_MAX) {
		stops_.faults++;
		alive = protection_.open_page(pid_, regs_, addr, &deferred, &status);
	} else {
		stops_.faults++;
		alive = protection_.restore(pid_, regs_, &deferred, &status);
	}
	if (!alive) {
		*died = handle_other(stopped(status), out);
		return true;
	}
	requeue(&deferred);
	return true;
}

/* lazy_syscall -- outside regions with PM protected, a syscall-stop: at
 * the entry of a call that may need PM (touches_no_memory), the call is
 * taken back and PM given back, and it runs again at full speed (true
 * when the tracee died, *out) */
bool
Task::lazy_syscall(Stop *out)
{
	phase_ = Phase::Stopped;
	struct __ptrace_syscall_info info;
	memset(&info, 0, sizeof(info));
	const bool entry = ptrace(PTRACE_GET_SYSCALL_INFO, pid_, (void *)sizeof(info), &info) > 0 &&
			   info.op == PTRACE_SYSCALL_INFO_ENTRY;
	if (!entry || (touches_no_memory((int64_t)info.entry.nr) && ++lazy_syscalls_ <= LAZY_SYSCALLS_MAX)) {
		regs_.fetch(pid_);
		last_rip_ = regs_.ip();
		return false;
	}
	std::vector<int> deferred;
	bool done = false;
	if (!take_back(&deferred, &done, out))
		return done;
	requeue(&deferred);
	return fast_full_window(out);
}

/* take_back -- at a syscall-entry stop: the call taken back, the tracee
 * stopped before its syscall instruction; false when it died meanwhile,
 * *done what handle_other made of that (true: *out) */
bool
Task::take_back(std::vector<int> *deferred, bool *done, Stop *out)
{
	stops_.syscalls++;
	TracerSyscall back = take_back_syscall(pid_, &regs_, deferred);
	if (!back.alive) {
		*done = handle_other(stopped(back.status), out);
		return false;
	}
	last_rip_ = regs_.ip();
	return true;
}

/* fast_page_fault -- a step of a page window stopped with a signal: true
 * when it was a fault on another protected PM page, now open or its store
 * to be emulated, and the step is to be made again; otherwise PM is opened
 * whole for what follows */
bool
Task::fast_page_fault(const WaitStatus &w, bool *died, Stop *out)
{
	*died = false;
	RemotePtr addr;
	if (w.kind() == WaitStatus::Kind::Signal && w.value() == SIGSEGV && protection_.active() &&
	    pm_fault_at(pid_, &addr) && protection_.covers(addr)) {
		if (protection_.watching(addr)) {
			*died = unwatch(addr, out);
			return !*died;
		}
		stops_.faults++;
		if (emulable(addr))
			return true;
		std::vector<int> deferred;
		int status = 0;
		if (!protection_.open_page(pid_, regs_, addr, &deferred, &status)) {
			*died = handle_other(stopped(status), out);
			return false;
		}
		if (requeue(&deferred))
			*died = fast_full_window(out);
		return true;
	}
	*died = fast_full_window(out);
	return false;
}

/* after_window_step -- a step of an exact window in a fast region has
 * been recorded: close the window unless the next instruction stores to
 * PM */
bool
Task::after_window_step(const InsnInfo &insn, size_t events_before, uint64_t dirty_flushes_before, Stop *out)
{
	const bool made_event = recorder_.event_bytes() != events_before;
	/* a fence orders a non-temporal store of PM, and a clflushopt or
	 * clwb of a dirty line; a flush of a clean one changes no crash
	 * state (dirty_lines.h), so its fence need not be hunted */
	if ((made_event && (insn.flags & INSN_NT_STORE)) ||
	    ((insn.flags & (INSN_CLFLUSHOPT | INSN_CLWB)) && recorder_.dirty_flushes() != dirty_flushes_before))
		flush_pending_ = true;
	if (insn.flags & (INSN_FENCE | INSN_LOCKED)) {
		flush_pending_ = false;
		breakpoints_.clear_frontier(pid_);
	}
	if (pending_sig_ != 0 || next_stores_pm())
		return false;
	return enter_fast(out);
}

/*
 * next_stores_pm -- the instruction at rip is known and writes PM where
 * the registers point now: stepping it in the window costs one stop,
 * while at full speed it faults and its page opens and closes again (two
 * more stops for the injected mprotects). The next iteration of a rep
 * string, the next store of a run. Measured on txmap with 20 inserts:
 * one quiet step after every event step (as before) made 4,565 stops,
 * none 4,044; this rule 3,987. Unknown code closes the window.
 */
bool
Task::next_stores_pm()
{
	const InsnInfo *next = recorder_.instruction(pid_, regs_.ip(), breakpoints_);
	if (!next)
		return false;
	for (const MemOperand &op : next->writes) {
		/* other kinds write where more than the operand says */
		if (op.kind != MEM_PLAIN || recorder_.in_pm(regs_.effective_address(op), op.size))
			return true;
	}
	return false;
}

/*
 * emulable -- the tracee faulted at fault on protected PM, before the
 * instruction at rip: true when the tracer makes its store itself instead
 * of opening the page (store_emulation.h), which the next turn of the
 * step loop does (emulate_store). The store must be one store_source()
 * knows, as the decoder sees it too, on the byte the CPU faulted at, all
 * of it on one protected page of one PM range that the program may
 * write, in a shared mapping of a file the tracer can write; one thread,
 * no signal waiting, none of our int3s in its bytes; and every flush under
 * a trap: without them the window's end would make the page of the line
 * stored PROT_NONE (clean_page()), so that its flush faults, and an
 * emulated store leaves the page as it is.
 */
bool
Task::emulable(RemotePtr fault)
{
	emulate_at_ = RemotePtr();
	if (!flush_trapped_ || multi() || pending_sig_ != 0 || !protection_.active())
		return false;
	const RemotePtr at = regs_.ip();
	const InsnInfo *insn = recorder_.instruction(pid_, at, breakpoints_);
	if (!insn || insn->special || insn->writes.size() != 1 || (insn->flags & ~(uint32_t)INSN_NT_STORE) != 0 ||
	    breakpoints_.covers(at, insn->length))
		return false;
	StoreSource src;
	if (!store_source(insn->code, insn->length, &src))
		return false;
	const MemOperand &op = insn->writes[0];
	if (op.kind != MEM_PLAIN || op.seg != SEG_NONE || op.size != src.size ||
	    ((insn->flags & INSN_NT_STORE) != 0) != src.non_temporal)
		return false;
	const RemotePtr addr = regs_.effective_address(op);
	const RemotePtr last = addr + (src.size - 1);
	if (last < addr || fault < addr || fault > last || addr.as_int() % src.align != 0 ||
	    (addr.as_int() ^ last.as_int()) >= 4096 || !protection_.covers(addr) || !protection_.writable(addr))
		return false;
	bool in_range = false;
	for (const PmRange &range : recorder_.pm_ranges())
		in_range = in_range || (addr >= range.start && last < range.end);
	if (!in_range || !pm_files_.target(pid_, addr, src.size, &emulate_fd_, &emulate_offset_))
		return false;
	/* the page is readable: only a store faults, flushes being trapped */
	if (src.rmw != RmwOp::None && read_tracee(pid_, addr, emulate_old_, src.size) != src.size)
		return false;
	emulate_at_ = at;
	emulate_src_ = src;
	emulate_addr_ = addr;
	return true;
}

/* emulate_store -- the store emulable() planned for insn, made: its bytes
 * in the PM file, rip past it and a read-modify-write's flags, as a step
 * would leave them; false when the file refused the write (nothing
 * changed: the caller steps insn). */
bool
Task::emulate_store(const InsnInfo &insn)
{
	const uint32_t size = emulate_src_.size;
	uint8_t bytes[StoreSource::MAX_SIZE];
	uint64_t flags = regs_.flags();
	if (emulate_src_.kind == StoreSource::Kind::Vec)
		vregs_.fetch(pid_);
	if (emulate_src_.rmw == RmwOp::None)
		store_bytes(emulate_src_, regs_, vregs_, bytes);
	else
		rmw_bytes(emulate_src_, regs_, emulate_old_, bytes, &flags);
	const ssize_t wrote = pwrite(emulate_fd_, bytes, size, (off_t)emulate_offset_);
	if (wrote != (ssize_t)size) {
		if (wrote > 0)
			throw TaskError("a store emulated at " + hex(emulate_addr_.as_int()) + " was written in part");
		pm_files_.refuse(emulate_fd_);
		return false;
	}
	emulated_.assign(bytes, bytes + size);
	regs_.set_ip(regs_.ip() + insn.length);
	regs_.set_flags(flags);
	regs_.store(pid_);
	stops_.emulated++;
	return true;
}

/*
 * check_emulated_store -- after the record of a step that emulate_store()
 * made: the record (events from events_before on) holds the bytes read
 * through the tracee's mapping (recorder.cc), which must be those written
 * to the file. The tracee's MAP_SHARED mapping shows the file's page-cache
 * page (or its DAX memory) on the filesystems PM files live on, but not on
 * every one (FUSE with direct I/O writes around the page cache): a store
 * the tracee does not see is an error, found by the read the record makes
 * anyway rather than by a second one.
 */
void
Task::check_emulated_store(size_t events_before) const
{
	if (!recorder_.holds_store(events_before, emulated_.data(), emulated_.size()))
		throw TaskError("a store emulated at " + hex(emulate_addr_.as_int()) +
				" is not in the tracee's memory");
}

} /* namespace pmfit */
