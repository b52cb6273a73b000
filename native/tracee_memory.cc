/*
 * tracee_memory.cc -- process_vm_readv and PTRACE_PEEK/POKE on the tracee
 */
#include "tracee_memory.h"

#include <sys/ptrace.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "error.h"

namespace pmfit {

size_t
read_tracee(pid_t pid, RemotePtr addr, uint8_t *buf, size_t len)
{
	if (len == 0)
		return 0;
	struct iovec local = {buf, len};
	struct iovec remote = {reinterpret_cast<void *>(addr.as_int()), len};
	ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	size_t done = got > 0 ? (size_t)got : 0;
	while (done < len) {
		RemotePtr at = addr + done;
		RemotePtr aligned(at.as_int() & ~7ull);
		errno = 0;
		long word = ptrace(PTRACE_PEEKDATA, pid, (void *)aligned.as_int(), nullptr);
		if (errno != 0)
			break;
		size_t skip = at - aligned;
		size_t take = std::min(sizeof(word) - skip, len - done);
		memcpy(buf + done, reinterpret_cast<char *>(&word) + skip, take);
		done += take;
	}
	PMFIT_ASSERT(done <= len);
	return done;
}

uint64_t
read_word(pid_t pid, RemotePtr addr, const char *what)
{
	errno = 0;
	long word = ptrace(PTRACE_PEEKDATA, pid, (void *)addr.as_int(), nullptr);
	if (errno != 0)
		throw TaskError(syserr(std::string("cannot read ") + what + " at " + hex(addr.as_int()), errno));
	return (uint64_t)word;
}

void
poke_byte(pid_t pid, RemotePtr addr, uint8_t byte, uint8_t *old)
{
	RemotePtr aligned(addr.as_int() & ~7ull);
	unsigned shift = (unsigned)(addr - aligned) * 8;
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)aligned.as_int(), nullptr);
	if (errno != 0)
		throw TaskError(syserr("cannot read code at " + hex(addr.as_int()), errno));
	if (old)
		*old = (uint8_t)((unsigned long)word >> shift);
	unsigned long patched = ((unsigned long)word & ~(0xfful << shift)) | ((unsigned long)byte << shift);
	if (ptrace(PTRACE_POKETEXT, pid, (void *)aligned.as_int(), (void *)patched) != 0)
		throw TaskError(syserr("cannot patch code at " + hex(aligned.as_int()), errno));
}

void
WordReads::forget(uint64_t rsp)
{
	rsp_ = rsp;
	window_read_ = false;
	window_got_ = 0;
	words_.clear();
}

bool
WordReads::word(pid_t pid, RemotePtr addr, uint64_t *out)
{
	const uint64_t at = addr.as_int();
	if (at >= rsp_ && at - rsp_ <= STACK_WINDOW - sizeof(*out)) {
		if (!window_read_) {
			window_got_ = read_tracee(pid, RemotePtr(rsp_), window_, STACK_WINDOW);
			window_read_ = true;
		}
		/* past a short window (the stack's end): read alone below */
		if (at - rsp_ + sizeof(*out) <= window_got_) {
			memcpy(out, window_ + (at - rsp_), sizeof(*out));
			return true;
		}
	}
	for (const auto &known : words_) {
		if (known.first == at) {
			*out = known.second;
			return true;
		}
	}
	uint64_t word = 0;
	if (read_tracee(pid, addr, reinterpret_cast<uint8_t *>(&word), sizeof(word)) < sizeof(word))
		return false;
	words_.push_back({at, word});
	*out = word;
	return true;
}

} /* namespace pmfit */
