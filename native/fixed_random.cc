/*
 * fixed_random.cc -- the same AT_RANDOM bytes for every traced run
 */
#include "fixed_random.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "error.h"
#include "remote_ptr.h"

namespace pmfit {

namespace {

/* The bytes every tracee gets: any fixed value serves; these spell a name. */
const char FIXED_BYTES[16] = {'p', 'm', 'f', 'i', 't', '-', 'A', 'T', '_', 'R', 'A', 'N', 'D', 'O', 'M', '!'};

/* at_random_address -- where the process's AT_RANDOM bytes are, from
 * /proc/PID/auxv; 0 when the vector has none */
RemotePtr
at_random_address(pid_t pid)
{
	std::string path = "/proc/" + std::to_string(pid) + "/auxv";
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw TaskError(syserr("cannot open " + path, errno));
	Elf64_auxv_t entry;
	uint64_t found = 0;
	ssize_t got;
	while ((got = read(fd, &entry, sizeof(entry))) == (ssize_t)sizeof(entry) && entry.a_type != AT_NULL)
		if (entry.a_type == AT_RANDOM)
			found = entry.a_un.a_val;
	int err = errno;
	close(fd);
	if (got < 0)
		throw TaskError(syserr("cannot read " + path, err));
	return RemotePtr(found);
}

} /* namespace */

void
fix_at_random(pid_t pid)
{
	RemotePtr at = at_random_address(pid);
	if (at.as_int() == 0)
		return;
	for (size_t done = 0; done < sizeof(FIXED_BYTES); done += sizeof(long)) {
		long word;
		memcpy(&word, FIXED_BYTES + done, sizeof(word));
		if (ptrace(PTRACE_POKEDATA, pid, (void *)(at + done).as_int(), (void *)word) != 0)
			throw TaskError(syserr("cannot write AT_RANDOM at " + hex((at + done).as_int()), errno));
	}
}

} /* namespace pmfit */
