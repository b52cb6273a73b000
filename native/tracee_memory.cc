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

} /* namespace pmfit */
