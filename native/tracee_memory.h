/*
 * tracee_memory.h -- reading and patching a stopped tracee's memory
 */
#ifndef PMFIT_TRACEE_MEMORY_H
#define PMFIT_TRACEE_MEMORY_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "remote_ptr.h"

namespace pmfit {

/*
 * read_tracee -- bytes of the tracee; how many could be read from the start
 *
 * process_vm_readv is one call for any length but refuses pages the tracee
 * itself may not read (for example execute-only code); PTRACE_PEEKDATA reads
 * those word by word.
 */
size_t read_tracee(pid_t pid, RemotePtr addr, uint8_t *buf, size_t len);

/* read_word -- one 8-byte word at addr; throws TaskError naming what */
uint64_t read_word(pid_t pid, RemotePtr addr, const char *what);

/* poke_byte -- replace one byte of code, through the aligned word around
 * it; the byte it replaced in *old if old is given; throws TaskError */
void poke_byte(pid_t pid, RemotePtr addr, uint8_t byte, uint8_t *old);

/*
 * WordReads -- 8-byte words of a tracee while it stays stopped: each
 * address read once, and the stack above rsp read as one window at its
 * first word. A fence hunt's plan reads the same return slots and
 * pointers along every line it walks through them, and again when it is
 * made again (txmap with 20 inserts: 8,333 reads of 8 bytes, 3,268 of
 * them distinct within a stop, 2,283 on the stack in 981 stops, all
 * within 768 bytes above the lowest). Good only while neither the
 * tracee nor the tracer changes its memory: forget() before each use.
 */
class WordReads {
public:
	/* STACK_WINDOW -- bytes above rsp read at once */
	static constexpr size_t STACK_WINDOW = 1024;

	/* forget -- the tracee may have run since: nothing read is kept,
	 * and [rsp, rsp + STACK_WINDOW) is the stack window */
	void forget(uint64_t rsp);
	/* word -- the 8 bytes at addr; false where unreadable */
	bool word(pid_t pid, RemotePtr addr, uint64_t *out);

private:
	uint64_t rsp_ = 0;
	bool window_read_ = false;
	size_t window_got_ = 0; /* readable bytes of the window */
	uint8_t window_[STACK_WINDOW] = {};
	std::vector<std::pair<uint64_t, uint64_t>> words_; /* outside it */
};

} /* namespace pmfit */

#endif /* PMFIT_TRACEE_MEMORY_H */
