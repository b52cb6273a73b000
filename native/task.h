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
 * The numbers in the enums below are the contract with
 * harness/tracer/native.ts and harness/trace/event.ts; change them together.
 */
#ifndef PMFIT_TASK_H
#define PMFIT_TASK_H

#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "remote_ptr.h"

namespace pmfit {

/* TaskError -- a failure the caller can only report; what() is one line */
class TaskError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

struct SpawnOptions {
	std::string file;
	std::vector<std::string> argv;
	std::vector<std::string> env;
	std::string cwd;
	int cpu = -1; /* -1: leave affinity alone */
	int stdin_fd = 0;
	int stdout_fd = 1;
	int stderr_fd = 2;
};

enum class BreakpointKind : uint8_t {
	RegionBegin = 0,
	RegionEnd = 1,
	Function = 2,
};

/* InsnFlag -- native.ts InsnFlag */
enum InsnFlag : uint32_t {
	INSN_NT_STORE = 1u << 0,
	INSN_CLFLUSH = 1u << 1,
	INSN_CLFLUSHOPT = 1u << 2,
	INSN_CLWB = 1u << 3,
	INSN_FENCE = 1u << 4,
	INSN_LOCKED = 1u << 5,
	INSN_SYSCALL = 1u << 6,
	INSN_REP_STRING = 1u << 7,
	INSN_UNSUPPORTED = 1u << 8,
};

/* Reg -- native.ts Reg: x86 encoding order plus one, 0 = none, +32 = 32-bit */
enum : uint8_t {
	REG_NONE = 0,
	REG_COUNT = 17,
	REG_32 = 32,
};

enum : uint8_t {
	SEG_NONE = 0,
	SEG_FS = 1,
	SEG_GS = 2,
};

/* EventKind -- harness/trace/event.ts */
enum EventKind : uint8_t {
	EV_STORE = 1,
	EV_NT_STORE = 2,
	EV_CLFLUSH = 3,
	EV_CLFLUSHOPT = 4,
	EV_CLWB = 5,
	EV_FENCE = 6,
	EV_WRITE = 7,
	EV_SYNC = 8,
};

/* NO_FILE -- file id of events that concern no file (fences) */
constexpr uint8_t NO_FILE = 255;

struct MemOperand {
	uint8_t base = REG_NONE;
	uint8_t index = REG_NONE;
	uint8_t scale = 1;
	uint8_t seg = SEG_NONE;
	uint32_t size = 0;
	int64_t disp = 0; /* for rip-relative operands: the absolute address */
};

struct InsnInfo {
	uint32_t length = 0;
	uint32_t flags = 0;
	std::vector<MemOperand> writes;
};

/* PmRange -- [start, end) of the tracee maps file file_id at file_offset */
struct PmRange {
	RemotePtr start;
	RemotePtr end;
	uint32_t file_id = 0;
	uint64_t file_offset = 0;
};

struct ResumeOptions {
	int64_t stop_at = -1;   /* < 0: never */
	int64_t max_steps = -1; /* < 0: no limit */
	int64_t budget = 0;     /* <= 0: no limit */
	bool record = false;
};

enum class StopKind {
	Exited,
	Signaled,
	StopAt,
	MaxSteps,
	Yield,
	Blocked,
	Decode,
	Syscall,
	SyscallDone,
	RegionBegin,
	RegionEnd,
	Buffer,
	Unsupported,
};

/* Stop -- why resume() or step_syscall() returned; which fields mean
 * something depends on kind, as in native.ts NativeStop */
struct Stop {
	StopKind kind = StopKind::Yield;
	uint64_t index = 0;
	int code = 0;             /* Exited */
	int signal = 0;           /* Signaled */
	bool in_region = false;   /* Exited, Signaled, Yield, Blocked, Unsupported */
	RemotePtr address;        /* Signaled, MaxSteps, Decode, Syscall, Unsupported */
	std::vector<uint8_t> bytes; /* Decode */
	int64_t nr = 0;           /* Syscall */
	int64_t args[6] = {0, 0, 0, 0, 0, 0};
	int64_t result = 0;       /* SyscallDone */
	const char *what = "";    /* Unsupported: fork, vfork, clone, exec */
};

/* InsnCache -- instruction info by address, an open-addressing hash: the
 * record loop looks up every step, so no node allocation and one probe in
 * the common case */
class InsnCache {
public:
	InsnCache();
	const InsnInfo *find(uint64_t addr) const;
	void insert(uint64_t addr, InsnInfo info);

private:
	size_t slot(uint64_t addr) const;
	void grow();

	std::vector<uint64_t> keys_;   /* 0: empty (no code at address 0) */
	std::vector<uint32_t> values_; /* index into infos_ */
	std::vector<InsnInfo> infos_;
	unsigned shift_;
};

class Task {
public:
	/* MAX_WRITES -- memory operands of one instruction that are followed;
	 * x86 has none writing more than two */
	static constexpr size_t MAX_WRITES = 8;

	explicit Task(const SpawnOptions &options);
	~Task();
	Task(const Task &) = delete;
	Task &operator=(const Task &) = delete;

	pid_t pid() const { return pid_; }

	void set_breakpoints(BreakpointKind kind, const std::vector<RemotePtr> &addresses);
	void set_pm_ranges(std::vector<PmRange> ranges);
	void set_instruction(RemotePtr address, InsnInfo info);
	Stop resume(const ResumeOptions &options);
	Stop step_syscall(bool diff);
	std::vector<uint8_t> take_events();
	std::vector<uint8_t> read_memory(RemotePtr address, size_t length);
	void kill();

private:
	/* Phase -- where the tracee is; resume() continues from here */
	enum class Phase {
		Stopped,     /* outside regions, stopped; breakpoints go in at resume */
		Running,     /* outside regions, PTRACE_CONT issued, stop not yet collected */
		BeginMarker, /* stepping uncounted through pmfit_region_begin */
		Entry,       /* region entered, nothing of it executed yet */
		Region,      /* stepping counted */
		EndMarker,   /* stepping uncounted through pmfit_region_end */
		Dead,
	};

	struct Breakpoint {
		RemotePtr addr;
		BreakpointKind kind;
		uint8_t orig;
		bool installed;
	};

	/* What a waitpid status means for the stepping loops. */
	enum class WaitKind { Trap, Signal, GroupStop, Event, Exited, Signaled };
	struct WaitResult {
		WaitKind kind;
		int value; /* signal, exit code or PTRACE_EVENT_* */
	};

	void spawn(const SpawnOptions &options);
	WaitResult classify(int status);
	void request_step(int sig);
	WaitResult stopped(int status);
	WaitResult step(int sig);
	void start_step(int sig);
	bool finish_step(WaitResult *w);
	bool syscall_insn_at(RemotePtr at);
	int wait_blocking();
	bool wait_polling(int *status, int64_t deadline_ns);
	void get_regs();
	void ptrace_or_throw(int request, pid_t pid, uint64_t addr, uint64_t data, const char *what);

	bool in_region() const { return phase_ == Phase::Region || phase_ == Phase::Entry; }
	bool handle_other(const WaitResult &w, Stop *out);
	bool handle_event(int event, Stop *out);
	Stop make_final_exit(int code);
	Stop make_final_signal(int sig);
	Stop make_stop(StopKind kind);
	Stop stop_at_here();
	Stop kill_unsupported(const char *what, RemotePtr address);

	Breakpoint *find_breakpoint(RemotePtr addr);
	void install_all();
	void remove_all();
	void poke_byte(pid_t pid, RemotePtr addr, uint8_t byte, uint8_t *old);
	void remove_from_child(pid_t child);

	bool region_ended() const;
	void leave_region();

	size_t read_raw(RemotePtr addr, uint8_t *buf, size_t len);
	uint64_t effective_address(const MemOperand &op) const;
	void record_before(const InsnInfo &insn);
	void record_after(const InsnInfo &insn, RemotePtr insn_addr);
	void emit_store(uint8_t kind, uint64_t addr, uint64_t len, RemotePtr insn_addr);
	void emit_flush(uint8_t kind, uint64_t addr, RemotePtr insn_addr);
	void append_record(uint8_t kind, uint8_t file_id, uint32_t length, uint64_t offset,
			   RemotePtr insn_addr, const uint8_t *data);
	void emit_diff(const std::vector<std::vector<uint8_t>> &before, RemotePtr insn_addr);

	void die();
	void reap(pid_t pid);
	void release_cpu();

	pid_t pid_ = -1;
	Phase phase_ = Phase::Dead;
	struct user_regs_struct regs_ {};
	RemotePtr last_rip_;
	uint64_t index_ = 0;

	std::vector<Breakpoint> breakpoints_;
	std::vector<uint64_t> end_addrs_; /* RegionEnd entries, compared every step */
	bool vfork_pending_ = false;      /* breakpoints out until PTRACE_EVENT_VFORK_DONE */
	bool step_over_ = false;          /* rip is at a breakpoint to pass, not to hit */

	bool function_mode_ = false;
	uint64_t marker_rsp_ = 0; /* rsp at marker entry: returned when rsp == this + 8 */
	uint64_t fn_rsp_ = 0;
	uint64_t fn_ret_ = 0;
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
	bool step_in_flight_ = false;
	InsnCache syscall_insns_; /* count and crash modes: INSN_SYSCALL or 0 */
	RemotePtr syscall_insn_;                           /* step_syscall: its address */
	std::vector<std::vector<uint8_t>> syscall_before_; /* and PM before it (diff) */

	std::vector<pid_t> extras_; /* auto-attached children not yet detached */

	/* record mode */
	InsnCache insns_;
	std::vector<PmRange> ranges_;
	std::vector<uint8_t> events_;
	bool syscall_pending_ = false;
	uint64_t write_addrs_[MAX_WRITES] = {};
	uint64_t rdi_before_ = 0;
	bool df_before_ = false;

	bool pinned_ = false;
};

} /* namespace pmfit */

#endif /* PMFIT_TASK_H */
