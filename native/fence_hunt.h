/*
 * fence_hunt.h -- where the fast recorder lets a region run while a flush
 * waits for its fence (docs/recording.md, "The fast recorder")
 *
 * After a clflushopt, clwb or non-temporal store of PM the recorder must
 * see the first fence-like instruction that runs (sfence, mfence, a locked
 * one, a serializing one): it orders the flush, and px86 and flushed make
 * the line durable there. Single-stepping to it cost most of a fast
 * recording (22,440 of 25,244 steps on txmap with 20 inserts). Instead, the
 * code ahead is decoded from where the tracee stands, an instruction
 * boundary: a straight line through plain instructions, direct jumps and
 * direct calls, up to a conditional branch (whose two successors are where
 * the CPU goes next) or up to an instruction that must be single-stepped:
 * a fence-like one, a return, an indirect branch, a system call, an
 * interrupt, one the recorder refuses, or one the decoder could not read.
 * A return or an indirect jump or call at rip itself goes where the
 * registers and memory say now (nothing runs before it), and the line goes
 * on there; so does an indirect jump or call anywhere on the line through
 * a fixed address in memory the program cannot write (a RELRO GOT: every
 * call through the PLT of a library linked with -z now), or on a page the
 * recorder has write-protected when it plans (WriteProtected: PM, or
 * private memory such as libpmem's .data watched for the hunt, Plan::watch
 * and PmProtection::watch): a store to the pointer faults and a kernel
 * write happens in a system call, both stops after which the caller plans
 * again from rip, where the pointer is read afresh.
 * An indirect jump or call further on through registers no instruction
 * of the plan writes (InsnInfo gpr_writes: the tracee runs only the
 * plan's lines before it stops) goes where their values at rip say:
 * through the register itself, or through memory at an address from
 * them that is write-protected or constant as above (no page is watched
 * for it); a plan that followed one through a register some line of it
 * writes is made again without (banned_).
 * A return further on goes where the path from rip proves it goes
 * (Stack): to the next instruction of a call on the path, or to what its
 * slot at or above rsp at rip holds when the plan is made, when the walk
 * knows rsp there (InsnInfo rsp_add, INSN_RSP_OTHER) and no store of the
 * path since may have reached the slot (InsnInfo stack_top, wild_write);
 * anything else stops at the return.
 * Lines from the successors are decoded the same way while the frontier
 * has room (FRONTIER nodes), and the tracee runs with an int3 on each node
 * of the frontier (Breakpoints::add_frontier; the nodes of earlier plans
 * stay in until the fence is found; a node at the start of a line this
 * plan walked whose every way out is a node needs none): every
 * instruction it runs before it stops was decoded and is no fence, and
 * the fence is stepped and recorded as by single-stepping. Every node is an instruction start: the
 * line from rip is decoded from an instruction boundary, and each node is a
 * branch target or fall-through of a decoded branch, or a decoded
 * instruction to stop at.
 *
 * The frontier used to be the four debug registers, which need no write
 * into the code; on some virtual machines (this project's, Firecracker on
 * AMD EPYC, kernel 6.18) the kernel accepts them and they never fire, and
 * the hunt ran past fences unseen (measured: DR0 on a function and DR7
 * enabling it, both PTRACE_POKEUSER calls succeeding; the child called the
 * function three times and exited without a stop).
 *
 * Only code in executable mappings the program cannot write is hunted
 * through: a frontier node in code it may rewrite at full speed makes the
 * plan a single step, so no int3 of ours is ever overwritten. Neither
 * writable nor shared, of a file the program maps nowhere shared (a
 * store through a shared mapping of the file changes the private pages
 * not copied yet: read_maps). Every
 * decoding is compared with the tracee's bytes again after a system call
 * or a region's start (epoch_). A run of straight instructions walked
 * before is taken in one step (Run) while the pages and decodings it was
 * made from stand.
 */
#ifndef PMFIT_FENCE_HUNT_H
#define PMFIT_FENCE_HUNT_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "breakpoints.h"
#include "insn.h"
#include "insn_cache.h"
#include "registers.h"
#include "remote_ptr.h"
#include "tracee_memory.h"

namespace pmfit {

class FenceHunt {
public:
	/* Plan -- what to do from an address: Run with breakpoints at
	 * addrs[0..count), Step the instruction there, or Decode the
	 * instruction at `at` first (setFlows) */
	/* FRONTIER -- most nodes of a plan's frontier: more look further
	 * ahead, fewer stops, an int3 written per new node */
	static constexpr size_t FRONTIER = 16;
	/* AHEAD_BYTES -- bytes a Decode plan's stop sends (Task::hunt_fence):
	 * the decoder learns every instruction that starts and ends in them
	 * (a line is a few dozen bytes; one stop instead of one per
	 * instruction) */
	static constexpr size_t AHEAD_BYTES = 256;

	struct Plan {
		enum class Kind { Run, Step, Decode } kind = Kind::Step;
		RemotePtr addrs[FRONTIER];
		size_t count = 0;
		RemotePtr at;
		/* a page of private writable memory holding a pointer the
		 * plan would have followed, were the page write-protected
		 * (null: none), and its own protection */
		RemotePtr watch;
		int watch_prot = 0;
	};

	/* WriteProtected -- whether every store to the 8 bytes at this
	 * address faults now (PmProtection::covers) */
	using WriteProtected = std::function<bool(RemotePtr)>;

	/* plan -- from where regs stand (instructions decoded before the
	 * mappings last changed are compared with the tracee's bytes
	 * first); the plan is good while the pages write_protected says
	 * are stay so: the caller plans again after every stop */
	Plan plan(pid_t pid, const Registers &regs, const Breakpoints &breakpoints,
		  const WriteProtected &write_protected);
	/* learn -- the decoding of the instruction at address (its bytes are
	 * read from the tracee, int3s of ours replaced by the code they
	 * hide); an address that cannot be read ends a line there */
	void learn(pid_t pid, RemotePtr address, InsnInfo info, const Breakpoints &breakpoints);
	/* know -- a run decoded before (the decode memo's, handed over
	 * before the first region): the decodings of the instructions from
	 * address on, one after the other, made from `bytes`, the
	 * AHEAD_BYTES a Decode stop there read (fewer: the rest was
	 * unreadable; none: the one FLOW_OTHER a stop learns then). A line
	 * that meets address undecoded learns them itself (learn), without
	 * a stop, when the program's code there is those bytes, readable
	 * exactly as far: the same address and the same bytes, so the
	 * decodings a stop would have learned */
	void know(RemotePtr address, std::vector<uint8_t> bytes, std::vector<InsnInfo> infos);
	/* code_bytes -- the program's bytes at [addr, addr + len) in this
	 * epoch, from the pages the plan read them on (int3s of ours shown
	 * as what they cover): what a frontier node covers, and the code
	 * between nodes (Breakpoints::set_code_bytes), without a read of
	 * their own; false where unreadable */
	bool code_bytes(pid_t pid, RemotePtr addr, size_t len, const Breakpoints &breakpoints, uint8_t *out);
	/* cached_code -- the program's bytes at [at, at + len) from the
	 * pages read in this epoch, when all of them are in code the
	 * program cannot write (which changes only by a system call, and
	 * each starts a new epoch); false otherwise, without a read */
	bool cached_code(RemotePtr at, uint8_t *out, size_t len) const;
	/* region_began -- a new region: untraced code ran since the last
	 * step, and the maps are read again before the next plan. The
	 * copies of code pages are kept when the tracer saw every system
	 * call since (calls_seen) and the ranges of code and constants the
	 * program cannot write are the same then: such code changes only
	 * by a system call (mprotect, mmap, a write to its file) */
	void region_began(bool calls_seen);
	/* mappings_changed -- a system call ran, or a new region began: read
	 * which code the program cannot write again before the next plan */
	void
	mappings_changed()
	{
		maps_stale_ = true;
		epoch_++;
		pages_.clear();
		drop_runs();
		pages_kept_ = false;
	}

private:
	/* Stack -- what a path from rip knows of the stack where it has got
	 * to: rsp then minus rsp at rip (delta), the calls on the path not
	 * returned from yet (the slot each pushed its return address to,
	 * relative to rsp at rip, that address, and the highest end of the
	 * path's writes since), and the highest end of all the path's writes
	 * relative to rsp at rip (top); lost: rsp set some other way, or a
	 * write the path cannot place (through another register) */
	struct Stack {
		/* CALLS -- calls on a path it follows; one more: lost */
		static constexpr size_t CALLS = 8;
		struct Call {
			int64_t slot;
			uint64_t back;
			int64_t top;
		};
		bool lost = false;
		int64_t delta = 0;
		int64_t top = InsnInfo::NO_STACK_WRITE;
		size_t calls = 0;
		Call call[CALLS] = {};

		bool same_frames(const Stack &other) const;
		/* covers -- whatever a walk with this Stack proved holds for
		 * a path with the other: it knows no more than the other
		 * (lost, or the same frames and writes as high or higher) */
		bool covers(const Stack &other) const;
		/* meet -- what this path and the other both know */
		void meet(const Stack &other);
		/* apply -- the instruction's writes and its move of rsp */
		void apply(const InsnInfo &insn);
		/* wrote -- the path's writes reach `end`, relative to rsp
		 * where it is now (NO_STACK_WRITE: none) */
		void wrote(int64_t end);
		/* called -- a call on the path pushed `back` where rsp is now */
		void called(uint64_t back);
		/* then -- a Run's effect (one made from a Stack at rsp 0,
		 * nothing written, no calls) applied after this path's, as
		 * its instructions one by one would have */
		void then(const Stack &run);
	};
	/* Run -- what a walk learned of the straight instructions from an
	 * address (plain ones, neither fence-like nor stepped, going on by
	 * their fall-through, a direct jump or a direct call): the first
	 * instruction after them, how many, the registers they write, and
	 * their Stack from rsp 0 at the first. Kept while their decodings
	 * and which code is safe stay the same (runs_), a walk that meets
	 * the address takes them in one step: regions 2-20 of txmap walk
	 * the lines of the first again and again */
	struct Run {
		RemotePtr end;
		size_t count = 0;
		uint32_t gpr_writes = 0;
		Stack effect;
	};
	/* Line -- how a straight line from some address ends */
	struct Line {
		enum class End { Branch, Stop, Decode, Unsafe } end;
		RemotePtr at;	   /* the branch, the instruction to stop at, or the one to decode */
		RemotePtr succ[2]; /* Branch: taken, fall-through */
		/* its first instruction, a return or indirect branch at rip,
		 * was followed where the registers say now */
		bool from_regs = false;
		/* a return was followed where the path's Stack says */
		bool relied = false;
	};
	Line walk(pid_t pid, RemotePtr start, const Breakpoints &breakpoints, const Registers *here, Stack *stack);
	bool stack_return(pid_t pid, Stack *stack, RemotePtr *target);
	const InsnInfo *lookup(pid_t pid, RemotePtr at, const Breakpoints &breakpoints);
	const InsnInfo *learn_known(pid_t pid, RemotePtr at, const Breakpoints &breakpoints);
	/* read_code -- the program's code at [at, at + len) as of this
	 * epoch, a page read once per epoch; false where unreadable */
	bool read_code(pid_t pid, RemotePtr at, uint8_t *out, size_t len, const Breakpoints &breakpoints);
	/* copy_pages -- read_code's bytes from the pages read so far alone */
	bool copy_pages(RemotePtr at, uint8_t *out, size_t len) const;
	bool safe_code(RemotePtr at, uint64_t len) const;
	bool constant_target(pid_t pid, const InsnInfo &insn, const Breakpoints &breakpoints, RemotePtr *target);
	bool register_target(pid_t pid, const InsnInfo &insn, const Breakpoints &breakpoints, RemotePtr *target);
	/* plan_all -- plan() with what it read of the tracee kept */
	Plan plan_all(pid_t pid, const Registers &regs, const Breakpoints &breakpoints,
		      const WriteProtected &write_protected);
	Plan plan_once(pid_t pid, const Registers &regs, const Breakpoints &breakpoints,
		       const WriteProtected &write_protected);
	bool pointer_at(pid_t pid, RemotePtr at, const Breakpoints &breakpoints, bool may_watch, RemotePtr *target);
	void read_maps(pid_t pid);

	/* WritableRange -- private memory the program can read and write,
	 * and its protection */
	struct WritableRange {
		uint64_t start;
		uint64_t end;
		int prot;
	};

	InsnCache flows_;
	/* runs decoded before (know), by address */
	struct KnownRun {
		std::vector<uint8_t> bytes;
		std::vector<InsnInfo> infos;
	};
	std::unordered_map<uint64_t, KnownRun> known_;
	/* [start, end) of executable mappings the program cannot write (of
	 * files it does not map shared either) */
	std::vector<std::pair<uint64_t, uint64_t>> safe_;
	/* [start, end) of memory the program can read and not write */
	std::vector<std::pair<uint64_t, uint64_t>> constant_;
	/* private writable memory, not the kernel's own pages */
	std::vector<WritableRange> writable_;
	/* the plan being made: its write_protected, and its watch */
	const WriteProtected *write_protected_ = nullptr;
	Plan *planning_ = nullptr;
	/* rsp at rip of the plan being made, and its registers there */
	uint64_t rsp_ = 0;
	const Registers *regs_ = nullptr;
	/* general registers (bit Reg - 1) the plan's lines write, those an
	 * indirect branch further on was followed through, and those it
	 * may not be followed through (written by a plan made before) */
	uint32_t plan_writes_ = 0;
	uint32_t plan_relies_ = 0;
	uint32_t banned_ = 0;
	/* whether walks follow returns by their Stack */
	bool follow_ = true;
	bool maps_stale_ = true;
	/* region_began kept pages_: dropped when read_maps finds other
	 * ranges of code or constants */
	bool pages_kept_ = false;
	/* code epochs of the hunt's own: the code of a mapping the program
	 * can neither write nor shares changes only by a system call, so a
	 * decoding stays good until the next (the recorder's epochs, bumped
	 * whenever untraced code ran, made every plan read its lines again:
	 * 87,172 reads on txmap with 20 inserts) */
	uint64_t epoch_ = 1;
	/* pages of code read since the last system call (or region start
	 * after calls unseen: region_began), int3s of ours shown as what
	 * they cover (a region's first plans compare hundreds of decodings
	 * on a few pages) */
	std::unordered_map<uint64_t, std::vector<uint8_t>> pages_;
	/* Runs by the address of their first instruction, made from
	 * decodings compared with pages_ and from safe_: dropped with any
	 * page of pages_, when safe_ changes, and when an address learns
	 * another decoding */
	std::unordered_map<uint64_t, Run> runs_;
	/* times runs_ was dropped: a Run being walked while it is (a line
	 * that learns a known run) is not kept */
	uint64_t runs_dropped_ = 0;
	void
	drop_runs()
	{
		runs_.clear();
		runs_dropped_++;
	}
	/* return slots and pointers read while one plan is made */
	WordReads words_;
};

} /* namespace pmfit */

#endif /* PMFIT_FENCE_HUNT_H */
